// The product micro-kernels (ProductTiles.inc) for AVX2 + FMA: 256-bit vectors, 16 registers.
// Compiled with -mavx2 -mfma (runtime/CMakeLists.txt); called only on CPUs that have both.
#include "runtime/Gemm.h"
#include "runtime/Product.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

namespace rnnc {
namespace {

template <typename T> struct Simd;
template <> struct Simd<float> {
  using V = __m256;
  static constexpr int64_t lanes = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float *p) { return _mm256_load_ps(p); }
  static V loadUnaligned(const float *p) { return _mm256_loadu_ps(p); }
  static V broadcast(float x) { return _mm256_set1_ps(x); }
  static V multiplyAdd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static void storeUnaligned(float *p, V v) { _mm256_storeu_ps(p, v); }
};
template <> struct Simd<double> {
  using V = __m256d;
  static constexpr int64_t lanes = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const double *p) { return _mm256_load_pd(p); }
  static V loadUnaligned(const double *p) { return _mm256_loadu_pd(p); }
  static V broadcast(double x) { return _mm256_set1_pd(x); }
  static V multiplyAdd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static void storeUnaligned(double *p, V v) { _mm256_storeu_pd(p, v); }
};

#include "runtime/ProductTiles.inc"

} // namespace

const ProductKernels kProductKernelsAvx2 = {&productTiles<float>, &productTiles<double>};

} // namespace rnnc
