// The command line shared by the subcommands that work on a model (init, data, run, gradcheck,
// dump, sample, train, bench, compile …): one positional model argument, `--help`, the `-D`
// dim overrides, and running the subcommand's body with its errors reported one way.
#pragma once

#include "compiler/driver/DriverCommon.h"
#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rnnc::driver {

/// A real element type as written on the command line: "f32" or "f64".
Expected<DType> parseRealType(const std::string &option, const std::string &text);

/// Declares `--help`, parses `args` and checks there is exactly one positional argument (`what`
/// names it in the error). Returns the positional argument, or nullopt after printing `synopsis`
/// and the options to stdout for `--help`.
Expected<std::optional<std::string>> parseCommandLine(CommandLine &commandLine,
                                                      const std::vector<std::string> &args,
                                                      const std::string &synopsis,
                                                      const std::string &what);

/// The value of an option the subcommand cannot do without.
Expected<std::string> requiredOption(const CommandLine &commandLine, const std::string &name);

/// Declares `-D NAME=VALUE`, the dim overrides of a model file.
void declareDimOverrides(CommandLine &commandLine);

/// Loads the model at `path` with the `-D` overrides of `commandLine`.
Expected<std::unique_ptr<ir::Module>> loadModelWithOverrides(const std::string &path,
                                                             const CommandLine &commandLine);

/// Runs a subcommand's body: an Error (or running out of memory) is reported and gives exit
/// status 1, success 0.
int runSubcommand(const std::function<Status()> &body);

} // namespace rnnc::driver
