// Packing and the threaded split of products (Gemm.h).
#include "runtime/Gemm.h"

#include "runtime/ThreadPool.h"

namespace rnnc {

namespace {
/// Below this many multiply-adds a product runs on the calling thread alone.
constexpr int64_t kParallelWork = 1 << 17;
} // namespace

template <typename T>
void packPanels(T *packed, const T *a, int64_t m, int64_t k, int64_t strideI, int64_t strideP) {
  constexpr int64_t lanes = kPanelBytes / static_cast<int64_t>(sizeof(T));
  int64_t panels = (m + lanes - 1) / lanes;
  // Row by row of A (a contiguous read when A is row-major), each into its lane of every step.
  for (int64_t j = 0; j < panels; ++j)
    for (int64_t l = 0; l < lanes; ++l) {
      int64_t i = j * lanes + l;
      T *to = packed + j * k * lanes + l;
      for (int64_t p = 0; p < k; ++p)
        to[p * lanes] = i < m ? a[i * strideI + p * strideP] : T(0);
    }
}

template void packPanels<float>(float *, const float *, int64_t, int64_t, int64_t, int64_t);
template void packPanels<double>(double *, const double *, int64_t, int64_t, int64_t, int64_t);

void parallelTiles(ThreadPool *pool, void (*tiles)(void *, int64_t, int64_t), void *closure,
                   int64_t count, int64_t work) {
  int parts = pool ? pool->size() : 1;
  if (parts == 1 || count < 2 || work < kParallelWork) {
    tiles(closure, 0, count);
    return;
  }
  pool->run([&](int part) {
    int64_t begin, end;
    partitionRange(count, part, parts, begin, end);
    if (begin < end)
      tiles(closure, begin, end);
  });
}

} // namespace rnnc
