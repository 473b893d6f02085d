#include "compiler/driver/DriverCommon.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace rnnc::driver {

CommandLine &CommandLine::flag(const std::string &name, const std::string &help) {
  specs_[name] = {"", help, false, false};
  order_.push_back(name);
  return *this;
}

CommandLine &CommandLine::option(const std::string &name, const std::string &metavar,
                                 const std::string &help) {
  specs_[name] = {metavar, help, true, false};
  order_.push_back(name);
  return *this;
}

CommandLine &CommandLine::listOption(const std::string &name, const std::string &metavar,
                                     const std::string &help) {
  specs_[name] = {metavar, help, true, true};
  order_.push_back(name);
  return *this;
}

Status CommandLine::parse(const std::vector<std::string> &args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    if (arg.size() < 2 || arg[0] != '-' || arg == "--") {
      if (arg == "--") {
        positional_.insert(positional_.end(), args.begin() + i + 1, args.end());
        break;
      }
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg, value;
    bool hasInlineValue = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      hasInlineValue = true;
    } else if (arg.rfind("--", 0) != 0 && arg.size() > 2 && !specs_.count(arg)) {
      // Short option glued to its value: -DH=512, -ofile.
      name = arg.substr(0, 2);
      value = arg.substr(2);
      hasInlineValue = true;
    }
    auto spec = specs_.find(name);
    if (spec == specs_.end())
      return Error::user("unknown option '" + name + "'\n" + usage());
    if (!spec->second.takesValue) {
      if (hasInlineValue)
        return Error::user("option '" + name + "' takes no value");
      values_[name].push_back("");
      continue;
    }
    if (!hasInlineValue) {
      if (i + 1 >= args.size())
        return Error::user("option '" + name + "' needs a value (" + spec->second.metavar + ")");
      value = args[++i];
    }
    if (!spec->second.repeatable && values_.count(name))
      return Error::user("option '" + name + "' given more than once");
    values_[name].push_back(value);
  }
  return Status::ok();
}

bool CommandLine::has(const std::string &name) const { return values_.count(name) != 0; }

std::optional<std::string> CommandLine::get(const std::string &name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty())
    return std::nullopt;
  return it->second.back();
}

const std::vector<std::string> &CommandLine::getList(const std::string &name) const {
  static const std::vector<std::string> empty;
  auto it = values_.find(name);
  return it == values_.end() ? empty : it->second;
}

Expected<long long> CommandLine::getInt(const std::string &name, long long defaultValue,
                                        long long min, long long max) const {
  auto text = get(name);
  if (!text)
    return defaultValue;
  errno = 0;
  char *end = nullptr;
  long long value = std::strtoll(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || errno == ERANGE)
    return Error::user("option '" + name + "' expects an integer, got '" + *text + "'");
  if (value < min || value > max)
    return Error::user("option '" + name + "' must be in [" + std::to_string(min) + ", " +
                       std::to_string(max) + "], got " + *text);
  return value;
}

Expected<double> CommandLine::getReal(const std::string &name, double defaultValue) const {
  auto text = get(name);
  if (!text)
    return defaultValue;
  errno = 0;
  char *end = nullptr;
  double value = std::strtod(text->c_str(), &end);
  if (text->empty() || *end != '\0' || errno == ERANGE)
    return Error::user("option '" + name + "' expects a number, got '" + *text + "'");
  return value;
}

std::string CommandLine::usage() const {
  std::ostringstream out;
  out << "options:\n";
  for (const auto &name : order_) {
    const Spec &spec = specs_.at(name);
    std::string left = name + (spec.takesValue ? " " + spec.metavar : "");
    out << "  " << left << std::string(left.size() < 24 ? 24 - left.size() : 1, ' ') << spec.help
        << "\n";
  }
  return out.str();
}

std::map<std::string, CommandInfo> &commandRegistry() {
  static std::map<std::string, CommandInfo> registry;
  return registry;
}

int reportError(const Error &error) {
  // Located diagnostics already read "file:line:col: error: ..."; other errors get the tool
  // name so a script can tell where they came from.
  bool located = error.message.find(": error: ") != std::string::npos;
  if (located)
    std::cerr << error.message;
  else
    std::cerr << "rnnc: error: " << error.message;
  if (error.message.empty() || error.message.back() != '\n')
    std::cerr << "\n";
  return 1;
}

} // namespace rnnc::driver
