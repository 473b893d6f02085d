// The runtime's product micro-kernels (runtime/Product.h) on every instruction set this CPU has,
// in float and double, against a scalar chain of multiply-adds in the same order: bit-identical
// results (fused where the set has FMA), for shapes that reach every edge tile (rows below and
// above a tile, m below a panel, a partial last panel, several panel blocks, k = 1), strided
// and transposed x (which the runtime packs), with and without an addend (one per row, or one
// shared), with the default blocking and with small reduction and row blocks; columns past m
// and rows past `rows` untouched; the same bits on 1, 2 and 3 threads.
#include "runtime/Gemm.h"
#include "runtime/Product.h"
#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace rnnc {
namespace {

template <typename T> struct Aligned {
  explicit Aligned(size_t count)
      : data(static_cast<T *>(std::aligned_alloc(64, (count * sizeof(T) + 63) / 64 * 64))) {}
  ~Aligned() { std::free(data); }
  Aligned(const Aligned &) = delete;
  T *data;
};

struct Case {
  int64_t rows, m, k;
  bool transposedX; ///< x[r, p] at p * rows + r instead of r * k + p.
  int addend;       ///< 0 none, 1 one row per row, 2 one vector shared by every row.
};

/// Small blocks, so that every product of the cases below runs several reduction blocks (one of
/// them short) and several row blocks (productBlocking's own choice blocks only large products).
ProductBlocking smallBlocks(ProductIsa isa, int64_t rows) {
  return {productTileShape(isa, rows), /*reduction=*/16, /*rowBlockTiles=*/2};
}

template <typename T>
void checkCase(ProductIsa isa, const Case &c, const std::vector<ThreadPool *> &pools,
               const ProductBlocking *extra = nullptr) {
  std::mt19937 generator(static_cast<uint32_t>(c.rows * 1000003 + c.m * 1009 + c.k));
  std::uniform_real_distribution<double> uniform(-1, 1);
  std::vector<T> a(static_cast<size_t>(c.m * c.k)), x(static_cast<size_t>(c.rows * c.k));
  for (T &v : a)
    v = static_cast<T>(uniform(generator));
  for (T &v : x)
    v = static_cast<T>(uniform(generator));
  int64_t outStride = c.m + 3; // padding columns that must stay untouched
  std::vector<T> addend(static_cast<size_t>(c.rows * outStride));
  for (T &v : addend)
    v = static_cast<T>(uniform(generator));
  Aligned<T> packed(static_cast<size_t>(packedElements(c.m, c.k, sizeof(T))));
  packPanels(packed.data, a.data(), c.m, c.k, c.k, 1);

  rnnc_rt_product product{};
  product.rows = c.rows;
  product.m = c.m;
  product.k = c.k;
  product.packed = packed.data;
  product.x = x.data();
  product.xRowStride = c.transposedX ? 1 : c.k;
  product.xColumnStride = c.transposedX ? c.rows : 1;
  product.outRowStride = outStride;
  product.addend = c.addend ? addend.data() : nullptr;
  product.addendRowStride = c.addend == 1 ? outStride : 0;
  product.vectorBytes = static_cast<int64_t>(isa);

  const T sentinel = static_cast<T>(12345.5);
  std::vector<T> expected(static_cast<size_t>((c.rows + 1) * outStride), sentinel);
  bool fused = isa != ProductIsa::Baseline;
  for (int64_t r = 0; r < c.rows; ++r)
    for (int64_t i = 0; i < c.m; ++i) {
      T accumulator = 0;
      for (int64_t p = 0; p < c.k; ++p) {
        T xv = x[static_cast<size_t>(r * product.xRowStride + p * product.xColumnStride)];
        T av = a[static_cast<size_t>(i * c.k + p)];
        if (fused) {
          accumulator = std::fma(xv, av, accumulator);
        } else {
          T term = xv * av; // rounded, then added: the SSE2 kernel's mul + add
          accumulator = term + accumulator;
        }
      }
      if (c.addend)
        accumulator = addend[static_cast<size_t>(r * product.addendRowStride + i)] + accumulator;
      expected[static_cast<size_t>(r * outStride + i)] = accumulator;
    }

  const ProductBlocking small = smallBlocks(isa, c.rows);
  for (const ProductBlocking *blocking :
       {static_cast<const ProductBlocking *>(nullptr), &small, extra ? extra : &small})
    for (ThreadPool *pool : pools) {
      std::vector<T> out(expected.size(), sentinel);
      product.out = out.data();
      runProduct<T>(pool, product, blocking);
      std::string where = "rows " + std::to_string(c.rows) + " m " + std::to_string(c.m) +
                          " k " + std::to_string(c.k) + " transposed " +
                          std::to_string(c.transposedX) + " addend " +
                          std::to_string(c.addend) + " threads " +
                          std::to_string(pool ? pool->size() : 1) + " isa " +
                          std::to_string(static_cast<int64_t>(isa)) +
                          (blocking ? " small blocks" : " default blocks");
      ASSERT_EQ(std::memcmp(out.data(), expected.data(), out.size() * sizeof(T)), 0) << where;
    }
}

std::vector<ProductIsa> hostIsas() {
  std::vector<ProductIsa> isas{ProductIsa::Baseline};
  for (ProductIsa isa : {ProductIsa::Avx2, ProductIsa::Avx512})
    if (productIsaFor(static_cast<int64_t>(isa)) == isa)
      isas.push_back(isa);
  return isas;
}

template <typename T> void checkAllCases() {
  ThreadPool two(2), three(3);
  std::vector<ThreadPool *> pools{nullptr, &two, &three};
  for (ProductIsa isa : hostIsas())
    for (int64_t rows : {1, 2, 5, 6, 7, 13, 33})
      for (int64_t m : {1, 7, 16, 17, 40, 129})
        for (int64_t k : {1, 3, 70})
          for (bool transposed : {false, true})
            for (int addend : {0, 1, 2})
              checkCase<T>(isa, {rows, m, k, transposed, addend}, pools);
}

TEST(RuntimeProductTest, FloatMatchesScalarChainOnEverySet) { checkAllCases<float>(); }
TEST(RuntimeProductTest, DoubleMatchesScalarChainOnEverySet) { checkAllCases<double>(); }

TEST(RuntimeProductTest, LargeProductSplitsOverThreadsWithTheSameBits) {
  // Above the parallel threshold (2^17 multiply-adds), so the pools really split the tiles.
  ThreadPool two(2), three(3);
  for (ProductIsa isa : hostIsas())
    for (bool transposed : {false, true}) // transposed: x is packed by each thread
      checkCase<float>(isa, {64, 300, 256, transposed, 1}, {nullptr, &two, &three});
}

TEST(RuntimeProductTest, ReductionBlocksThatFitL1GiveTheSameBits) {
  // The tuner's blocked candidate (panelFittingReduction) on a reduction longer than one block
  // and more rows than one row block (a weight gradient over T·B rows), split over threads.
  ThreadPool two(2);
  for (ProductIsa isa : hostIsas()) {
    rnnc_rt_product product{};
    product.rows = 300;
    product.m = 40;
    product.k = 1500;
    product.xColumnStride = 1;
    ProductBlocking blocking = productBlocking(isa, product, sizeof(float));
    blocking.reduction = panelFittingReduction(blocking, product.k);
    EXPECT_LT(blocking.reduction, product.k);
    EXPECT_LT(blocking.rowBlockTiles * blocking.tile.rows, product.rows);
    for (bool transposed : {false, true})
      checkCase<float>(isa, {300, 40, 1500, transposed, 1}, {nullptr, &two}, &blocking);
  }
}

TEST(RuntimeProductTest, AnAddendThatIsTheResultIsAddedOnEveryCall) {
  // out = out + x Aᵀ in place: partial sums stored in `out` would lose the addend, so such a
  // product is never tuned into reduction blocks, on however many calls.
  const int64_t rows = 64, m = 64, k = 700; // above the tuner's minimum work
  std::vector<float> a(m * k, 0.5f), x(rows * k, 0.25f), out(rows * m, 1.0f);
  Aligned<float> packed(static_cast<size_t>(packedElements(m, k, sizeof(float))));
  packPanels(packed.data, a.data(), m, k, k, 1);
  rnnc_rt_product product{};
  product.rows = rows;
  product.m = m;
  product.k = k;
  product.packed = packed.data;
  product.x = x.data();
  product.xRowStride = k;
  product.xColumnStride = 1;
  product.out = out.data();
  product.outRowStride = m;
  product.addend = out.data();
  product.addendRowStride = m;
  product.vectorBytes = static_cast<int64_t>(productIsaFor(64));
  float expected = 1.0f;
  for (int call = 0; call < 20; ++call) {
    runProduct<float>(nullptr, product);
    expected += 0.125f * k; // exact in float: every term and partial sum is a multiple of 1/8
    ASSERT_EQ(out[0], expected) << "call " << call;
    ASSERT_EQ(out[rows * m - 1], expected) << "call " << call;
  }
}

TEST(RuntimeProductTest, IsaNeverExceedsTheRequestedWidth) {
  EXPECT_EQ(productIsaFor(16), ProductIsa::Baseline);
  EXPECT_NE(productIsaFor(32), ProductIsa::Avx512);
  EXPECT_EQ(productIsaFor(8), ProductIsa::Baseline);
}

TEST(RuntimeProductTest, NarrowProductsTakeWiderTiles) {
  for (ProductIsa isa : {ProductIsa::Baseline, ProductIsa::Avx2, ProductIsa::Avx512}) {
    ProductTileShape full = productTileShape(isa, 64), narrow = productTileShape(isa, 1);
    EXPECT_EQ(narrow.rows, 1);
    EXPECT_GT(narrow.panels, full.panels);
    EXPECT_LE(narrow.panels, 8);
  }
}

} // namespace
} // namespace rnnc
