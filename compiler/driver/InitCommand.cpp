// `rnnc init`: writes a model's parameters, initialised as its `param` declarations say, to a
// safetensors file. Seeded and deterministic: the same model, dims and seed give the same bytes.
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelCommand.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/Parameters.h"

#include <limits>

namespace rnnc::driver {
namespace {

Status initCommand(const std::vector<std::string> &args) {
  CommandLine commandLine;
  declareDimOverrides(commandLine);
  commandLine.option("--seed", "S", "seed of the initialisers (default 0)")
      .option("--dtype", "f32|f64", "element type of the parameters (default f32)")
      .option("-o", "FILE", "the safetensors file to write");
  auto path = parseCommandLine(commandLine, args,
                               "rnnc init MODEL [-D NAME=VALUE]... [--seed S] [--dtype f32|f64] "
                               "-o params.safetensors",
                               "model file");
  if (!path)
    return path.takeError();
  if (!*path)
    return Status::ok();
  auto seed = commandLine.getInt("--seed", 0, 0, std::numeric_limits<long long>::max());
  if (!seed)
    return seed.takeError();
  auto dtype = parseRealType("--dtype", commandLine.get("--dtype").value_or("f32"));
  if (!dtype)
    return dtype.takeError();
  auto output = requiredOption(commandLine, "-o");
  if (!output)
    return output.takeError();

  auto module = loadModelWithOverrides(**path, commandLine);
  if (!module)
    return module.takeError();
  auto forward = model::findGraph(**module, "forward");
  if (!forward)
    return forward.takeError();
  auto parameters = model::initializeParameters(**forward, static_cast<uint64_t>(*seed), *dtype);
  if (!parameters)
    return parameters.takeError();
  SafetensorsMetadata metadata = model::modelMetadata(**module);
  metadata["seed"] = std::to_string(*seed);
  return writeSafetensors(*output, *parameters, metadata);
}

int runInit(const std::vector<std::string> &args) {
  return runSubcommand([&] { return initCommand(args); });
}

} // namespace

RNNC_REGISTER_COMMAND("init", "write a model's initialised parameters", runInit);

} // namespace rnnc::driver
