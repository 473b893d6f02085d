#include "compiler/driver/ModelCommand.h"

#include "compiler/model/ModelLoading.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <new>
#include <thread>

namespace rnnc::driver {

namespace {

/// The machine's hardware threads (at least 1, at most the 256 --threads allows).
int64_t allCores() {
  return std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, 256);
}

} // namespace

Expected<DType> parseRealType(const std::string &option, const std::string &text) {
  if (text == "f32")
    return DType::F32;
  if (text == "f64")
    return DType::F64;
  return Error::user("option '" + option + "' expects f32 or f64, got '" + text + "'");
}

Expected<std::optional<std::string>> parseCommandLine(CommandLine &commandLine,
                                                      const std::vector<std::string> &args,
                                                      const std::string &synopsis,
                                                      const std::string &what) {
  commandLine.flag("--help", "print this help");
  if (Status parsed = commandLine.parse(args); !parsed)
    return parsed.takeError();
  if (commandLine.has("--help")) {
    std::cout << "usage: " << synopsis << "\n\n" << commandLine.usage();
    return std::optional<std::string>();
  }
  const std::vector<std::string> &positional = commandLine.positional();
  if (positional.empty())
    return Error::user("missing " + what + "\nusage: " + synopsis);
  if (positional.size() > 1)
    return Error::user("unexpected argument '" + positional[1] + "' (only one " + what +
                       " is expected)");
  return std::optional<std::string>(positional[0]);
}

Expected<std::optional<ModelArgument>> parseModelCommandLine(CommandLine &commandLine,
                                                             const std::vector<std::string> &args,
                                                             const std::string &synopsis) {
  auto path = parseCommandLine(commandLine, args, synopsis, "model file");
  if (!path)
    return path.takeError();
  if (!*path)
    return std::optional<ModelArgument>();
  auto dims = model::parseDimOverrides(commandLine.getList("-D"));
  if (!dims)
    return dims.takeError();
  return std::optional<ModelArgument>(ModelArgument{**path, *dims});
}

Expected<std::optional<ModelArgument>>
parseInputFileCommandLine(CommandLine &commandLine, const std::vector<std::string> &args,
                          const std::string &command) {
  if (Status status = commandLine.parse(args); !status)
    return status.takeError();
  if (commandLine.has("--help")) {
    std::cout << "usage: rnnc " << command << " <file.rnn|file.rnnir> [options]\n"
              << commandLine.usage();
    return std::optional<ModelArgument>();
  }
  if (commandLine.positional().size() != 1)
    return Error::user(command + " expects one input file\n" + commandLine.usage());
  auto dims = model::parseDimOverrides(commandLine.getList("-D"));
  if (!dims)
    return dims.takeError();
  return std::optional<ModelArgument>(ModelArgument{commandLine.positional()[0], *dims});
}

Status writeOutput(const std::optional<std::string> &path, const std::string &bytes) {
  if (!path || *path == "-") {
    std::cout << bytes;
    return Status::ok();
  }
  std::ofstream out(*path, std::ios::binary);
  if (!(out << bytes) || !out.flush())
    return Error::user("cannot write '" + *path + "'");
  return Status::ok();
}

Expected<std::string> requiredOption(const CommandLine &commandLine, const std::string &name) {
  if (auto value = commandLine.get(name))
    return *value;
  return Error::user("option '" + name + "' is required");
}

void declareDimOverrides(CommandLine &commandLine, const std::string &help) {
  commandLine.listOption("-D", "NAME=VALUE", help);
}

void declareBackendOption(CommandLine &commandLine, const std::string &metavar,
                          const std::string &defaultBackend) {
  commandLine.option("--backend", metavar, "what runs the model (default " + defaultBackend + ")");
}

void declareThreadsOption(CommandLine &commandLine, const std::string &help) {
  commandLine.option("--threads", "N", help + " (default: every core)");
}

Expected<int64_t> threadCount(const CommandLine &commandLine) {
  auto threads = commandLine.getInt("--threads", allCores(), 1, 256);
  if (!threads)
    return threads.takeError();
  return int64_t(*threads);
}

void declareRenameOption(CommandLine &commandLine) {
  commandLine.listOption("--rename", "PREFIX=NEW",
                         "give the parameters whose name starts with PREFIX that start instead "
                         "(a PyTorch state_dict: --rename lstm.=; repeatable)");
}

Expected<std::vector<model::ParameterRename>> parameterRenames(const CommandLine &commandLine) {
  std::vector<model::ParameterRename> renames;
  for (const std::string &text : commandLine.getList("--rename")) {
    auto rename = model::parseParameterRename(text);
    if (!rename)
      return rename.takeError();
    renames.push_back(rename.take());
  }
  return renames;
}

Expected<std::unique_ptr<ir::Module>> loadModelWithOverrides(const std::string &path,
                                                             const CommandLine &commandLine) {
  auto dims = model::parseDimOverrides(commandLine.getList("-D"));
  if (!dims)
    return dims.takeError();
  return model::loadModule(path, *dims);
}

int runSubcommand(const std::function<Status()> &body) {
  try {
    if (Status status = body(); !status)
      return reportError(status.error());
    return 0;
  } catch (const std::bad_alloc &) {
    return reportError(Error::user("out of memory"));
  }
}

} // namespace rnnc::driver
