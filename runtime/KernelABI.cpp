// The runtime functions compiled kernels call (KernelABI.h). Sampling is drawToken of
// runtime/Sampling.h, the interpreter's own, so a kernel and the interpreter draw the same tokens.
#include "runtime/KernelABI.h"
#include "runtime/Gemm.h"
#include "runtime/Product.h"
#include "runtime/Sampling.h"

#include <cmath>
#include <cstring>
#include <math.h>
#include <string.h>
#include <string>

namespace rnnc {

namespace {

KernelRuntime &runtimeOf(rnnc_rt_context *context) {
  return *reinterpret_cast<KernelRuntime *>(context);
}

void recordError(KernelRuntime &runtime, KernelError error) {
  if (runtime.error.code == KernelErrorCode::None || error.example < runtime.error.example)
    runtime.error = error;
}

/// The first index of the largest element (a NaN never compares larger).
template <typename Real> int32_t firstArgmax(const Real *values, int64_t count) {
  int64_t best = 0;
  for (int64_t i = 1; i < count; ++i)
    if (values[i] > values[best])
      best = i;
  return static_cast<int32_t>(best);
}

template <typename Real>
int32_t sample(rnnc_rt_context *context, const Real *probabilities, int64_t count, int32_t opId,
               int64_t example) {
  KernelRuntime &runtime = runtimeOf(context);
  if (runtime.greedy)
    return firstArgmax(probabilities, count);
  TokenDraw draw = drawToken(probabilities, count, runtime.generators.at(example));
  if (draw.problem == TokenDraw::Problem::BadProbability)
    recordError(runtime, {KernelErrorCode::BadProbability, opId, draw.badIndex, 0, draw.badValue,
                          example});
  else if (draw.problem == TokenDraw::Problem::ZeroSum)
    recordError(runtime, {KernelErrorCode::ZeroProbabilities, opId, 0, 0, 0, example});
  return static_cast<int32_t>(draw.token);
}

} // namespace

const std::vector<RuntimeSymbol> &runtimeSymbols() {
  static const std::vector<RuntimeSymbol> symbols = {
      {"rnnc_rt_begin_batch", reinterpret_cast<void *>(&rnnc_rt_begin_batch)},
      {"rnnc_rt_pack_f32", reinterpret_cast<void *>(&rnnc_rt_pack_f32)},
      {"rnnc_rt_pack_f64", reinterpret_cast<void *>(&rnnc_rt_pack_f64)},
      {"rnnc_rt_parallel_tiles", reinterpret_cast<void *>(&rnnc_rt_parallel_tiles)},
      {"rnnc_rt_product_f32", reinterpret_cast<void *>(&rnnc_rt_product_f32)},
      {"rnnc_rt_product_f64", reinterpret_cast<void *>(&rnnc_rt_product_f64)},
      {"rnnc_rt_sample_f32", reinterpret_cast<void *>(&rnnc_rt_sample_f32)},
      {"rnnc_rt_sample_f64", reinterpret_cast<void *>(&rnnc_rt_sample_f64)},
      {"rnnc_rt_fail", reinterpret_cast<void *>(&rnnc_rt_fail)},
      {"rnnc_rt_failed", reinterpret_cast<void *>(&rnnc_rt_failed)},
      // The C library functions LLVM lowers math intrinsics and block copies to.
      {"expf", reinterpret_cast<void *>(static_cast<float (*)(float)>(&::expf))},
      {"logf", reinterpret_cast<void *>(static_cast<float (*)(float)>(&::logf))},
      {"tanhf", reinterpret_cast<void *>(static_cast<float (*)(float)>(&::tanhf))},
      {"exp", reinterpret_cast<void *>(static_cast<double (*)(double)>(&::exp))},
      {"log", reinterpret_cast<void *>(static_cast<double (*)(double)>(&::log))},
      {"tanh", reinterpret_cast<void *>(static_cast<double (*)(double)>(&::tanh))},
      {"memcpy", reinterpret_cast<void *>(&::memcpy)},
      {"memmove", reinterpret_cast<void *>(&::memmove)},
      {"memset", reinterpret_cast<void *>(&::memset)},
  };
  return symbols;
}

} // namespace rnnc

using rnnc::KernelErrorCode;
using rnnc::runtimeOf;

extern "C" {

void rnnc_rt_begin_batch(rnnc_rt_context *context, int64_t batchSize) {
  rnnc::KernelRuntime &runtime = runtimeOf(context);
  runtime.generators.clear();
  for (int64_t example = 0; example < batchSize; ++example)
    runtime.generators.emplace_back(
        rnnc::parameterSeed(runtime.seed, "example." + std::to_string(example)));
}

int32_t rnnc_rt_sample_f32(rnnc_rt_context *context, const float *probabilities, int64_t count,
                           int32_t opId, int64_t example) {
  return rnnc::sample(context, probabilities, count, opId, example);
}

int32_t rnnc_rt_sample_f64(rnnc_rt_context *context, const double *probabilities, int64_t count,
                           int32_t opId, int64_t example) {
  return rnnc::sample(context, probabilities, count, opId, example);
}

void rnnc_rt_fail(rnnc_rt_context *context, int32_t opId, int32_t code, int64_t first,
                  int64_t second, int64_t example) {
  rnnc::recordError(runtimeOf(context),
                    {static_cast<KernelErrorCode>(code), opId, first, second, 0, example});
}

void rnnc_rt_pack_f32(float *packed, const float *a, int64_t m, int64_t k, int64_t strideI,
                      int64_t strideP) {
  rnnc::packPanels(packed, a, m, k, strideI, strideP);
}

void rnnc_rt_pack_f64(double *packed, const double *a, int64_t m, int64_t k, int64_t strideI,
                      int64_t strideP) {
  rnnc::packPanels(packed, a, m, k, strideI, strideP);
}

void rnnc_rt_parallel_tiles(rnnc_rt_context *context, void (*tiles)(void *, int64_t, int64_t),
                            void *closure, int64_t count, int64_t work) {
  rnnc::parallelTiles(runtimeOf(context).pool, tiles, closure, count, work);
}

void rnnc_rt_product_f32(rnnc_rt_context *context, const rnnc_rt_product *product) {
  rnnc::runProduct<float>(runtimeOf(context).pool, *product);
}

void rnnc_rt_product_f64(rnnc_rt_context *context, const rnnc_rt_product *product) {
  rnnc::runProduct<double>(runtimeOf(context).pool, *product);
}

int32_t rnnc_rt_failed(const rnnc_rt_context *context) {
  return reinterpret_cast<const rnnc::KernelRuntime *>(context)->error.code !=
         KernelErrorCode::None;
}

} // extern "C"
