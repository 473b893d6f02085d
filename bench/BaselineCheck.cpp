// checkBaselinesMatchRnnc (BaselineCheck.h). The small case has T = 5, B = 3 and odd dims, so that
// a transposed matrix or a swapped time and batch index changes the result, and every parameter
// non-zero, so that a forgotten term does. Each baseline runs twice before its results are read,
// so that one which accumulates into its outputs (oneDNN's backward adds to its weight gradients)
// shows it.
#include "bench/BaselineCheck.h"

#include "bench/Baseline.h"
#include "bench/EigenBaseline.h"
#include "bench/ShapeSuite.h"
#include "compiler/backend/Backend.h"
#include "compiler/driver/BenchmarkCase.h"
#include "compiler/model/BackendRegistry.h"
#ifdef RNNC_BENCH_ONEDNN
#include "bench/OneDnnRnn.h"
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

namespace rnnc::bench {

namespace {

/// Relative tolerance of float32 results computed in a different order.
constexpr double kTolerance = 1e-4;

/// The largest |a − b| over the elements, relative to max(1, max |b|); an error when the sizes
/// differ, or when `b` (a gradient) is identically zero.
Expected<double> relativeDifference(const std::string &name, const std::string &baseline,
                                    std::span<const float> computed, const Tensor &rnnc) {
  Tensor values = rnnc.convert(DType::F32);
  std::span<const float> reference = values.values<float>();
  if (reference.size() != computed.size())
    return Error::user("'" + name + "' has " + std::to_string(computed.size()) +
                       " elements in the " + baseline + " baseline and " +
                       std::to_string(reference.size()) + " in rnnc");
  double largest = 0, scale = 0;
  for (size_t i = 0; i < computed.size(); ++i) {
    largest = std::max(largest, std::fabs(double(computed[i]) - double(reference[i])));
    scale = std::max(scale, std::fabs(double(reference[i])));
  }
  if (name.rfind("grad.", 0) == 0 && scale == 0)
    return Error::user("'" + name + "' is identically zero, so the check would prove nothing");
  return largest / std::max(1.0, scale);
}

/// Sets every float32 parameter element to a value in [-0.5, 0.5) from a fixed sequence, so that
/// no parameter is zero (the models initialise their biases to zeros).
void perturbParameters(TensorMap &params) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (auto &[name, tensor] : params) {
    if (tensor.dtype() != DType::F32)
      continue;
    for (float &value : tensor.values<float>()) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      value = float(double(state >> 40) / double(1ull << 24) - 0.5);
    }
  }
}

/// Makes a baseline on a case's tensors.
using MakeBaseline =
    std::function<Expected<std::unique_ptr<Baseline>>(const driver::BenchmarkCase &)>;

/// A baseline of a small case: the word its check lines start with, and how to make it.
struct BaselineMaker {
  std::string word;
  MakeBaseline make;
};

/// Compares every output of `baseline` with rnnc's `outputs`: one line, or an error naming the
/// tensor.
Expected<std::string> compareOutputs(Baseline &baseline, const TensorMap &outputs,
                                     const std::string &what) {
  // Twice: a baseline that accumulates into its results shows (see the file comment).
  baseline.run();
  baseline.run();
  NamedResults results = baseline.results();
  const std::string name = baseline.name();
  std::string names, rnncNames;
  for (const auto &[output, values] : results)
    names += (names.empty() ? "" : ", ") + output;
  for (const auto &[output, tensor] : outputs)
    rnncNames += (rnncNames.empty() ? "" : ", ") + output;
  if (names != rnncNames)
    return Error::user(what + ": the " + name + " baseline computes {" + names + "} but rnnc {" +
                       rnncNames + "}");
  double worst = 0;
  std::string worstName;
  for (const auto &[output, values] : results) {
    auto difference = relativeDifference(output, name, values, outputs.at(output));
    if (!difference)
      return Error::user(what + ": " + difference.error().message);
    if (!(*difference <= kTolerance)) {
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "%.3g (tolerance %.0e)", *difference, kTolerance);
      return Error::user(what + ": the " + name + " baseline's '" + output +
                         "' differs from rnnc's by " + buffer);
    }
    if (*difference >= worst) {
      worst = *difference;
      worstName = output;
    }
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2g", worst);
  return what + ": {" + names + "} equal, largest relative difference " + buffer + " (" +
         worstName + ")";
}

/// Runs one small case through rnnc's JIT and compares every baseline of it with rnnc: one line
/// per baseline.
Expected<std::string> checkCase(const std::string &modelPath,
                                const std::map<std::string, long long> &dims,
                                driver::BenchmarkMode mode,
                                const std::vector<BaselineMaker> &baselines,
                                const backend::BackendOptions &rnnc) {
  driver::BenchmarkSpec spec;
  spec.modelPath = modelPath;
  spec.dims = dims;
  spec.mode = mode;
  spec.batch = 3;
  spec.steps = 5;
  spec.seed = 1;
  auto source = driver::BenchmarkCase::create(spec);
  if (!source)
    return source.takeError();
  perturbParameters((*source)->params());
  auto jit = model::createBackend("jit", rnnc);
  if (!jit)
    return jit.takeError();
  auto outputs = (*source)->run(**jit, 1);
  if (!outputs)
    return outputs.takeError();
  std::string report;
  for (const BaselineMaker &maker : baselines) {
    auto baseline = maker.make(**source);
    if (!baseline)
      return baseline.takeError();
    auto line = compareOutputs(**baseline, *outputs,
                               maker.word + " " + (*source)->module().name() + " " +
                                   driver::benchmarkModeName(mode));
    if (!line)
      return line.takeError();
    report += "baseline check: " + *line + "\n";
  }
  return report;
}

/// A maker of the baseline of type `BaselineType` for `kind`.
template <typename BaselineType, typename Kind> BaselineMaker maker(std::string word, Kind kind) {
  return {std::move(word),
          [kind](const driver::BenchmarkCase &source) -> Expected<std::unique_ptr<Baseline>> {
            auto made = BaselineType::create(kind, source);
            if (!made)
              return made.takeError();
            return std::unique_ptr<Baseline>(made.take());
          }};
}

} // namespace

Expected<std::string> checkBaselinesMatchRnnc(const backend::BackendOptions &rnnc) {
  struct Small {
    std::string modelPath;
    std::map<std::string, long long> dims;
    std::vector<BaselineMaker> baselines;
  };
  std::vector<Small> cases = {{baselineModelPath(EigenBaselineKind::TanhRnn),
                               {{"I", 7}, {"H", 6}},
                               {maker<EigenBaseline>("eigen", EigenBaselineKind::TanhRnn)}},
                              {baselineModelPath(EigenBaselineKind::Elman),
                               {{"K", 11}, {"H", 6}},
                               {maker<EigenBaseline>("eigen", EigenBaselineKind::Elman)}}};
#ifdef RNNC_BENCH_ONEDNN
  // The tanh RNN is checked once for both baselines; the gated cells have H = 5 so that a gate
  // block taken at the wrong offset shows.
  cases[0].baselines.push_back(maker<OneDnnBaseline>("onednn", OneDnnBaselineKind::TanhRnn));
  cases.push_back({baselineModelPath(OneDnnBaselineKind::Lstm),
                   {{"I", 7}, {"H", 5}},
                   {maker<OneDnnBaseline>("onednn", OneDnnBaselineKind::Lstm)}});
  cases.push_back({baselineModelPath(OneDnnBaselineKind::LbrGru),
                   {{"I", 7}, {"H", 5}},
                   {maker<OneDnnBaseline>("onednn", OneDnnBaselineKind::LbrGru)}});
#endif
  std::string report;
  for (const Small &small : cases)
    for (driver::BenchmarkMode mode :
         {driver::BenchmarkMode::Forward, driver::BenchmarkMode::Train}) {
      auto lines = checkCase(small.modelPath, small.dims, mode, small.baselines, rnnc);
      if (!lines)
        return lines.takeError();
      report += *lines;
    }
  return report;
}

} // namespace rnnc::bench
