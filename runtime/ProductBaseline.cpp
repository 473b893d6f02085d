// The product micro-kernels (ProductTiles.inc) for the baseline x86-64 (SSE2): 128-bit
// vectors, 16 registers, no FMA (a multiply and an add, as LLVM lowers llvm.fmuladd there).
#include "runtime/Gemm.h"
#include "runtime/Product.h"

#include <emmintrin.h>

#include <algorithm>
#include <array>
#include <utility>

namespace rnnc {
namespace {

template <typename T> struct Simd;
template <> struct Simd<float> {
  using V = __m128;
  static constexpr int64_t lanes = 4;
  static V zero() { return _mm_setzero_ps(); }
  static V load(const float *p) { return _mm_load_ps(p); }
  static V loadUnaligned(const float *p) { return _mm_loadu_ps(p); }
  static V broadcast(float x) { return _mm_set1_ps(x); }
  static V multiplyAdd(V a, V b, V c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
  static V add(V a, V b) { return _mm_add_ps(a, b); }
  static void storeUnaligned(float *p, V v) { _mm_storeu_ps(p, v); }
};
template <> struct Simd<double> {
  using V = __m128d;
  static constexpr int64_t lanes = 2;
  static V zero() { return _mm_setzero_pd(); }
  static V load(const double *p) { return _mm_load_pd(p); }
  static V loadUnaligned(const double *p) { return _mm_loadu_pd(p); }
  static V broadcast(double x) { return _mm_set1_pd(x); }
  static V multiplyAdd(V a, V b, V c) { return _mm_add_pd(_mm_mul_pd(a, b), c); }
  static V add(V a, V b) { return _mm_add_pd(a, b); }
  static void storeUnaligned(double *p, V v) { _mm_storeu_pd(p, v); }
};

#include "runtime/ProductTiles.inc"

} // namespace

const ProductKernels kProductKernelsBaseline = {&productTiles<float>, &productTiles<double>};

} // namespace rnnc
