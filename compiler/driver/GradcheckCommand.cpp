// `rnnc gradcheck`: checks the derived gradients of a model against central finite differences in
// double precision (compiler/passes/GradientCheck.h), on seeded random parameters and data with
// variable lengths in the batch. Prints the worst relative error and the tensor it belongs to;
// exits 0 only when every error is below the tolerance (1e-6) and some gradient is non-zero.
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelCommand.h"
#include "compiler/driver/PipelineFlags.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/Parameters.h"
#include "compiler/passes/GradientCheck.h"

#include <algorithm>
#include <iostream>
#include <limits>
#include <sstream>

namespace rnnc::driver {
namespace {

/// `--lengths 5,3,1`: one length per example, applied to every time axis.
Expected<std::vector<int64_t>> parseLengths(const std::string &text) {
  std::vector<int64_t> lengths;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    char *end = nullptr;
    long long value = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || value < 1 || value > (1 << 20))
      return Error::user("--lengths expects positive integers separated by commas, got '" + text +
                         "'");
    lengths.push_back(value);
  }
  if (lengths.empty())
    return Error::user("--lengths expects at least one length");
  return lengths;
}

Expected<bool> gradcheckCommand(const std::vector<std::string> &args) {
  CommandLine commandLine;
  declareDimOverrides(commandLine);
  commandLine.option("--seed", "S", "seed of the parameters and data (default 0)")
      .option("--batch", "B", "examples in the batch (default 3)")
      .option("--steps", "T", "steps of every time axis (default 4)")
      .option("--lengths", "L1,L2,...", "the length of each example (sets the batch size)")
      .option("--tolerance", "E", "largest relative error accepted (default 1e-6)");
  declarePipelineFlags(commandLine);
  auto path = parseCommandLine(commandLine, args,
                               "rnnc gradcheck MODEL [-D NAME=VALUE]... [--seed S] [--batch B] "
                               "[--steps T] [--lengths L1,L2,...] [--truncate K] "
                               "[--checkpoint K] [--tolerance E] [--report] "
                               "[--print-ir-after-all]",
                               "model file");
  if (!path)
    return path.takeError();
  if (!*path)
    return true;
  auto seed = commandLine.getInt("--seed", 0, 0, std::numeric_limits<long long>::max());
  if (!seed)
    return seed.takeError();
  auto batch = commandLine.getInt("--batch", 3, 1, 1 << 10);
  if (!batch)
    return batch.takeError();
  auto steps = commandLine.getInt("--steps", 4, 1, 1 << 10);
  if (!steps)
    return steps.takeError();
  auto pipeline = pipelineOptions(commandLine, /*backward=*/true);
  if (!pipeline)
    return pipeline.takeError();
  auto tolerance = commandLine.getReal("--tolerance", 1e-6);
  if (!tolerance)
    return tolerance.takeError();
  std::optional<std::vector<int64_t>> lengths;
  if (auto text = commandLine.get("--lengths")) {
    auto parsed = parseLengths(*text);
    if (!parsed)
      return parsed.takeError();
    lengths = parsed.take();
  }

  auto module = loadModelWithOverrides(**path, commandLine);
  if (!module)
    return module.takeError();
  auto derived = passes::runPipeline(**module, *pipeline);
  if (!derived)
    return derived.takeError();
  if (commandLine.has("--report"))
    std::cerr << derived->autodiff->summary();
  const ir::Graph &forward = *(*module)->findGraph("forward");

  auto params = model::initializeParameters(forward, static_cast<uint64_t>(*seed), DType::F64);
  if (!params)
    return params.takeError();
  model::RandomDataOptions dataOptions;
  dataOptions.batch = lengths ? static_cast<int64_t>(lengths->size()) : *batch;
  dataOptions.steps = lengths ? *std::max_element(lengths->begin(), lengths->end()) : *steps;
  dataOptions.variableLengths = !lengths;
  dataOptions.seed = static_cast<uint64_t>(*seed);
  dataOptions.realType = DType::F64;
  if (Status size = model::checkRandomDataSize(forward, dataOptions, 1 << 24); !size)
    return size.error();
  TensorMap data = model::randomData(forward, dataOptions);
  auto axisLengths = model::extractLengths(forward, data);
  if (!axisLengths)
    return axisLengths.takeError();
  if (lengths)
    for (const std::string &axis : model::timeAxes(forward))
      (*axisLengths)[axis] = *lengths;

  passes::GradientCheckOptions checkOptions;
  checkOptions.tolerance = *tolerance;
  auto report = passes::checkGradients(**module, *params, model::graphData(forward, data),
                                       *axisLengths, checkOptions);
  if (!report)
    return report.takeError();
  bool passed = report->passed(*tolerance);
  std::cout << report->summary() << (passed ? "gradcheck passed" : "gradcheck FAILED")
            << " (tolerance " << *tolerance << ")\n";
  return passed;
}

int runGradcheck(const std::vector<std::string> &args) {
  bool passed = false;
  int status = runSubcommand([&]() -> Status {
    auto result = gradcheckCommand(args);
    if (!result)
      return result.takeError();
    passed = *result;
    return Status::ok();
  });
  return status != 0 ? status : (passed ? 0 : 1);
}

} // namespace

RNNC_REGISTER_COMMAND("gradcheck",
                      "check derived gradients against finite differences (double precision)",
                      runGradcheck);

} // namespace rnnc::driver
