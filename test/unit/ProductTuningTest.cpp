// runtime/ProductTuning.h: the candidates a shape is tried with, the choice of the fastest from
// recorded trials (synthetic times, so the test does not depend on the machine), and tuned
// products giving the same bits as the rules' blocking on every call while the tuner tries
// each candidate; the wisdom file that carries choices from one process to the next.
#include "runtime/Gemm.h"
#include "runtime/Product.h"
#include "runtime/ProductTuning.h"
#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
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
  // A short reduction and a row block of one tile: variants that coincide (a row block of a
  // quarter tile, panels that fit L1 over the whole reduction) are tried once.
  auto few = ProductTuner::candidates(rulesLike(100, 1), 100);
  EXPECT_EQ(few.size(), 3u);
}

TEST(ProductTuningTest, TheFastestCloseCandidateIsChosenAndSlowOnesAreDropped) {
  ProductTuner tuner;
  ProductShapeKey key{64, 4, 3200, 256, 1024, 1, 2};
  ProductBlocking rules = rulesLike(256, 16);
  int count = static_cast<int>(ProductTuner::candidates(rules, key.k).size());
  ASSERT_GE(count, 4);
  // Candidate 2 is the fastest, candidate 0 close to it (kept), the others far (dropped).
  auto seconds = [](int candidate) {
    return candidate == 2 ? 1.0 : candidate == 0 ? 1.1 : 5.0;
  };
  std::vector<int> tried;
  for (int call = 0; call < ProductTuner::kMaxTrialCalls && !tuner.tuned(key); ++call) {
    ProductTuner::Choice choice = tuner.choose(key, rules);
    ASSERT_GE(choice.candidate, 0) << "call " << call;
    tried.push_back(choice.candidate);
    tuner.record(key, choice.candidate, seconds(choice.candidate));
  }
  // A first round over every candidate in order, then only the close ones until each has had
  // its trials.
  std::vector<int> expected;
  for (int candidate = 0; candidate < count; ++candidate)
    expected.push_back(candidate);
  for (int round = 1; round < ProductTuner::kTrialsPerCandidate; ++round)
    expected.insert(expected.end(), {0, 2});
  EXPECT_EQ(tried, expected);
  const ProductBlocking *tuned = tuner.tuned(key);
  ASSERT_NE(tuned, nullptr);
  ProductBlocking fastest = ProductTuner::candidates(rules, key.k)[2];
  EXPECT_EQ(tuned->reduction, fastest.reduction);
  EXPECT_EQ(tuned->rowBlockTiles, fastest.rowBlockTiles);
  ProductTuner::Choice later = tuner.choose(key, rules);
  EXPECT_EQ(later.candidate, -1);
  EXPECT_EQ(later.blocking.reduction, fastest.reduction);
  // Another shape is tuned on its own.
  ProductShapeKey other = key;
  other.rows = 32;
  EXPECT_EQ(tuner.choose(other, rules).candidate, 0);
}

TEST(ProductTuningTest, TrialsRecordedOutOfOrderStillEndInAChoice) {
  // Threads of a data-parallel run may record trials in any order.
  ProductTuner tuner;
  ProductShapeKey key{64, 4, 200, 72, 700, 0, 1};
  ProductBlocking rules = rulesLike(64, 4);
  std::vector<ProductTuner::Choice> pending;
  for (int call = 0; call < ProductTuner::kMaxTrialCalls; ++call)
    pending.push_back(tuner.choose(key, rules));
  for (auto choice = pending.rbegin(); choice != pending.rend(); ++choice)
    tuner.record(key, choice->candidate, 1.0 + choice->candidate);
  for (int call = 0; call < ProductTuner::kMaxTrialCalls && !tuner.tuned(key); ++call) {
    ProductTuner::Choice choice = tuner.choose(key, rules);
    tuner.record(key, choice.candidate, 1.0 + choice.candidate);
  }
  ASSERT_NE(tuner.tuned(key), nullptr);
  EXPECT_EQ(tuner.tuned(key)->reduction, rules.reduction); // candidate 0 was fastest
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
    for (int call = 0; call < ProductTuner::kMaxTrialCalls + 2; ++call) {
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

/// Tunes `key` on `tuner` with synthetic times in which candidate `fastest` wins.
void tuneWithSyntheticTimes(ProductTuner &tuner, const ProductShapeKey &key,
                            const ProductBlocking &rules, int fastest) {
  for (int call = 0; call < ProductTuner::kMaxTrialCalls && !tuner.tuned(key); ++call) {
    ProductTuner::Choice choice = tuner.choose(key, rules);
    tuner.record(key, choice.candidate, choice.candidate == fastest ? 1.0 : 1.1);
  }
  ASSERT_NE(tuner.tuned(key), nullptr);
}

/// A fresh wisdom file path in a directory of its own.
std::string freshWisdomPath(const char *name) {
  std::filesystem::path directory =
      std::filesystem::temp_directory_path() /
      ("rnnc-wisdom-" + std::string(name) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  return (directory / "product-wisdom.txt").string();
}

void writeText(const std::string &path, const std::string &text) {
  std::ofstream(path, std::ios::trunc) << text;
}

TEST(ProductTuningTest, WisdomCarriesAChoiceToTheNextProcess) {
  std::string path = freshWisdomPath("carries");
  ProductShapeKey key{64, 4, 3200, 256, 1024, 1, 2};
  ProductBlocking rules = rulesLike(256, 16);
  ProductBlocking fastest = ProductTuner::candidates(rules, key.k)[3];
  {
    ProductTuner first;
    first.useWisdomFile(path);
    tuneWithSyntheticTimes(first, key, rules, 3);
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  ProductTuner next; // as in another process
  next.useWisdomFile(path);
  ProductTuner::Choice choice = next.choose(key, rules);
  EXPECT_EQ(choice.candidate, -1) << "a shape in the wisdom is not tuned again";
  EXPECT_EQ(choice.blocking.reduction, fastest.reduction);
  EXPECT_EQ(choice.blocking.rowBlockTiles, fastest.rowBlockTiles);
  // Shapes it does not hold are tuned as without wisdom.
  ProductShapeKey other = key;
  other.threads = 1;
  EXPECT_EQ(next.choose(other, rules).candidate, 0);
}

TEST(ProductTuningTest, ProcessesSharingWisdomKeepEachOthersShapes) {
  std::string path = freshWisdomPath("shared");
  ProductShapeKey one{64, 4, 32, 256, 1024, 0, 1}, two{64, 4, 3200, 1024, 256, 0, 1};
  ProductBlocking rules = rulesLike(256, 4);
  ProductTuner first, second;
  first.useWisdomFile(path);
  second.useWisdomFile(path); // read before the first wrote anything
  tuneWithSyntheticTimes(first, one, rules, 1);
  tuneWithSyntheticTimes(second, two, rules, 2);
  ProductTuner third;
  third.useWisdomFile(path);
  EXPECT_EQ(third.choose(one, rules).candidate, -1);
  EXPECT_EQ(third.choose(two, rules).candidate, -1);
}

TEST(ProductTuningTest, MalformedOrStaleWisdomIsIgnored) {
  ProductShapeKey key{64, 4, 3200, 256, 1024, 1, 2};
  ProductBlocking rules = rulesLike(256, 16);
  std::string shape = "64 4 3200 256 1024 1 2 ";
  std::string path = freshWisdomPath("malformed");
  for (const std::string &text : {
           std::string("rnnc-product-wisdom 0\n") + shape + "8 2 256 16\n", // another version
           "rnnc-product-wisdom 1\n" + shape + "8 2 256\n",                  // a field short
           "rnnc-product-wisdom 1\n" + shape + "8 2 256 16 7\n",             // one too many
           "rnnc-product-wisdom 1\n" + shape + "8 2 256 x\n",                // not a number
           "rnnc-product-wisdom 1\n" + shape + "8 2 999 16\n", // not one of its candidates
       }) {
    SCOPED_TRACE(text);
    writeText(path, text);
    ProductTuner tuner;
    tuner.useWisdomFile(path);
    EXPECT_EQ(tuner.choose(key, rules).candidate, 0) << "the shape is tuned";
  }
  // The same line with a well-formed file is used: the cases above fail for their defect alone.
  writeText(path, "rnnc-product-wisdom 1\n" + shape + "8 2 256 16\n");
  ProductTuner tuner;
  tuner.useWisdomFile(path);
  EXPECT_EQ(tuner.choose(key, rules).candidate, -1);
}

} // namespace
} // namespace rnnc
