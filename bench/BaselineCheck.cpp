// checkBaselinesMatchRnnc (BaselineCheck.h). The small case has T = 5, B = 3 and odd dims, so that
// a transposed matrix or a swapped time and batch index changes the result, and every parameter
// non-zero, so that a forgotten term does.
#include "bench/BaselineCheck.h"

#include "bench/EigenBaseline.h"
#include "bench/ShapeSuite.h"
#include "compiler/backend/Backend.h"
#include "compiler/driver/BenchmarkCase.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace rnnc::bench {

namespace {

/// Relative tolerance of float32 results computed in a different order.
constexpr double kTolerance = 1e-4;

/// The largest |a − b| over the elements, relative to max(1, max |b|); an error when the sizes
/// differ, or when `b` (a gradient) is identically zero.
Expected<double> relativeDifference(const std::string &name, std::span<const float> eigen,
                                    const Tensor &rnnc) {
  Tensor values = rnnc.convert(DType::F32);
  std::span<const float> reference = values.values<float>();
  if (reference.size() != eigen.size())
    return Error::user("'" + name + "' has " + std::to_string(eigen.size()) +
                       " elements in the Eigen baseline and " + std::to_string(reference.size()) +
                       " in rnnc");
  double largest = 0, scale = 0;
  for (size_t i = 0; i < eigen.size(); ++i) {
    largest = std::max(largest, std::fabs(double(eigen[i]) - double(reference[i])));
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

/// Runs one small case through rnnc's JIT and the baseline and compares every output.
Expected<std::string> checkCase(EigenBaselineKind kind,
                                const std::map<std::string, long long> &dims,
                                driver::BenchmarkMode mode) {
  driver::BenchmarkSpec spec;
  spec.modelPath = baselineModelPath(kind);
  spec.dims = dims;
  spec.mode = mode;
  spec.batch = 3;
  spec.steps = 5;
  spec.seed = 1;
  auto source = driver::BenchmarkCase::create(spec);
  if (!source)
    return source.takeError();
  perturbParameters((*source)->params());
  auto jit = backend::createBackend("jit");
  if (!jit)
    return jit.takeError();
  auto outputs = (*source)->run(**jit, 1);
  if (!outputs)
    return outputs.takeError();
  auto baseline = EigenBaseline::create(kind, **source);
  if (!baseline)
    return baseline.takeError();
  (*baseline)->run();
  NamedResults results = (*baseline)->results();

  std::string what = (*source)->module().name() + " " + driver::benchmarkModeName(mode);
  std::string names, rnncNames;
  for (const auto &[name, values] : results)
    names += (names.empty() ? "" : ", ") + name;
  for (const auto &[name, tensor] : *outputs)
    rnncNames += (rnncNames.empty() ? "" : ", ") + name;
  if (names != rnncNames)
    return Error::user(what + ": the Eigen baseline computes {" + names + "} but rnnc {" +
                       rnncNames + "}");
  double worst = 0;
  std::string worstName;
  for (const auto &[name, values] : results) {
    auto difference = relativeDifference(name, values, outputs->at(name));
    if (!difference)
      return Error::user(what + ": " + difference.error().message);
    if (!(*difference <= kTolerance)) {
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "%.3g (tolerance %.0e)", *difference, kTolerance);
      return Error::user(what + ": the Eigen baseline's '" + name + "' differs from rnnc's by " +
                         buffer);
    }
    if (*difference >= worst) {
      worst = *difference;
      worstName = name;
    }
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2g", worst);
  return what + ": {" + names + "} equal, largest relative difference " + buffer + " (" +
         worstName + ")";
}

} // namespace

Expected<std::string> checkBaselinesMatchRnnc() {
  struct Small {
    EigenBaselineKind kind;
    std::map<std::string, long long> dims;
  };
  const Small cases[] = {{EigenBaselineKind::TanhRnn, {{"I", 7}, {"H", 6}}},
                         {EigenBaselineKind::Elman, {{"K", 11}, {"H", 6}}}};
  std::string report;
  for (const Small &small : cases)
    for (driver::BenchmarkMode mode :
         {driver::BenchmarkMode::Forward, driver::BenchmarkMode::Train}) {
      auto line = checkCase(small.kind, small.dims, mode);
      if (!line)
        return line.takeError();
      report += "baseline check: " + *line + "\n";
    }
  return report;
}

} // namespace rnnc::bench
