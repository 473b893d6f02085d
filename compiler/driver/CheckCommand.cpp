// `rnnc check model.rnn [-D NAME=VALUE]...`: parses and checks a model, prints
// "<model>: ok" or the diagnostics (exit status 1).
#include "compiler/driver/DriverCommon.h"
#include "compiler/frontend/Frontend.h"
#include "compiler/model/ModelLoading.h"

#include <iostream>

namespace rnnc::driver {
namespace {

int runCheck(const std::vector<std::string> &args) {
  CommandLine commandLine;
  commandLine.flag("--help", "show this help")
      .listOption("-D", "NAME=VALUE", "override a dim of the model (repeatable)");
  if (Status status = commandLine.parse(args); !status)
    return reportError(status.error());
  if (commandLine.has("--help")) {
    std::cout << "usage: rnnc check model.rnn [-D NAME=VALUE]...\n\n" << commandLine.usage();
    return 0;
  }
  if (commandLine.positional().size() != 1)
    return reportError(Error::user("check expects one model file\nusage: rnnc check model.rnn "
                                   "[-D NAME=VALUE]..."));
  auto dims = model::parseDimOverrides(commandLine.getList("-D"));
  if (!dims)
    return reportError(dims.error());
  auto model = frontend::parseAndCheckModelFile(commandLine.positional().front(), *dims);
  if (!model)
    return reportError(model.error());
  std::cout << (*model)->name << ": ok\n";
  return 0;
}

} // namespace

RNNC_REGISTER_COMMAND("check", "parse and check a model file", runCheck);

} // namespace rnnc::driver
