// rnnc_bench_suite: the shape suite of design.md §5 (ShapeSuite.h) under Google Benchmark. For
// every shape, mode (forward; train = forward + backward: the loss and every gradient) and thread
// count (1, 2) it times
//   <shape>/<mode>/threads:<n>/eigen   the hand-written Eigen BPTT (EigenRnn.h), where one exists
//   <shape>/<mode>/threads:<n>/onednn  oneDNN's RNN primitive of the cell (OneDnnRnn.h), where one
//                                      exists and the suite is built with oneDNN
//   <shape>/<mode>/threads:<n>/rnnc    rnnc's JIT kernels through Backend::run
// on the same parameters and random batch (compiler/driver/BenchmarkCase.h). The baseline rows run
// first, so the rnnc row can report the ratios in one run: counters `eigen_ms` and `onednn_ms`
// (the median of the baseline row's repetitions) and `rnnc/eigen` and `rnnc/onednn` (rnnc's time
// per iteration over it; below 1 means rnnc is faster). Compilation happens before the timed loop
// and is not timed (`rnnc bench` reports it). Before anything is timed, the baselines are checked
// to compute exactly what rnnc computes (BaselineCheck.h); the binary exits with status 1 when
// they do not.
//
// `--rnnc_cpu=NAME` (e.g. haswell) makes the JIT compile for that CPU instead of the host
// (backend::BackendOptions), so that rnnc's code for a smaller instruction set can be timed beside
// oneDNN limited with ONEDNN_MAX_CPU_ISA; the JSON context records both.
#include "bench/BaselineCheck.h"
#include "bench/EigenBaseline.h"
#include "bench/ShapeSuite.h"
#include "compiler/backend/Backend.h"
#include "compiler/driver/BenchmarkCase.h"
#include "compiler/model/BackendRegistry.h"
#include "runtime/ProductTuning.h"
#ifdef RNNC_BENCH_ONEDNN
#include "bench/OneDnnRnn.h"
#endif

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rnnc::bench {

namespace {

using driver::BenchmarkMode;

/// The suite's own command-line options (Google Benchmark's are parsed by it).
struct SuiteOptions {
  backend::BackendOptions rnnc; ///< What the JIT compiles for (--rnnc_cpu).
};

/// What the rows of one shape and mode share, made on first use: the case (parameters, batch,
/// graph), the JIT backend that compiled it, and the baselines on the same tensors. The oneDNN
/// baseline is made per thread count, after OpenMP is set to it, as a user of oneDNN would.
struct SharedCase {
  std::unique_ptr<driver::BenchmarkCase> source;
  std::unique_ptr<backend::Backend> jit;
  std::unique_ptr<EigenBaseline> eigen;
#ifdef RNNC_BENCH_ONEDNN
  std::map<int, std::unique_ptr<OneDnnBaseline>> onednn;
#endif
  std::optional<Error> failure;
};

SharedCase &sharedCase(size_t shapeIndex, BenchmarkMode mode, const SuiteOptions &options) {
  static std::map<std::pair<size_t, BenchmarkMode>, SharedCase> cases;
  auto [entry, inserted] = cases.try_emplace({shapeIndex, mode});
  SharedCase &shared = entry->second;
  if (!inserted)
    return shared;
  const SuiteShape &shape = shapeSuite()[shapeIndex];
  driver::BenchmarkSpec spec;
  spec.modelPath = shape.modelPath;
  spec.dims = shape.dims;
  spec.mode = mode;
  spec.batch = shape.batch;
  spec.steps = shape.steps;
  auto source = driver::BenchmarkCase::create(spec);
  if (!source) {
    shared.failure = source.takeError();
    return shared;
  }
  shared.source = source.take();
  if (shape.eigen != EigenBaselineKind::None) {
    auto eigen = EigenBaseline::create(shape.eigen, *shared.source);
    if (!eigen) {
      shared.failure = eigen.takeError();
      return shared;
    }
    shared.eigen = eigen.take();
  }
  auto jit = model::createBackend("jit", options.rnnc);
  if (!jit) {
    shared.failure = jit.takeError();
    return shared;
  }
  shared.jit = jit.take();
  // The first run compiles; it is not part of any measurement.
  if (auto outputs = shared.source->run(*shared.jit, 1); !outputs)
    shared.failure = outputs.takeError();
  return shared;
}

/// A baseline row's time per iteration in ms of every call of the row.
struct BaselineRuns {
  std::vector<std::pair<benchmark::IterationCount, double>> runs;
  /// The median over the calls with the most iterations: Google Benchmark first calls a row with
  /// growing iteration counts to size its loop, then every repetition runs the final count.
  double median() const {
    benchmark::IterationCount most = 0;
    for (const auto &run : runs)
      most = std::max(most, run.first);
    std::vector<double> times;
    for (const auto &[iterations, ms] : runs)
      if (iterations == most)
        times.push_back(ms);
    std::sort(times.begin(), times.end());
    size_t middle = times.size() / 2;
    return times.size() % 2 ? times[middle] : (times[middle - 1] + times[middle]) / 2;
  }
};

/// The baseline rows' runs by row name "<shape>/<mode>/threads:<n>/<baseline>".
std::map<std::string, BaselineRuns> &baselineRuns() {
  static std::map<std::string, BaselineRuns> runs;
  return runs;
}

/// The shared case of a row, or null after marking the row failed.
SharedCase *caseOrSkip(benchmark::State &state, size_t shapeIndex, BenchmarkMode mode,
                       const SuiteOptions &options) {
  SharedCase &shared = sharedCase(shapeIndex, mode, options);
  if (!shared.failure)
    return &shared;
  state.SkipWithError(shared.failure->message.c_str());
  return nullptr;
}

/// Sets the counters every row has and returns the time per iteration since `start` in ms.
double finishRow(benchmark::State &state, const SuiteShape &shape,
                 std::chrono::steady_clock::time_point start) {
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
      double(std::max<benchmark::IterationCount>(1, state.iterations()));
  state.counters["ms"] = ms;
  state.counters["tokens_per_s"] = benchmark::Counter(
      double(shape.batch * shape.steps), benchmark::Counter::kIsIterationInvariantRate);
  return ms;
}

/// Times `baseline.run()` (after one untimed run) and records the row's time as `row`'s.
void timeBaseline(benchmark::State &state, Baseline &baseline, size_t shapeIndex,
                  const std::string &row) {
  baseline.run();
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    baseline.run();
    benchmark::ClobberMemory();
  }
  double ms = finishRow(state, shapeSuite()[shapeIndex], start);
  baselineRuns()[row].runs.emplace_back(state.iterations(), ms);
}

void timeEigen(benchmark::State &state, size_t shapeIndex, BenchmarkMode mode, int threads,
               const std::string &prefix, const SuiteOptions *options) {
  SharedCase *shared = caseOrSkip(state, shapeIndex, mode, *options);
  if (!shared)
    return;
  setEigenThreads(threads);
  timeBaseline(state, *shared->eigen, shapeIndex, prefix + "/eigen");
  state.counters["eigen_threads"] = eigenThreads();
  setEigenThreads(1);
}

#ifdef RNNC_BENCH_ONEDNN
void timeOneDnn(benchmark::State &state, size_t shapeIndex, BenchmarkMode mode, int threads,
                const std::string &prefix, const SuiteOptions *options) {
  SharedCase *shared = caseOrSkip(state, shapeIndex, mode, *options);
  if (!shared)
    return;
  const int previousThreads = oneDnnThreads();
  setOneDnnThreads(threads);
  std::unique_ptr<OneDnnBaseline> &baseline = shared->onednn[threads];
  if (!baseline) {
    auto made = OneDnnBaseline::create(shapeSuite()[shapeIndex].onednn, *shared->source);
    if (!made) {
      state.SkipWithError(made.error().message.c_str());
      setOneDnnThreads(previousThreads);
      return;
    }
    baseline = made.take();
  }
  timeBaseline(state, *baseline, shapeIndex, prefix + "/onednn");
  state.counters["onednn_threads"] = oneDnnThreads();
  setOneDnnThreads(previousThreads);
}
#endif

void timeRnnc(benchmark::State &state, size_t shapeIndex, BenchmarkMode mode, int threads,
              const std::string &prefix, const SuiteOptions *options) {
  SharedCase *shared = caseOrSkip(state, shapeIndex, mode, *options);
  if (!shared)
    return;
  // Untimed: the runtime's choice of each product's blocking by measurement, once per shape and
  // process (runtime/ProductTuning.h), like the compile before it.
  for (int run = 0; ProductTuner::process() && run < ProductTuner::kMaxTrialCalls; ++run)
    if (auto outputs = shared->source->run(*shared->jit, threads); !outputs) {
      state.SkipWithError(outputs.error().message.c_str());
      return;
    }
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    auto outputs = shared->source->run(*shared->jit, threads);
    if (!outputs) {
      state.SkipWithError(outputs.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(outputs->size());
  }
  double ms = finishRow(state, shapeSuite()[shapeIndex], start);
  for (const char *baseline : {"eigen", "onednn"})
    if (auto runs = baselineRuns().find(prefix + "/" + baseline); runs != baselineRuns().end()) {
      double baselineMs = runs->second.median();
      state.counters[std::string(baseline) + "_ms"] = baselineMs;
      state.counters[std::string("rnnc/") + baseline] = ms / baselineMs;
    }
}

void registerSuite(const SuiteOptions &options) {
  for (size_t index = 0; index < shapeSuite().size(); ++index) {
    const SuiteShape &shape = shapeSuite()[index];
    for (BenchmarkMode mode : {BenchmarkMode::Forward, BenchmarkMode::Train})
      for (int threads : {1, 2}) {
        std::string prefix = shape.name + "/" + driver::benchmarkModeName(mode) +
                             "/threads:" + std::to_string(threads);
        auto configure = [](benchmark::internal::Benchmark *row) {
          row->Unit(benchmark::kMillisecond)->UseRealTime();
        };
        if (shape.eigen != EigenBaselineKind::None)
          configure(benchmark::RegisterBenchmark((prefix + "/eigen").c_str(), timeEigen, index,
                                                 mode, threads, prefix, &options));
#ifdef RNNC_BENCH_ONEDNN
        if (shape.onednn != OneDnnBaselineKind::None)
          configure(benchmark::RegisterBenchmark((prefix + "/onednn").c_str(), timeOneDnn, index,
                                                 mode, threads, prefix, &options));
#endif
        configure(benchmark::RegisterBenchmark((prefix + "/rnnc").c_str(), timeRnnc, index, mode,
                                               threads, prefix, &options));
      }
  }
}

/// Takes the suite's own options out of argv (before Google Benchmark sees the rest).
SuiteOptions takeSuiteOptions(int &argc, char **argv) {
  SuiteOptions options;
  constexpr std::string_view cpuFlag = "--rnnc_cpu=";
  int kept = 1;
  for (int index = 1; index < argc; ++index) {
    std::string_view argument = argv[index];
    if (argument.substr(0, cpuFlag.size()) == cpuFlag)
      options.rnnc.cpu = std::string(argument.substr(cpuFlag.size()));
    else
      argv[kept++] = argv[index];
  }
  argc = kept;
  return options;
}

/// What the JSON context says about the contenders: the threads of Eigen and oneDNN, the CPU
/// rnnc compiles for, whether oneDNN is built in and the instruction set limit it ran under.
void addContext(const SuiteOptions &options) {
#ifdef RNNC_BENCH_OPENMP
  benchmark::AddCustomContext("eigen_threads", "OpenMP (Eigen::setNbThreads)");
#else
  benchmark::AddCustomContext("eigen_threads",
                              "none: built without OpenMP, Eigen rows run on 1 thread");
#endif
  benchmark::AddCustomContext("rnnc_cpu", options.rnnc.cpu.empty() ? "host" : options.rnnc.cpu);
#ifdef RNNC_BENCH_ONEDNN
  benchmark::AddCustomContext("onednn", oneDnnVersion());
  benchmark::AddCustomContext("onednn_threads", "OpenMP (omp_set_num_threads)");
  benchmark::AddCustomContext("onednn_max_cpu_isa", oneDnnIsaLimit());
  benchmark::AddCustomContext("onednn_isa", oneDnnEffectiveIsa());
#else
  benchmark::AddCustomContext("onednn", "none: built without oneDNN, no oneDNN rows");
#endif
}

} // namespace

} // namespace rnnc::bench

int main(int argc, char **argv) {
  static const rnnc::bench::SuiteOptions options = rnnc::bench::takeSuiteOptions(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  // An unknown --rnnc_cpu is an error now, not a failure of every rnnc row.
  if (auto jit = rnnc::model::createBackend("jit", options.rnnc); !jit) {
    std::cerr << "rnnc_bench_suite: --rnnc_cpu: " << jit.error().message << "\n";
    return 2;
  }
  auto checked = rnnc::bench::checkBaselinesMatchRnnc(options.rnnc);
  if (!checked) {
    std::cerr << "rnnc_bench_suite: a baseline is not the computation rnnc runs: "
              << checked.error().message << "\n";
    return 1;
  }
  std::cerr << *checked;
  rnnc::bench::addContext(options);
  rnnc::bench::registerSuite(options);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
