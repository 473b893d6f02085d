// The choice of instruction set and tile shape for a product, and its split over threads
// (Product.h).
#include "runtime/Product.h"

#include "runtime/Gemm.h"
#include "runtime/ThreadPool.h"

#include <algorithm>

namespace rnnc {

ProductIsa productIsaFor(int64_t vectorBytes) {
  static const bool hasAvx512 = __builtin_cpu_supports("avx512f");
  static const bool hasAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (vectorBytes >= 64 && hasAvx512)
    return ProductIsa::Avx512;
  if (vectorBytes >= 32 && hasAvx2)
    return ProductIsa::Avx2;
  return ProductIsa::Baseline;
}

ProductTileShape productTileShape(ProductIsa isa, int64_t elementBytes, int64_t rows) {
  // Accumulators (rows × panels × vectors per panel), a panel's vectors and a broadcast fit the
  // registers: 16 of 32 with AVX-512 (8 × 2 panels of one vector), 12 of 16 with AVX2 (6 × 1
  // panel of two vectors), 8 of 16 with SSE2 (2 × 1 panel of four vectors).
  int64_t vectorsPerPanel = kPanelBytes / static_cast<int64_t>(isa == ProductIsa::Avx512 ? 64
                                                               : isa == ProductIsa::Avx2 ? 32
                                                                                         : 16);
  (void)elementBytes; // a panel holds the same number of vectors for float and double
  ProductTileShape full = isa == ProductIsa::Avx512 ? ProductTileShape{8, 2}
                          : isa == ProductIsa::Avx2 ? ProductTileShape{6, 1}
                                                    : ProductTileShape{2, 1};
  if (rows >= full.rows)
    return full;
  // Fewer rows than a tile (a matrix-vector product in a scan over one example): wider tiles,
  // so that about as many independent multiply-add chains run as in a full tile.
  int64_t chains = full.rows * full.panels * vectorsPerPanel;
  int64_t panels = std::clamp<int64_t>(chains / (std::max<int64_t>(rows, 1) * vectorsPerPanel),
                                       full.panels, 8);
  return {std::max<int64_t>(rows, 1), panels};
}

int64_t productTileCount(const rnnc_rt_product &product, ProductTileShape shape,
                         int64_t panelLanes) {
  int64_t panels = (product.m + panelLanes - 1) / panelLanes;
  return (product.rows + shape.rows - 1) / shape.rows * ((panels + shape.panels - 1) / shape.panels);
}

namespace {

template <typename T> struct ProductCall {
  const rnnc_rt_product *product;
  ProductTileShape shape;
  ProductTilesFunction<T> tiles;
};

template <typename T> void runTiles(void *closure, int64_t begin, int64_t end) {
  auto *call = static_cast<const ProductCall<T> *>(closure);
  call->tiles(*call->product, call->shape, begin, end);
}

const ProductKernels &kernelsFor(ProductIsa isa) {
  switch (isa) {
  case ProductIsa::Avx512:
    return kProductKernelsAvx512;
  case ProductIsa::Avx2:
    return kProductKernelsAvx2;
  case ProductIsa::Baseline:
    break;
  }
  return kProductKernelsBaseline;
}

} // namespace

template <typename T> void runProduct(ThreadPool *pool, const rnnc_rt_product &product) {
  if (product.rows <= 0 || product.m <= 0)
    return;
  ProductIsa isa = productIsaFor(product.vectorBytes);
  const ProductKernels &kernels = kernelsFor(isa);
  ProductCall<T> call{&product,
                      productTileShape(isa, static_cast<int64_t>(sizeof(T)), product.rows),
                      nullptr};
  if constexpr (sizeof(T) == 4)
    call.tiles = kernels.f32;
  else
    call.tiles = kernels.f64;
  int64_t panelLanes = kPanelBytes / static_cast<int64_t>(sizeof(T));
  parallelTiles(pool, &runTiles<T>, &call, productTileCount(product, call.shape, panelLanes),
                product.rows * product.k * product.m);
}

template void runProduct<float>(ThreadPool *, const rnnc_rt_product &);
template void runProduct<double>(ThreadPool *, const rnnc_rt_product &);

} // namespace rnnc
