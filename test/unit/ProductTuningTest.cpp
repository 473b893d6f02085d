// runtime/ProductTuning.h: the candidates a shape is tried with, the choice of the fastest from
// recorded trials (synthetic times, so the test does not depend on the machine), and tuned
// products giving the same bits as the rules' blocking on every call while the tuner tries
// each candidate.
#include "runtime/Gemm.h"
#include "runtime/Product.h"
#include "runtime/ProductTuning.h"
#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace rnnc {
namespace {

ProductBlocking rulesLike(int64_t reduction, int64_t rowBlockTiles) {
  return {{8, 2}, reduction, rowBlockTiles};
}

TEST(ProductTuningTest, CandidatesStartWithTheRulesAndAreDistinct) {
  auto candidates = ProductTuner::candidates(rulesLike(256, 16), 1000);
  ASSERT_GE(candidates.size(), 4u);
  EXPECT_EQ(candidates[0].reduction, 256);
  EXPECT_EQ(candidates[0].rowBlockTiles, 16);
  for (size_t i = 0; i < candidates.size(); ++i)
    for (size_t j = i + 1; j < candidates.size(); ++j)
      EXPECT_FALSE(candidates[i].reduction == candidates[j].reduction &&
                   candidates[i].rowBlockTiles == candidates[j].rowBlockTiles)
          << i << " and " << j;
  for (const ProductBlocking &candidate : candidates) {
    EXPECT_GE(candidate.reduction, 1);
    EXPECT_LE(candidate.reduction, 1000);
    EXPECT_GE(candidate.rowBlockTiles, 1);
  }
  // An unblocked reduction and a row block of one tile: variants that coincide are tried once.
  auto few = ProductTuner::candidates(rulesLike(100, 1), 100);
  EXPECT_EQ(few.size(), 2u);
}

TEST(ProductTuningTest, TheFastestCandidateIsChosenAfterEveryTrial) {
  ProductTuner tuner;
  ProductShapeKey key{64, 4, 3200, 256, 1024, 1, 2};
  ProductBlocking rules = rulesLike(256, 16);
  size_t count = ProductTuner::candidates(rules, key.k).size();
  int fastest = 2;
  for (size_t call = 0; call < count * ProductTuner::kTrialsPerCandidate; ++call) {
    EXPECT_EQ(tuner.tuned(key), nullptr) << "tuned before every trial, at call " << call;
    ProductTuner::Choice choice = tuner.choose(key, rules);
    ASSERT_EQ(choice.candidate, static_cast<int>(call % count)); // round robin
    tuner.record(key, choice.candidate, choice.candidate == fastest ? 1.0 : 2.0 + call);
  }
  const ProductBlocking *tuned = tuner.tuned(key);
  ASSERT_NE(tuned, nullptr);
  ProductBlocking expected = ProductTuner::candidates(rules, key.k)[fastest];
  EXPECT_EQ(tuned->reduction, expected.reduction);
  EXPECT_EQ(tuned->rowBlockTiles, expected.rowBlockTiles);
  ProductTuner::Choice later = tuner.choose(key, rules);
  EXPECT_EQ(later.candidate, -1);
  EXPECT_EQ(later.blocking.reduction, expected.reduction);
  // Another shape is tuned on its own.
  ProductShapeKey other = key;
  other.rows = 32;
  EXPECT_EQ(tuner.choose(other, rules).candidate, 0);
}

TEST(ProductTuningTest, TunedProductsGiveTheRulesBitsOnEveryCall) {
  ASSERT_NE(ProductTuner::process(), nullptr) << "run without RNNC_PRODUCT_TUNING=0";
  ThreadPool two(2);
  ProductIsa isa = productIsaFor(64);
  const int64_t rows = 200, m = 72, k = 700; // above the tuner's minimum work
  std::mt19937 generator(3);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> a(m * k), x(rows * k);
  for (float &v : a)
    v = uniform(generator);
  for (float &v : x)
    v = uniform(generator);
  float *packed = static_cast<float *>(
      std::aligned_alloc(64, (packedElements(m, k, 4) * 4 + 63) / 64 * 64));
  packPanels(packed, a.data(), m, k, k, 1);
  for (bool transposed : {false, true}) {
    rnnc_rt_product product{};
    product.rows = rows;
    product.m = m;
    product.k = k;
    product.packed = packed;
    product.x = x.data();
    product.xRowStride = transposed ? 1 : k;
    product.xColumnStride = transposed ? rows : 1;
    product.outRowStride = m;
    product.vectorBytes = 64;
    std::vector<float> expected(rows * m), out(rows * m);
    product.out = expected.data();
    ProductBlocking rules = productBlocking(isa, product, sizeof(float));
    runProduct<float>(&two, product, &rules);
    product.out = out.data();
    size_t calls = ProductTuner::candidates(rules, k).size() * ProductTuner::kTrialsPerCandidate;
    for (size_t call = 0; call < calls + 2; ++call) {
      std::fill(out.begin(), out.end(), 0.0f);
      runProduct<float>(&two, product);
      ASSERT_EQ(std::memcmp(out.data(), expected.data(), out.size() * sizeof(float)), 0)
          << "call " << call << " transposed " << transposed;
    }
    ProductShapeKey key{static_cast<int64_t>(isa), 4, rows, m, k, transposed, 2};
    EXPECT_NE(ProductTuner::process()->tuned(key), nullptr);
  }
  std::free(packed);
}

} // namespace
} // namespace rnnc
