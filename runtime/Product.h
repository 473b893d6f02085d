// The products of compiled kernels (compiler/codegen/GemmEmitter.cpp calls them through
// rnnc_rt_product_f32/_f64, KernelCABI.h): out[r, i] = addend[r, i] + Σ_p A[i, p] x[r, p] for the
// rows r of x, A an [m, k] operand packed in panels (Gemm.h). Written once here, not generated
// per model, so a model's module holds only the glue around its products.
//
// The micro-kernels (ProductTiles.inc) are compiled once per instruction set: AVX-512, AVX2 +
// FMA and the baseline x86-64 (SSE2). A call runs the widest set that both the kernel was
// compiled for (its target's vector width, so `--cpu haswell` code stays on AVX2) and the host
// has. A product is cut into register tiles of `rows` rows × `panels` panels, grouped into row
// blocks, and its reduction into blocks that keep a tile's part of A in L1 (ProductBlocking);
// the threads of the pool take contiguous ranges of tile numbers, so each thread keeps the same
// columns of A — its slice of the weights — across the steps of a scan.
//
// Invariant: every element is one chain of multiply-adds over p = 0 … k−1 in order (fused where
// the set has FMA), whatever the tile shape, blocking and thread count, so results are
// bit-identical for any number of threads.
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

/// How a product is cut for the caches. Tiles are numbered row block by row block (a row block
/// is `rowBlockTiles` tiles of rows), within one panel block by panel block, and within that row
/// tile by row tile; the threads of the pool take contiguous ranges of tile numbers, so a thread
/// keeps the same columns of A (its slice of the weights) across the steps of a scan. A row
/// block's x stays in L2 while the panel blocks reuse it. A tile may run the reduction in blocks
/// of `reduction` steps (ProductTiles.inc), so that a panel block's part of A stays in L1 while
/// the row tiles of a row block reuse it.
struct ProductBlocking {
  ProductTileShape tile;
  int64_t reduction = 1;    ///< p per reduction block (the last one may be shorter).
  int64_t rowBlockTiles = 1; ///< Row tiles per row block (the last one may have fewer).
};

/// The blocking `product` takes on `isa` (element size `elementBytes`) unless tuned.
ProductBlocking productBlocking(ProductIsa isa, const rnnc_rt_product &product,
                                int64_t elementBytes);

/// A reduction block for `blocking`'s tile that keeps its panels over the block in L1 (32 KiB),
/// the blocks of a reduction of k made even: a candidate of the tuner (ProductTuning.h).
int64_t panelFittingReduction(const ProductBlocking &blocking, int64_t k);

/// Runs `product` on the threads of `pool` (null: the calling thread) with the micro-kernels of
/// productIsaFor(product.vectorBytes), blocked as `blocking` says when it is given (tests), else
/// as the process's ProductTuner chose for the shape by measurement (ProductTuning.h), else as
/// productBlocking says. Every blocking gives the same bits.
template <typename T>
void runProduct(ThreadPool *pool, const rnnc_rt_product &product,
                const ProductBlocking *blocking = nullptr);

/// The per-set tile loops (ProductTiles.inc): tiles [begin, end) of `product` blocked as
/// `blocking` says; `scratch` (scratchElements(…) elements, the calling thread's own) holds the
/// packed rows of an x read down its columns.
template <typename T>
using ProductTilesFunction = void (*)(const rnnc_rt_product &product,
                                      const ProductBlocking &blocking, T *scratch,
                                      int64_t begin, int64_t end);
struct ProductKernels {
  ProductTilesFunction<float> f32;
  ProductTilesFunction<double> f64;
};
extern const ProductKernels kProductKernelsBaseline, kProductKernelsAvx2, kProductKernelsAvx512;

/// Copies rows of x, p in [p0, p1), into `packed`: the tile of row tiles [tileBegin, tileEnd)
/// (tiles of `tileRows` rows) numbered i from 0 holds x[(tileBegin + i)·tileRows + r, p] at
/// i·tileRows·(p1 − p0) + (p − p0)·tileRows + r (zeros past the product's rows).
template <typename T>
void packProductRows(T *packed, const rnnc_rt_product &product, int64_t tileRows,
                     int64_t tileBegin, int64_t tileEnd, int64_t p0, int64_t p1);

/// The number of tiles of `product` in `shape` (panels of `panelLanes` columns).
int64_t productTileCount(const rnnc_rt_product &product, ProductTileShape shape,
                         int64_t panelLanes);

} // namespace rnnc
