// The product micro-kernels (ProductTiles.inc) for AVX-512F: 512-bit vectors, 32 registers.
// Compiled with -mavx512f (runtime/CMakeLists.txt); called only on CPUs that have it.
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
  using V = __m512;
  static constexpr int64_t lanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float *p) { return _mm512_load_ps(p); }
  static V loadUnaligned(const float *p) { return _mm512_loadu_ps(p); }
  static V broadcast(float x) { return _mm512_set1_ps(x); }
  static V multiplyAdd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static void storeUnaligned(float *p, V v) { _mm512_storeu_ps(p, v); }
};
template <> struct Simd<double> {
  using V = __m512d;
  static constexpr int64_t lanes = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const double *p) { return _mm512_load_pd(p); }
  static V loadUnaligned(const double *p) { return _mm512_loadu_pd(p); }
  static V broadcast(double x) { return _mm512_set1_pd(x); }
  static V multiplyAdd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static void storeUnaligned(double *p, V v) { _mm512_storeu_pd(p, v); }
};

#include "runtime/ProductTiles.inc"

} // namespace

const ProductKernels kProductKernelsAvx512 = {&productTiles<float>, &productTiles<double>};

} // namespace rnnc
