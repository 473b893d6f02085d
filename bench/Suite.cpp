// rnnc_bench_suite: the shape suite of design.md §5 (ShapeSuite.h) under Google Benchmark. For
// every shape, mode (forward; train = forward + backward: the loss and every gradient) and thread
// count (1, 2) it times
//   <shape>/<mode>/threads:<n>/eigen   the hand-written Eigen BPTT (EigenRnn.h), where one exists
//   <shape>/<mode>/threads:<n>/rnnc    rnnc's JIT kernels through Backend::run
// on the same parameters and random batch (compiler/driver/BenchmarkCase.h). The Eigen row runs
// first, so the rnnc row can report the ratio in one run: counters `eigen_ms` (the median of the
// Eigen row's repetitions) and `rnnc/eigen` (rnnc's time per iteration over it; below 1 means
// rnnc is faster). Compilation happens before the timed loop and is not timed (`rnnc bench`
// reports it). Before anything is timed, the baselines are checked to compute exactly what rnnc
// computes (BaselineCheck.h); the binary exits with status 1 when they do not.
#include "bench/BaselineCheck.h"
#include "bench/EigenBaseline.h"
#include "bench/ShapeSuite.h"
#include "compiler/backend/Backend.h"
#include "compiler/driver/BenchmarkCase.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rnnc::bench {

namespace {

using driver::BenchmarkMode;

/// What the rows of one shape and mode share, made on first use: the case (parameters, batch,
/// graph), the JIT backend that compiled it, and the Eigen baseline on the same tensors.
struct SharedCase {
  std::unique_ptr<driver::BenchmarkCase> source;
  std::unique_ptr<backend::Backend> jit;
  std::unique_ptr<EigenBaseline> eigen;
  std::optional<Error> failure;
};

SharedCase &sharedCase(size_t shapeIndex, BenchmarkMode mode) {
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
  auto jit = backend::createBackend("jit");
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

/// The Eigen row's time per iteration in ms of every call of one row.
struct EigenRuns {
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

/// The Eigen rows' runs by row name prefix "<shape>/<mode>/threads:<n>".
std::map<std::string, EigenRuns> &eigenRuns() {
  static std::map<std::string, EigenRuns> runs;
  return runs;
}

/// The shared case of a row, or null after marking the row failed.
SharedCase *caseOrSkip(benchmark::State &state, size_t shapeIndex, BenchmarkMode mode) {
  SharedCase &shared = sharedCase(shapeIndex, mode);
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

void timeEigen(benchmark::State &state, size_t shapeIndex, BenchmarkMode mode, int threads,
               const std::string &prefix) {
  SharedCase *shared = caseOrSkip(state, shapeIndex, mode);
  if (!shared)
    return;
  setEigenThreads(threads);
  shared->eigen->run();
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    shared->eigen->run();
    benchmark::ClobberMemory();
  }
  double ms = finishRow(state, shapeSuite()[shapeIndex], start);
  eigenRuns()[prefix].runs.emplace_back(state.iterations(), ms);
  state.counters["eigen_threads"] = eigenThreads();
  setEigenThreads(1);
}

void timeRnnc(benchmark::State &state, size_t shapeIndex, BenchmarkMode mode, int threads,
              const std::string &prefix) {
  SharedCase *shared = caseOrSkip(state, shapeIndex, mode);
  if (!shared)
    return;
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
  if (auto eigen = eigenRuns().find(prefix); eigen != eigenRuns().end()) {
    double eigenMs = eigen->second.median();
    state.counters["eigen_ms"] = eigenMs;
    state.counters["rnnc/eigen"] = ms / eigenMs;
  }
}

void registerSuite() {
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
                                                 mode, threads, prefix));
        configure(benchmark::RegisterBenchmark((prefix + "/rnnc").c_str(), timeRnnc, index, mode,
                                               threads, prefix));
      }
  }
}

} // namespace

} // namespace rnnc::bench

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  auto checked = rnnc::bench::checkBaselinesMatchRnnc();
  if (!checked) {
    std::cerr << "rnnc_bench_suite: the Eigen baseline is not the computation rnnc runs: "
              << checked.error().message << "\n";
    return 1;
  }
  std::cerr << *checked;
#ifdef RNNC_BENCH_OPENMP
  benchmark::AddCustomContext("eigen_threads", "OpenMP (Eigen::setNbThreads)");
#else
  benchmark::AddCustomContext("eigen_threads",
                              "none: built without OpenMP, Eigen rows run on 1 thread");
#endif
  rnnc::bench::registerSuite();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
