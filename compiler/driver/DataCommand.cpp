// `rnnc data`: writes a random batch for a model (its inputs and targets, and per-axis lengths
// on request) to a safetensors file, for trying a model out and for tests. Seeded and
// deterministic; the layout is ModelData.h's, which `rnnc run` reads, or with --dataset a data
// set's (Dataset.h: examples first, with lengths), which `rnnc train --data` reads.
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelCommand.h"
#include "compiler/model/Dataset.h"
#include "compiler/model/ModelData.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>

namespace rnnc::driver {
namespace {

/// No tensor of a random batch may exceed this many elements (1 GiB of F32).
constexpr int64_t kMaxDataElements = int64_t(1) << 28;
constexpr long long kMaxSteps = 1 << 24;

/// Parses one `--axis-steps AXIS=T` into `options`, checking the axis against the model.
Status parseAxisSteps(const std::string &definition, const std::vector<std::string> &axes,
                      model::RandomDataOptions &options) {
  auto eq = definition.find('=');
  if (eq == std::string::npos)
    return Error::user("--axis-steps expects AXIS=T, got '" + definition + "'");
  std::string axis = definition.substr(0, eq);
  if (std::find(axes.begin(), axes.end(), axis) == axes.end()) {
    std::string known;
    for (const std::string &name : axes)
      known += (known.empty() ? "" : ", ") + name;
    return Error::user("--axis-steps: the model has no time axis '" + axis +
                       "' (its axes: " + (known.empty() ? "none" : known) + ")");
  }
  std::string text = definition.substr(eq + 1);
  errno = 0;
  char *end = nullptr;
  long long steps = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || steps < 1 || steps > kMaxSteps)
    return Error::user("--axis-steps " + axis + ": steps must be an integer in [1, " +
                       std::to_string(kMaxSteps) + "], got '" + text + "'");
  options.stepsPerAxis[axis] = steps;
  return Status::ok();
}

Status dataCommand(const std::vector<std::string> &args) {
  model::RandomDataOptions defaults;
  CommandLine commandLine;
  declareDimOverrides(commandLine);
  commandLine
      .option("--batch", "B",
              "examples in the batch (default " + std::to_string(defaults.batch) + ")")
      .option("--steps", "T",
              "steps of every time axis (default " + std::to_string(defaults.steps) + ")")
      .listOption("--axis-steps", "AXIS=T", "steps of one time axis (repeatable)")
      .flag("--lengths", "also write lengths that differ within the batch")
      .flag("--dataset", "write a data set for rnnc train --data: examples first [B, T, ...], "
                         "with lengths")
      .option("--seed", "S", "seed of the random values (default 0)")
      .option("--dtype", "f32|f64", "element type of real values (default f32)")
      .option("-o", "FILE", "the safetensors file to write");
  auto path = parseCommandLine(commandLine, args,
                               "rnnc data MODEL [-D NAME=VALUE]... [--batch B] [--steps T] "
                               "[--axis-steps AXIS=T]... [--lengths] [--dataset] [--seed S] "
                               "[--dtype f32|f64] "
                               "-o inputs.safetensors",
                               "model file");
  if (!path)
    return path.takeError();
  if (!*path)
    return Status::ok();
  model::RandomDataOptions options;
  auto batch = commandLine.getInt("--batch", defaults.batch, 1, 1 << 20);
  if (!batch)
    return batch.takeError();
  auto steps = commandLine.getInt("--steps", defaults.steps, 1, kMaxSteps);
  if (!steps)
    return steps.takeError();
  auto seed = commandLine.getInt("--seed", 0, 0, std::numeric_limits<long long>::max());
  if (!seed)
    return seed.takeError();
  auto realType = parseRealType("--dtype", commandLine.get("--dtype").value_or("f32"));
  if (!realType)
    return realType.takeError();
  auto output = requiredOption(commandLine, "-o");
  if (!output)
    return output.takeError();
  options.batch = *batch;
  options.steps = *steps;
  options.seed = static_cast<uint64_t>(*seed);
  options.realType = *realType;
  bool dataset = commandLine.has("--dataset");
  options.variableLengths = dataset || commandLine.has("--lengths");

  auto module = loadModelWithOverrides(**path, commandLine);
  if (!module)
    return module.takeError();
  auto forward = model::findGraph(**module, "forward");
  if (!forward)
    return forward.takeError();
  std::vector<std::string> axes = model::timeAxes(**forward);
  for (const std::string &definition : commandLine.getList("--axis-steps"))
    if (Status parsed = parseAxisSteps(definition, axes, options); !parsed)
      return parsed;
  if (Status size = model::checkRandomDataSize(**forward, options, kMaxDataElements); !size)
    return size;
  SafetensorsMetadata metadata = model::modelMetadata(**module);
  metadata["seed"] = std::to_string(*seed);
  TensorMap data = model::randomData(**forward, options);
  return writeSafetensors(*output, dataset ? model::examplesFirst(**forward, std::move(data)) : data,
                          metadata);
}

int runData(const std::vector<std::string> &args) {
  return runSubcommand([&] { return dataCommand(args); });
}

} // namespace

RNNC_REGISTER_COMMAND("data", "write a random batch of inputs and targets for a model", runData);

} // namespace rnnc::driver
