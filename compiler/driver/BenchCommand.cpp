// `rnnc bench`: times a model's compiled kernels on a random batch (BenchmarkCase.h: parameters
// as `rnnc init` makes them, data as `rnnc data` makes them; forward = the `forward` graph,
// train = the loss and every gradient, no optimiser step) and prints one JSON object.
//
// Protocol: the first run compiles (a backend compiles a graph on its first run) and is timed on
// its own; then --warmup untimed runs, and more (at most ProductTuner::kMaxTrialCalls) while the
// runtime is still timing candidate blockings of a product shape (runtime/ProductTuning.h), so
// no timed run is a trial; then --repetitions timed runs, each one Backend::run call
// (checking the batch, converting tensors, the kernel, allocating the outputs: what a caller
// pays). The backend does not expose its compile step, so
//   compile_ms = first_run_ms - median_ms   (never below 0)
// i.e. the first run's cost beyond a steady run: compilation, or a compile-cache lookup.
#include "compiler/backend/Backend.h"
#include "compiler/driver/BenchmarkCase.h"
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelCommand.h"
#include "compiler/model/BackendRegistry.h"
#include "compiler/model/ModelLoading.h"
#include "runtime/ProductTuning.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <sstream>

namespace rnnc::driver {
namespace {

struct BenchSettings {
  BenchmarkSpec spec;
  std::string backend = "jit";
  backend::BackendOptions backendOptions;
  int threads = 1;
  int64_t warmup = 2, repetitions = 10;
};

/// The settings, or nullopt when --help was printed.
Expected<std::optional<BenchSettings>> parseBenchCommandLine(const std::vector<std::string> &args) {
  BenchSettings defaults;
  CommandLine commandLine;
  declareDimOverrides(commandLine);
  commandLine.option("--batch", "B", "examples in the batch")
      .option("--steps", "T", "steps of every time axis")
      .option("--mode", "forward|train", "forward: the forward graph; train: loss and gradients")
      .option("--threads", "N", "threads the backend may use (default 1)");
  declareBackendOption(commandLine, "jit|interp", defaults.backend);
  commandLine.option("--precision", "f32|f64", "arithmetic precision (default f32)")
      .option("--repetitions", "R",
              "timed runs (default " + std::to_string(defaults.repetitions) + ")")
      .option("--warmup", "W",
              "untimed runs after the first one (default " + std::to_string(defaults.warmup) + ")")
      .option("--seed", "S", "seed of the parameters and the random batch (default 0)")
      .option("--cpu", "NAME", "compile for this CPU, e.g. haswell (default: the host's)")
      .option("--features", "LIST", "compile with these target features, e.g. +avx2,+fma");
  auto model = parseModelCommandLine(
      commandLine, args,
      "rnnc bench MODEL [-D NAME=VALUE]... --batch B --steps T --mode forward|train "
      "[--threads N] [--backend jit|interp] [--precision f32|f64] [--repetitions R] [--warmup W] "
      "[--seed S] [--cpu NAME] [--features LIST]");
  if (!model)
    return model.takeError();
  if (!*model)
    return std::optional<BenchSettings>();

  BenchSettings settings;
  settings.spec.modelPath = (*model)->path;
  settings.spec.dims = (*model)->dims;
  for (const char *required : {"--batch", "--steps", "--mode"})
    if (auto given = requiredOption(commandLine, required); !given)
      return given.takeError();
  auto mode = parseBenchmarkMode("--mode", *commandLine.get("--mode"));
  if (!mode)
    return mode.takeError();
  settings.spec.mode = *mode;
  auto batch = commandLine.getInt("--batch", 0, 1, 1 << 20);
  if (!batch)
    return batch.takeError();
  settings.spec.batch = *batch;
  auto steps = commandLine.getInt("--steps", 0, 1, 1 << 24);
  if (!steps)
    return steps.takeError();
  settings.spec.steps = *steps;
  auto seed = commandLine.getInt("--seed", 0, 0, std::numeric_limits<long long>::max());
  if (!seed)
    return seed.takeError();
  settings.spec.seed = static_cast<uint64_t>(*seed);
  auto precision = parseRealType("--precision", commandLine.get("--precision").value_or("f32"));
  if (!precision)
    return precision.takeError();
  settings.spec.precision = *precision == DType::F64 ? ir::Precision::Double : ir::Precision::Float;
  auto threads = commandLine.getInt("--threads", defaults.threads, 1, 256);
  if (!threads)
    return threads.takeError();
  settings.threads = int(*threads);
  auto repetitions = commandLine.getInt("--repetitions", defaults.repetitions, 1, 1000000);
  if (!repetitions)
    return repetitions.takeError();
  settings.repetitions = *repetitions;
  auto warmup = commandLine.getInt("--warmup", defaults.warmup, 0, 1000000);
  if (!warmup)
    return warmup.takeError();
  settings.warmup = *warmup;
  settings.backend = commandLine.get("--backend").value_or(defaults.backend);
  settings.backendOptions.cpu = commandLine.get("--cpu").value_or("");
  settings.backendOptions.features = commandLine.get("--features").value_or("");
  return std::optional<BenchSettings>(std::move(settings));
}

/// Milliseconds of one run of `benchmark` on `backend`; the loss it computed into `loss`.
Expected<double> timedRun(const BenchmarkCase &benchmark, backend::Backend &backend, int threads,
                          std::optional<double> &loss) {
  auto start = std::chrono::steady_clock::now();
  auto outputs = benchmark.run(backend, threads);
  auto end = std::chrono::steady_clock::now();
  if (!outputs)
    return outputs.takeError();
  if (auto value = outputs->find("loss");
      value != outputs->end() && value->second.numElements() == 1) {
    Tensor converted = value->second.convert(DType::F64);
    loss = converted.values<double>()[0];
  }
  return std::chrono::duration<double, std::milli>(end - start).count();
}

/// A JSON number; NaN and infinities (not JSON) become null.
std::string jsonNumber(double value) {
  if (!std::isfinite(value))
    return "null";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

/// A JSON string of `text` (model and dim names are identifiers; escape anyway).
std::string jsonString(const std::string &text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      quoted += buffer;
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

/// The compile time by stage, summed over the graphs the backend compiled: the frontend and
/// passes (BenchmarkCase), LLVM IR generation, LLVM optimisation, machine code, linking; and the
/// module's LLVM IR instructions before and after optimisation.
std::string compileSplitJson(const BenchmarkCase &benchmark, const backend::Backend &backend) {
  backend::CompileReport total;
  bool allCached = true;
  std::vector<backend::CompileReport> reports = backend.compileReports();
  for (const backend::CompileReport &report : reports) {
    total.lowerMilliseconds += report.lowerMilliseconds;
    total.optimizeMilliseconds += report.optimizeMilliseconds;
    total.machineCodeMilliseconds += report.machineCodeMilliseconds;
    total.linkMilliseconds += report.linkMilliseconds;
    total.llvmInstructions += report.llvmInstructions;
    total.optimizedInstructions += report.optimizedInstructions;
    allCached = allCached && report.fromCache;
  }
  std::ostringstream json;
  json << "{\"frontend_ms\": " << jsonNumber(benchmark.frontendMilliseconds())
       << ", \"llvm_ir_ms\": " << jsonNumber(total.lowerMilliseconds)
       << ", \"llvm_optimize_ms\": " << jsonNumber(total.optimizeMilliseconds)
       << ", \"machine_code_ms\": " << jsonNumber(total.machineCodeMilliseconds)
       << ", \"link_ms\": " << jsonNumber(total.linkMilliseconds)
       << ", \"llvm_instructions\": " << total.llvmInstructions
       << ", \"optimized_instructions\": " << total.optimizedInstructions
       << ", \"kernels\": " << reports.size()
       << ", \"cached\": " << (!reports.empty() && allCached ? "true" : "false") << "}";
  return json.str();
}

Status benchCommand(const std::vector<std::string> &args) {
  auto parsed = parseBenchCommandLine(args);
  if (!parsed)
    return parsed.takeError();
  if (!*parsed)
    return Status::ok();
  const BenchSettings &settings = **parsed;
  auto backend = model::createBackend(settings.backend, settings.backendOptions);
  if (!backend)
    return backend.takeError();
  auto benchmark = BenchmarkCase::create(settings.spec);
  if (!benchmark)
    return benchmark.takeError();

  std::optional<double> loss;
  auto firstRun = timedRun(**benchmark, **backend, settings.threads, loss);
  if (!firstRun)
    return firstRun.takeError();
  for (int64_t run = 0; run < settings.warmup; ++run)
    if (auto time = timedRun(**benchmark, **backend, settings.threads, loss); !time)
      return time.takeError();
  int64_t tuningRuns = 0;
  for (const ProductTuner *tuner = ProductTuner::process();
       tuner && tuner->shapesOnTrial() > 0 && tuningRuns < ProductTuner::kMaxTrialCalls;
       ++tuningRuns)
    if (auto time = timedRun(**benchmark, **backend, settings.threads, loss); !time)
      return time.takeError();
  std::vector<double> times;
  for (int64_t run = 0; run < settings.repetitions; ++run) {
    auto time = timedRun(**benchmark, **backend, settings.threads, loss);
    if (!time)
      return time.takeError();
    times.push_back(*time);
  }
  std::sort(times.begin(), times.end());
  size_t middle = times.size() / 2;
  double median = times.size() % 2 ? times[middle] : (times[middle - 1] + times[middle]) / 2;

  const BenchmarkSpec &spec = settings.spec;
  std::ostringstream dims;
  for (const auto &[name, value] : (*benchmark)->module().dims())
    dims << (dims.tellp() > 0 ? ", " : "") << jsonString(name) << ": " << value;
  double tokens = double(spec.batch) * double(spec.steps);
  std::cout << "{\n"
            << "  \"model\": " << jsonString((*benchmark)->module().name()) << ",\n"
            << "  \"dims\": {" << dims.str() << "},\n"
            << "  \"batch\": " << spec.batch << ",\n"
            << "  \"steps\": " << spec.steps << ",\n"
            << "  \"mode\": \"" << benchmarkModeName(spec.mode) << "\",\n"
            << "  \"threads\": " << settings.threads << ",\n"
            << "  \"backend\": " << jsonString((*backend)->name()) << ",\n"
            << "  \"precision\": \"" << (spec.precision == ir::Precision::Double ? "f64" : "f32")
            << "\",\n"
            << "  \"seed\": " << spec.seed << ",\n"
            << "  \"warmup\": " << settings.warmup << ",\n"
            << "  \"tuning_runs\": " << tuningRuns << ",\n"
            << "  \"repetitions\": " << settings.repetitions << ",\n"
            << "  \"compile_ms\": " << jsonNumber(std::max(0.0, *firstRun - median)) << ",\n"
            << "  \"compile\": " << compileSplitJson(**benchmark, **backend) << ",\n"
            << "  \"first_run_ms\": " << jsonNumber(*firstRun) << ",\n"
            << "  \"median_ms\": " << jsonNumber(median) << ",\n"
            << "  \"min_ms\": " << jsonNumber(times.front()) << ",\n"
            << "  \"max_ms\": " << jsonNumber(times.back()) << ",\n"
            << "  \"tokens_per_s\": " << jsonNumber(tokens / (median / 1000)) << ",\n"
            << "  \"loss\": " << (loss ? jsonNumber(*loss) : "null") << "\n"
            << "}\n";
  return Status::ok();
}

int runBench(const std::vector<std::string> &args) {
  return runSubcommand([&] { return benchCommand(args); });
}

} // namespace

RNNC_REGISTER_COMMAND("bench", "time a model's compiled kernels on a random batch (JSON)",
                      runBench);

} // namespace rnnc::driver
