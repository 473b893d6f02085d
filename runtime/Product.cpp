// The choice of instruction set and tile shape for a product, and its split over threads
// (Product.h).
#include "runtime/Product.h"

#include "runtime/Gemm.h"
#include "runtime/ProductTuning.h"
#include "runtime/ThreadPool.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>
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

namespace {

/// The partial sums between reduction blocks are stored in `out`: an addend that overlaps `out`
/// would be overwritten before the last block adds it, so such a product is never blocked.
bool addendOverlapsOut(const rnnc_rt_product &product, int64_t elementBytes) {
  if (!product.addend)
    return false;
  auto *out = static_cast<const char *>(product.out);
  auto *addend = static_cast<const char *>(product.addend);
  int64_t outBytes = ((product.rows - 1) * product.outRowStride + product.m) * elementBytes;
  int64_t addendBytes = ((product.rows - 1) * product.addendRowStride + product.m) * elementBytes;
  return addend < out + outBytes && out < addend + addendBytes;
}

} // namespace

ProductBlocking productBlocking(ProductIsa isa, const rnnc_rt_product &product,
                                int64_t elementBytes) {
  // Measured on AMD Zen 5 (bench/README.md): the reduction runs unblocked (blocks that keep a
  // tile's panels in L1 were 10-30 % slower on every shape but the longest weight-gradient
  // reductions, where the tuner finds them), and a row block is as many rows as keep x within
  // kRowBlockBytes, at least kMinimumRowBlockTiles tiles.
  constexpr int64_t kRowBlockBytes = 128 << 10, kMinimumRowBlockTiles = 4;
  ProductBlocking blocking;
  blocking.tile = productTileShape(isa, product.rows);
  blocking.reduction = std::max<int64_t>(product.k, 1);
  int64_t rowBlockRows = kRowBlockBytes / (blocking.reduction * elementBytes);
  blocking.rowBlockTiles = std::max(rowBlockRows / blocking.tile.rows, kMinimumRowBlockTiles);
  return blocking;
}

int64_t panelFittingReduction(const ProductBlocking &blocking, int64_t k) {
  // A tile's panels over one block fill at most 32 KiB; the blocks are made even, so that none
  // is a short remainder.
  constexpr int64_t kPanelBlockBytes = 32 << 10;
  int64_t longest = std::max<int64_t>(kPanelBlockBytes / (blocking.tile.panels * kPanelBytes), 16);
  int64_t blocks = (k + longest - 1) / longest;
  return std::max<int64_t>((k + blocks - 1) / blocks, 1);
}

namespace {

/// packProductRows's tiles [tile, end) of x's column `column` when each is a contiguous run of
/// Rows elements: a copy of a length known here, a few vector moves and no call.
template <int64_t Rows, typename T>
void copyWholeTiles(T *to, const T *column, int64_t tile, int64_t end, int64_t tileStride) {
  for (; tile < end; ++tile, to += tileStride)
    for (int64_t r = 0; r < Rows; ++r)
      to[r] = column[tile * Rows + r];
}

template <typename T>
using CopyWholeTiles = void (*)(T *, const T *, int64_t, int64_t, int64_t);

template <typename T, int64_t... Rows>
constexpr auto copyWholeTilesTable(std::integer_sequence<int64_t, Rows...>) {
  return std::array<CopyWholeTiles<T>, sizeof...(Rows)>{&copyWholeTiles<Rows + 1, T>...};
}

} // namespace

template <typename T>
void packProductRows(T *packed, const rnnc_rt_product &product, int64_t tileRows,
                     int64_t tileBegin, int64_t tileEnd, int64_t p0, int64_t p1) {
  // p outermost: with x read down its columns (the case this is for), step p of the tiles'
  // rows is one contiguous run of x, read once; each tile is written in order. A whole tile of
  // such rows is a copy of a fixed length (copyWholeTiles); only the last, partial tile and a
  // strided x take the element loop.
  static constexpr auto wholeTiles =
      copyWholeTilesTable<T>(std::make_integer_sequence<int64_t, 8>{});
  const T *x = static_cast<const T *>(product.x);
  const int64_t steps = p1 - p0, rowStride = product.xRowStride;
  const int64_t fullEnd =
      rowStride == 1 && tileRows <= 8 ? std::clamp(product.rows / tileRows, tileBegin, tileEnd)
                                      : tileBegin;
  for (int64_t p = p0; p < p1; ++p) {
    const T *column = x + p * product.xColumnStride;
    T *to = packed + (p - p0) * tileRows;
    if (fullEnd > tileBegin) {
      wholeTiles[tileRows - 1](to, column, tileBegin, fullEnd, tileRows * steps);
      to += (fullEnd - tileBegin) * tileRows * steps;
    }
    for (int64_t tile = fullEnd; tile < tileEnd; ++tile, to += tileRows * steps) {
      int64_t r0 = tile * tileRows;
      int64_t rowsHere = std::clamp<int64_t>(product.rows - r0, 0, tileRows);
      for (int64_t r = 0; r < rowsHere; ++r)
        to[r] = column[(r0 + r) * rowStride];
      std::fill(to + rowsHere, to + tileRows, T(0));
    }
  }
}

template void packProductRows<float>(float *, const rnnc_rt_product &, int64_t, int64_t, int64_t,
                                     int64_t, int64_t);
template void packProductRows<double>(double *, const rnnc_rt_product &, int64_t, int64_t,
                                      int64_t, int64_t, int64_t);

int64_t productTileCount(const rnnc_rt_product &product, ProductTileShape shape,
                         int64_t panelLanes) {
  int64_t panels = (product.m + panelLanes - 1) / panelLanes;
  return (product.rows + shape.rows - 1) / shape.rows * ((panels + shape.panels - 1) / shape.panels);
}

namespace {

template <typename T> struct ProductCall {
  const rnnc_rt_product *product;
  ProductBlocking blocking;
  ProductTilesFunction<T> tiles;
};

/// The calling thread's buffer for packed rows of x, kept between products (a weight gradient
/// of T·B rows runs every training step).
template <typename T> T *scratchBuffer(int64_t elements) {
  thread_local std::vector<T> buffer;
  if (static_cast<int64_t>(buffer.size()) < elements)
    buffer.resize(static_cast<size_t>(elements));
  return buffer.data();
}

template <typename T> void runTiles(void *closure, int64_t begin, int64_t end) {
  auto *call = static_cast<const ProductCall<T> *>(closure);
  const ProductBlocking &blocking = call->blocking;
  T *scratch = call->product->xColumnStride != 1
                   ? scratchBuffer<T>(blocking.rowBlockTiles * blocking.tile.rows *
                                      blocking.reduction)
                   : nullptr;
  call->tiles(*call->product, blocking, scratch, begin, end);
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

template <typename T>
void runProduct(ThreadPool *pool, const rnnc_rt_product &product,
                const ProductBlocking *blocking) {
  if (product.rows <= 0 || product.m <= 0)
    return;
  ProductIsa isa = productIsaFor(product.vectorBytes);
  const ProductKernels &kernels = kernelsFor(isa);
  ProductCall<T> call{&product, blocking ? *blocking : productBlocking(isa, product, sizeof(T)),
                      nullptr};
  if constexpr (sizeof(T) == 4)
    call.tiles = kernels.f32;
  else
    call.tiles = kernels.f64;
  int64_t panelLanes = kPanelBytes / static_cast<int64_t>(sizeof(T));
  int64_t work = product.rows * product.k * product.m;
  auto run = [&] {
    parallelTiles(pool, &runTiles<T>, &call,
                  productTileCount(product, call.blocking.tile, panelLanes), work);
  };
  ProductTuner *tuner = blocking ? nullptr : ProductTuner::process();
  if (!tuner || work < ProductTuner::kMinimumWork || addendOverlapsOut(product, sizeof(T))) {
    run();
    return;
  }
  ProductShapeKey key{static_cast<int64_t>(isa), sizeof(T), product.rows, product.m, product.k,
                      product.xColumnStride != 1, pool ? pool->size() : 1};
  ProductTuner::Choice choice = tuner->choose(key, call.blocking);
  call.blocking = choice.blocking;
  auto start = std::chrono::steady_clock::now();
  run();
  if (choice.candidate >= 0)
    tuner->record(key, choice.candidate,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

template void runProduct<float>(ThreadPool *, const rnnc_rt_product &, const ProductBlocking *);
template void runProduct<double>(ThreadPool *, const rnnc_rt_product &, const ProductBlocking *);

} // namespace rnnc
