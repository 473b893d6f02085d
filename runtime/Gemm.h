// What the runtime does for the kernels' matrix products (compiler/codegen/GemmEmitter.cpp): the
// packed layout of a product's shared operand, and the split of a product's tiles over threads.
//
// A, the operand shared by every row of a batched product (a weight), is packed into panels of
// kPanelBytes / sizeof(T) columns: panel j holds A[j·L .. j·L+L, p] for p = 0 … k−1 contiguous
// (zeros past m), so the generated micro-kernel streams one panel while a tile of rows × panels
// stays in registers.
//
// Determinism: the generated micro-kernel computes every element as one chain of fused
// multiply-adds over p = 0 … k−1 in order, whatever tile it is in, and tiles are split over the
// threads statically (ThreadPool.h), so products are bit-identical for any thread count.
#pragma once

#include <cstdint>

namespace rnnc {

class ThreadPool;

constexpr int64_t kPanelBytes = 64;

/// Elements of the packed form of an [m, k] operand of element size `elementBytes`.
inline int64_t packedElements(int64_t m, int64_t k, int64_t elementBytes) {
  int64_t lanes = kPanelBytes / elementBytes;
  return (m + lanes - 1) / lanes * lanes * k;
}

/// Packs A[i, p] = a[i * strideI + p * strideP] (i < m, p < k) into panels.
template <typename T>
void packPanels(T *packed, const T *a, int64_t m, int64_t k, int64_t strideI, int64_t strideP);

/// Calls tiles(closure, begin, end) over [0, count): on the threads of `pool` when `work` (the
/// multiply-adds of all tiles) pays for the hand-off, else on the calling thread.
void parallelTiles(ThreadPool *pool, void (*tiles)(void *, int64_t, int64_t), void *closure,
                   int64_t count, int64_t work);

} // namespace rnnc
