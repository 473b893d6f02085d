// Shared pieces of the `rnnc` driver: the subcommand registry and a small, strict command-line
// parser. Each subcommand lives in its own <Name>Command.cpp and registers itself with
// RNNC_REGISTER_COMMAND; main.cpp only dispatches.
#pragma once

#include "runtime/Error.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rnnc::driver {

/// Parsed command line of one subcommand. Options are declared up front so that an unknown
/// flag, a missing value or a repeated single-valued flag is a user error, never ignored.
class CommandLine {
public:
  /// A flag that takes no value (`--grad`).
  CommandLine &flag(const std::string &name, const std::string &help);
  /// An option with one value (`-o FILE`, `--seed S`, `--seed=S`).
  CommandLine &option(const std::string &name, const std::string &metavar,
                      const std::string &help);
  /// An option that may be repeated (`-D NAME=VALUE`, also written `-DNAME=VALUE`).
  CommandLine &listOption(const std::string &name, const std::string &metavar,
                          const std::string &help);

  /// Parses argv of the subcommand (without the program and subcommand names).
  Status parse(const std::vector<std::string> &args);

  bool has(const std::string &name) const;
  std::optional<std::string> get(const std::string &name) const;
  const std::vector<std::string> &getList(const std::string &name) const;
  const std::vector<std::string> &positional() const { return positional_; }

  /// Integer option in [min, max]; a malformed value is a user error naming the flag.
  Expected<long long> getInt(const std::string &name, long long defaultValue, long long min,
                             long long max) const;
  Expected<double> getReal(const std::string &name, double defaultValue) const;

  std::string usage() const;

private:
  struct Spec {
    std::string metavar, help;
    bool takesValue = false, repeatable = false;
  };
  std::map<std::string, Spec> specs_;
  std::vector<std::string> order_;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

using CommandFn = std::function<int(const std::vector<std::string> &args)>;
struct CommandInfo {
  std::string summary;
  CommandFn run;
};
std::map<std::string, CommandInfo> &commandRegistry();

struct CommandRegistration {
  CommandRegistration(const std::string &name, const std::string &summary, CommandFn run) {
    commandRegistry()[name] = {summary, std::move(run)};
  }
};

/// Prints an error the way every subcommand does (message to stderr; "rnnc: error: " prefix
/// unless the message is already a located diagnostic) and returns exit status 1.
int reportError(const Error &error);

} // namespace rnnc::driver

#define RNNC_REGISTER_COMMAND(name, summary, fn)                                                  \
  static ::rnnc::driver::CommandRegistration rnncCommandRegistration_##fn(name, summary, fn)
