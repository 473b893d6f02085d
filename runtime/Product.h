// The products of compiled kernels (compiler/codegen/GemmEmitter.cpp calls them through
// rnnc_rt_product_f32/_f64, KernelCABI.h): out[r, i] = addend[r, i] + Σ_p A[i, p] x[r, p] for the
// rows r of x, A an [m, k] operand packed in panels (Gemm.h). Written once here, not generated
// per model, so a model's module holds only the glue around its products.
//
// The micro-kernels (ProductTiles.inc) are compiled once per instruction set: AVX-512, AVX2 +
// FMA and the baseline x86-64 (SSE2). A call runs the widest set that both the kernel was
// compiled for (its target's vector width, so `--cpu haswell` code stays on AVX2) and the host
// has. A product is cut into tiles of `rows` rows × `panels` panels, numbered row block by row
// block within a panel block; the threads of the pool take contiguous ranges of tile numbers, so
// each thread keeps the same columns of A — its slice of the weights — across the steps of a scan.
//
// Invariant: every element is one chain of multiply-adds over p = 0 … k−1 in order (fused where
// the set has FMA), whatever the tile shape and thread count, so results are bit-identical for
// any number of threads.
#pragma once

#include "runtime/KernelCABI.h"

#include <cstdint>

namespace rnnc {

class ThreadPool;

/// The instruction sets the micro-kernels are compiled for, by vector width in bytes.
enum class ProductIsa : int64_t { Baseline = 16, Avx2 = 32, Avx512 = 64 };

/// The widest set of at most `vectorBytes` that this CPU runs.
ProductIsa productIsaFor(int64_t vectorBytes);

/// A register tile: `rows` rows of x by `panels` panels of A.
struct ProductTileShape {
  int64_t rows = 1, panels = 1;
};

/// The tile shape a product of `rows` rows takes on `isa` (enough independent multiply-add
/// chains to hide the FMA latency within the set's vector registers).
ProductTileShape productTileShape(ProductIsa isa, int64_t rows);

/// Runs `product` on the threads of `pool` (null: the calling thread) with the micro-kernels of
/// productIsaFor(product.vectorBytes). An x read down its columns (xColumnStride ≠ 1: the
/// transposed operand of a weight gradient, a sum over T·B rows) is first copied into blocks of
/// a tile's rows, each block's rows interleaved per p (packProductRows), so that a tile reads
/// consecutive memory instead of one cache line and one page per p. The copy changes no value.
template <typename T> void runProduct(ThreadPool *pool, const rnnc_rt_product &product);

/// The per-set tile loops (ProductTiles.inc): tiles [begin, end) of `product` in `shape`,
/// reading x from `packedX` when it is not null (packProductRows).
template <typename T>
using ProductTilesFunction = void (*)(const rnnc_rt_product &product, ProductTileShape shape,
                                      const void *packedX, int64_t begin, int64_t end);
struct ProductKernels {
  ProductTilesFunction<float> f32;
  ProductTilesFunction<double> f64;
};
extern const ProductKernels kProductKernelsBaseline, kProductKernelsAvx2, kProductKernelsAvx512;

/// Copies x into `packed`: block b of `blockRows` rows holds x[b·blockRows + r, p] at
/// b·blockRows·k + p·blockRows + r (zeros past `rows`), for the blocks [blockBegin, blockEnd).
template <typename T>
void packProductRows(T *packed, const rnnc_rt_product &product, int64_t blockRows,
                     int64_t blockBegin, int64_t blockEnd);

/// The number of tiles of `product` in `shape` (panels of `panelLanes` columns).
int64_t productTileCount(const rnnc_rt_product &product, ProductTileShape shape,
                         int64_t panelLanes);

} // namespace rnnc
