// The choice of instruction set and tile shape for a product, and its split over threads
// (Product.h).
#include "runtime/Product.h"

#include "runtime/Gemm.h"
#include "runtime/ThreadPool.h"

#include <algorithm>
#include <vector>

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

ProductTileShape productTileShape(ProductIsa isa, int64_t rows) {
  // Accumulators (rows × panels × vectors per panel), a panel's vectors and a broadcast fit the
  // registers: 16 of 32 with AVX-512 (8 × 2 panels of one vector), 12 of 16 with AVX2 (6 × 1
  // panel of two vectors), 8 of 16 with SSE2 (2 × 1 panel of four vectors); for float and double
  // alike, as a panel holds as many vectors of either.
  int64_t vectorsPerPanel = kPanelBytes / static_cast<int64_t>(isa);
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

template <typename T>
void packProductRows(T *packed, const rnnc_rt_product &product, int64_t blockRows,
                     int64_t blockBegin, int64_t blockEnd) {
  // p outermost: with x read down its columns (the case this is for), step p of the blocks'
  // rows is one contiguous run of x, read once; each block is written in order.
  const T *x = static_cast<const T *>(product.x);
  for (int64_t p = 0; p < product.k; ++p)
    for (int64_t block = blockBegin; block < blockEnd; ++block) {
      T *to = packed + block * blockRows * product.k + p * blockRows;
      int64_t r0 = block * blockRows, rowsHere = std::min(blockRows, product.rows - r0);
      const T *from = x + r0 * product.xRowStride + p * product.xColumnStride;
      for (int64_t r = 0; r < rowsHere; ++r)
        to[r] = from[r * product.xRowStride];
      for (int64_t r = rowsHere; r < blockRows; ++r)
        to[r] = T(0);
    }
}

template void packProductRows<float>(float *, const rnnc_rt_product &, int64_t, int64_t, int64_t);
template void packProductRows<double>(double *, const rnnc_rt_product &, int64_t, int64_t,
                                      int64_t);

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
  T *packedX;
};

template <typename T> void runTiles(void *closure, int64_t begin, int64_t end) {
  auto *call = static_cast<const ProductCall<T> *>(closure);
  call->tiles(*call->product, call->shape, call->packedX, begin, end);
}

template <typename T> void runPackRows(void *closure, int64_t begin, int64_t end) {
  auto *call = static_cast<const ProductCall<T> *>(closure);
  packProductRows(call->packedX, *call->product, call->shape.rows, begin, end);
}

/// The calling thread's buffer for packed rows of x, kept between products (a weight gradient
/// of T·B rows runs every training step).
template <typename T> T *packBuffer(int64_t elements) {
  thread_local std::vector<T> buffer;
  if (static_cast<int64_t>(buffer.size()) < elements)
    buffer.resize(static_cast<size_t>(elements));
  return buffer.data();
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
                      productTileShape(isa, product.rows),
                      nullptr, nullptr};
  if constexpr (sizeof(T) == 4)
    call.tiles = kernels.f32;
  else
    call.tiles = kernels.f64;
  if (product.xColumnStride != 1 && product.rows > 1) {
    int64_t blocks = (product.rows + call.shape.rows - 1) / call.shape.rows;
    call.packedX = packBuffer<T>(blocks * call.shape.rows * product.k);
    parallelTiles(pool, &runPackRows<T>, &call, blocks, product.rows * product.k);
  }
  int64_t panelLanes = kPanelBytes / static_cast<int64_t>(sizeof(T));
  parallelTiles(pool, &runTiles<T>, &call, productTileCount(product, call.shape, panelLanes),
                product.rows * product.k * product.m);
}

template void runProduct<float>(ThreadPool *, const rnnc_rt_product &);
template void runProduct<double>(ThreadPool *, const rnnc_rt_product &);

} // namespace rnnc
