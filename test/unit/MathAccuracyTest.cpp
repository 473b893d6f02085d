// The accuracy of the float kernels' tanh, exp, sigmoid and log (compiler/codegen/MathEmitter.cpp)
// over every float: all 2^32 bit patterns go through the code the `jit` backend generates for a
// graph `x: f32[65536] → tanh, exp, sigmoid, log → outputs` (the vectorised loops themselves), and
// every result is compared with the double-precision libm value (std::tanh, std::exp, std::log,
// 1 / (1 + std::exp(-x)); their own error, an ulp or two of a double, is about 2^-29 float ulp).
//
// The metric (docs/codegen.md "Accuracy of the math functions" states the bounds asserted here):
//   * where the exact result r has |r| >= FLT_MIN: |f - r| / ulp(r), ulp(r) = 2^(floor(log2|r|) -
//     23), the spacing of floats in r's binade; the correctly rounded result has at most 0.5;
//   * where 0 < |r| < FLT_MIN (exp and sigmoid of x in (-104, -87.3)): the absolute error in units
//     of the smallest subnormal 2^-149, the spacing of floats there (relative error is
//     meaningless: a subnormal has fewer significant bits);
//   * where the correctly rounded result is known without libm, the kernel must return exactly
//     it (bit for bit, so the sign of a zero counts): NaN in → NaN out; overflow and saturation
//     (exp → +inf from x >= 89 and → +0 up to x <= -104, tanh → ±1 from |x| >= 9.5, sigmoid →
//     1 from x >= 18 and → +0 up to x <= -104); the identities near 0 (tanh(x) = x for |x| <
//     2^-12, exp(x) = 1 for |x| < 2^-25, sigmoid(x) = 0.5 for |x| < 2^-26); log of a negative →
//     NaN, log(±0) = -inf, log(+inf) = +inf, log(1) = +0. Each region is one where the true
//     value is provably within half an ulp of that float (see knownResult below). Apart from saving
//     libm calls, this is how "saturates exactly" and "overflows to +inf" are tested.
//   * where r overflows in float (exp of x in (88.72, 89)), the kernel must return +inf.
//
// Two threads (one backend each) share the 2^14 chunks of 2^18 consecutive bit patterns (4
// examples of 65536 per run). The sweep costs about 55 s of CPU, so about 30 s on two idle cores;
// almost all of it is the checking below, not the kernel. RNNC_MATH_ACCURACY_STRIDE=k runs only
// every k-th chunk (for iterating on MathEmitter.cpp; the printed maxima then cover that subset
// only, and the test says so).
#include "compiler/backend/Backend.h"
#include "compiler/model/BackendRegistry.h"
#include "ir/Parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace rnnc {
namespace {

constexpr int64_t kExampleSize = 65536;
constexpr int64_t kExamplesPerCall = 4;
constexpr uint64_t kChunk = kExampleSize * kExamplesPerCall; // 2^18: divides a binade (2^23)
constexpr uint64_t kChunks = (uint64_t(1) << 32) / kChunk;
constexpr int kThreads = 2;

constexpr const char *kModule = R"(module @math {
  graph @forward {
    %x = input {name = "x"} : f32[65536]
    %tanh = tanh %x : f32[65536]
    %exp = exp %x : f32[65536]
    %sigmoid = sigmoid %x : f32[65536]
    %log = log %x : f32[65536]
    output {name = "tanh"} %tanh
    output {name = "exp"} %exp
    output {name = "sigmoid"} %sigmoid
    output {name = "log"} %log
  }
}
)";

/// The bounds docs/codegen.md states: ulp error for results of magnitude >= FLT_MIN, absolute
/// error in units of 2^-149 for smaller ones.
struct Bound {
  const char *name;
  double maxUlp;
  double maxSubnormalError;
};
constexpr Bound kBounds[] = {
    {"tanh", 2, 0},    // measured 1.330 ulp
    {"exp", 1.5, 1},   // 1.010 ulp; 0.750 x 2^-149 below FLT_MIN
    {"sigmoid", 3, 1}, // 2.402 ulp; 0.750 x 2^-149 below FLT_MIN
    {"log", 1.5, 0},   // 0.827 ulp
};
constexpr int kFunctions = 4;
enum : int { kTanh, kExp, kSigmoid, kLog }; // indices into kBounds and the arrays below

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// What the correctly rounded result of `function` at `x` is known to be without libm; false
/// when it has to be measured. Why each value is the correctly rounded one (half an ulp is
/// 2^-25 relative at worst, 2^-25 just below 1 and 2^-26 just below 0.5):
///   tanh    |x| < 2^-12: x > tanh x > x (1 - x^2/3) and x^2/3 < 2^-25, so it rounds to x;
///           |x| >= 9.5: 0 < 1 - tanh|x| < 2 e^-19 < 1.2e-8 < 2^-25.
///   exp     |x| < 2^-25: 1 - 2^-25 < 1 + x <= e^x < 1 + 2^-24 (half an ulp above 1);
///           x >= 89: e^89 > 4e38, past FLT_MAX; x <= -104: e^x < 6.9e-46 < 2^-150, half the
///           smallest subnormal.
///   sigmoid |x| < 2^-26: |sigmoid x - 0.5| <= |x| / 4 < 2^-28; x >= 18: 1 - sigmoid x < e^-18
///           < 1.6e-8 < 2^-25; x <= -104: 0 < sigmoid x < e^x < 2^-150.
///   log     x < 0: NaN; ±0: -inf; +inf: +inf; 1: +0.
template <int function> bool knownResult(float x, float &expected) {
  float magnitude = std::fabs(x);
  if constexpr (function == kTanh) {
    if (magnitude < 0x1p-12f)
      return expected = x, true;
    if (magnitude >= 9.5f)
      return expected = std::copysign(1.0f, x), true;
  } else if constexpr (function == kExp) {
    if (magnitude < 0x1p-25f)
      return expected = 1, true;
    if (x >= 89)
      return expected = kInf, true;
    if (x <= -104)
      return expected = 0, true;
  } else if constexpr (function == kSigmoid) {
    if (magnitude < 0x1p-26f)
      return expected = 0.5f, true;
    if (x >= 18)
      return expected = 1, true;
    if (x <= -104)
      return expected = 0, true;
  } else {
    if (x < 0)
      return expected = kNaN, true;
    if (x == 0)
      return expected = -kInf, true;
    if (x == kInf)
      return expected = kInf, true;
    if (x == 1)
      return expected = 0, true;
  }
  return false;
}

template <int function> double reference(float x) {
  double d = x;
  if constexpr (function == kTanh)
    return std::tanh(d);
  else if constexpr (function == kExp)
    return std::exp(d);
  else if constexpr (function == kSigmoid)
    return 1 / (1 + std::exp(-d));
  else
    return std::log(d);
}

/// The spacing of floats in the binade of r, 2^(floor(log2 |r|) - 23), for FLT_MIN <= |r| < 2^128
/// (by the exponent bits: ldexp and ilogb would be a third of the test's time).
double ulpOf(double r) {
  uint64_t exponent = std::bit_cast<uint64_t>(r) & 0x7ff0000000000000u;
  return std::bit_cast<double>(exponent - (uint64_t(23) << 52));
}

std::string describe(float x) {
  char text[96];
  std::snprintf(text, sizeof text, "%.9g (0x%08x)", static_cast<double>(x),
                std::bit_cast<uint32_t>(x));
  return text;
}

/// One function's findings over the inputs one thread saw.
struct Findings {
  double maxUlp = 0, maxSubnormalError = 0;
  float worstUlpInput = 0, worstUlpResult = 0;
  double worstUlpReference = 0;
  float worstSubnormalInput = 0;
  uint64_t measured = 0, exact = 0, wrongExact = 0;
  std::vector<std::string> wrongExamples; // the first few wrong exact results

  template <int function> void check(float x, float result) {
    float expected;
    bool isKnown = std::isnan(x) ? (expected = kNaN, true) : knownResult<function>(x, expected);
    if (!isKnown) {
      double exact = reference<function>(x);
      float rounded = static_cast<float>(exact);
      if (!std::isinf(rounded)) {
        ++measured;
        double error = std::isnan(result) ? std::numeric_limits<double>::infinity()
                                          : std::fabs(static_cast<double>(result) - exact);
        if (std::fabs(exact) >= FLT_MIN) {
          error /= ulpOf(exact);
          if (error > maxUlp) {
            maxUlp = error;
            worstUlpInput = x;
            worstUlpResult = result;
            worstUlpReference = exact;
          }
        } else if ((error /= 0x1p-149) > maxSubnormalError) {
          maxSubnormalError = error;
          worstSubnormalInput = x;
        }
        return;
      }
      expected = rounded; // the true value overflows
    }
    ++exact;
    bool same = std::isnan(expected)
                    ? std::isnan(result)
                    : std::bit_cast<uint32_t>(result) == std::bit_cast<uint32_t>(expected);
    if (!same && wrongExact++ < 8)
      wrongExamples.push_back(std::string(kBounds[function].name) + "(" + describe(x) +
                              ") = " + describe(result) + ", expected " + describe(expected));
  }

  void merge(const Findings &other) {
    if (other.maxUlp > maxUlp) {
      maxUlp = other.maxUlp;
      worstUlpInput = other.worstUlpInput;
      worstUlpResult = other.worstUlpResult;
      worstUlpReference = other.worstUlpReference;
    }
    if (other.maxSubnormalError > maxSubnormalError) {
      maxSubnormalError = other.maxSubnormalError;
      worstSubnormalInput = other.worstSubnormalInput;
    }
    measured += other.measured;
    exact += other.exact;
    wrongExact += other.wrongExact;
    for (const std::string &example : other.wrongExamples)
      if (wrongExamples.size() < 8)
        wrongExamples.push_back(example);
  }
};

struct Sweep {
  Findings findings[kFunctions];
  std::string error; ///< Set when the backend failed; the findings are then incomplete.
  uint64_t inputs = 0;
};

/// Runs the kernel on chunks taken from `next` (chunk index × stride) until none are left.
void sweepChunks(std::atomic<uint64_t> &next, uint64_t stride, Sweep &sweep) {
  auto module = ir::parseModule(kModule, "math.rnnir");
  if (!module) {
    sweep.error = module.error().message;
    return;
  }
  const ir::Graph &graph = *(*module)->findGraph("forward");
  auto backend = model::createBackend("jit");
  if (!backend) {
    sweep.error = backend.error().message;
    return;
  }
  TensorMap data;
  Tensor &input =
      data.emplace("x", Tensor(DType::F32, {kExamplesPerCall, kExampleSize})).first->second;
  ir::Batch batch;
  batch.data = &data;
  ir::RunOptions options;
  options.precision = ir::Precision::Float;
  for (uint64_t index; (index = next.fetch_add(1) * stride) < kChunks;) {
    uint32_t *bits = reinterpret_cast<uint32_t *>(input.data<float>());
    for (uint64_t i = 0; i < kChunk; ++i)
      bits[i] = static_cast<uint32_t>(index * kChunk + i);
    auto outputs = (*backend)->run(graph, batch, options);
    if (!outputs) {
      sweep.error = outputs.error().message;
      return;
    }
    const float *x = input.data<float>();
    auto checkAll = [&]<int function>() {
      const float *result = outputs->at(kBounds[function].name).data<float>();
      Findings &findings = sweep.findings[function];
      for (uint64_t i = 0; i < kChunk; ++i)
        findings.check<function>(x[i], result[i]);
    };
    checkAll.operator()<kTanh>();
    checkAll.operator()<kExp>();
    checkAll.operator()<kSigmoid>();
    checkAll.operator()<kLog>();
    sweep.inputs += kChunk;
  }
}

TEST(MathAccuracyTest, EveryFloatWithinTheDocumentedBounds) {
  uint64_t stride = 1;
  if (const char *text = std::getenv("RNNC_MATH_ACCURACY_STRIDE"))
    stride = std::max<uint64_t>(1, std::strtoull(text, nullptr, 10));
  auto start = std::chrono::steady_clock::now();
  std::atomic<uint64_t> next{0};
  std::vector<Sweep> sweeps(kThreads);
  std::vector<std::thread> threads;
  for (Sweep &sweep : sweeps)
    threads.emplace_back([&next, stride, &sweep] { sweepChunks(next, stride, sweep); });
  for (std::thread &thread : threads)
    thread.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  Sweep total;
  for (const Sweep &sweep : sweeps) {
    ASSERT_EQ(sweep.error, "");
    total.inputs += sweep.inputs;
    for (int function = 0; function < kFunctions; ++function)
      total.findings[function].merge(sweep.findings[function]);
  }
  std::printf("%llu of 2^32 float inputs (stride %llu%s) in %.1f s on %d threads\n",
              static_cast<unsigned long long>(total.inputs),
              static_cast<unsigned long long>(stride),
              stride == 1 ? ", every float" : ": A SUBSET, the bounds are not established", seconds,
              kThreads);
  std::printf("%-8s %10s %-34s %12s %14s %12s\n", "function", "max ulp", "at x", "max subnorm",
              "measured", "exact checks");
  for (int function = 0; function < kFunctions; ++function) {
    const Findings &found = total.findings[function];
    std::printf("%-8s %10.3f %-34s %12.3f %14llu %12llu\n", kBounds[function].name, found.maxUlp,
                describe(found.worstUlpInput).c_str(), found.maxSubnormalError,
                static_cast<unsigned long long>(found.measured),
                static_cast<unsigned long long>(found.exact));
  }
  EXPECT_EQ(total.inputs, (kChunks + stride - 1) / stride * kChunk);
  for (int function = 0; function < kFunctions; ++function) {
    const Findings &found = total.findings[function];
    const Bound &bound = kBounds[function];
    SCOPED_TRACE(bound.name);
    EXPECT_GT(found.measured, 0u); // not vacuous: some results were measured against libm
    EXPECT_LE(found.maxUlp, bound.maxUlp)
        << "at x = " << describe(found.worstUlpInput) << ": " << describe(found.worstUlpResult)
        << ", exact " << found.worstUlpReference;
    EXPECT_LE(found.maxSubnormalError, bound.maxSubnormalError)
        << "at x = " << describe(found.worstSubnormalInput);
    EXPECT_EQ(found.wrongExact, 0u) << "of " << found.exact << " known results, e.g.:\n"
                                    << [&] {
                                         std::string text;
                                         for (const std::string &example : found.wrongExamples)
                                           text += "  " + example + "\n";
                                         return text;
                                       }();
  }
}

} // namespace
} // namespace rnnc
