// Data sets (compiler/model/Dataset.h): the epochs' bucketed batches (every example once, few
// padded steps, a function of the generator), and a file of birnn's loaded, split and packed into
// the time-major layout the backends read, with zeros past each example's length.
#include "compiler/model/Dataset.h"
#include "compiler/model/ModelLoading.h"
#include "runtime/Safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <unistd.h>

namespace rnnc::model {
namespace {

/// The padded steps of `batches`: each example padded to its batch's longest.
int64_t paddedSteps(const std::vector<std::vector<size_t>> &batches,
                    const std::vector<int64_t> &lengths) {
  int64_t padded = 0;
  for (const auto &batch : batches) {
    int64_t longest = 0;
    for (size_t example : batch)
      longest = std::max(longest, lengths[example]);
    for (size_t example : batch)
      padded += longest - lengths[example];
  }
  return padded;
}

TEST(DatasetTest, BucketedBatchesHoldEveryExampleOnceWithLittlePadding) {
  std::vector<int64_t> lengths;
  Rng lengthRng(7);
  for (int i = 0; i < 1000; ++i)
    lengths.push_back(1 + int64_t(lengthRng.nextU64() % 100));
  Rng rng(1);
  auto batches = bucketedBatches(lengths, 16, rng);
  std::multiset<size_t> seen;
  for (const auto &batch : batches) {
    EXPECT_LE(batch.size(), 16u);
    seen.insert(batch.begin(), batch.end());
  }
  EXPECT_EQ(batches.size(), 63u); // ceil(1000 / 16)
  ASSERT_EQ(seen.size(), lengths.size());
  for (size_t i = 0; i < lengths.size(); ++i)
    EXPECT_EQ(seen.count(i), 1u);
  // Batches in the order of a plain shuffle pad about a third of the longest length per example;
  // bucketing by length pads a small fraction of that.
  std::vector<std::vector<size_t>> unsorted;
  std::vector<size_t> order(seen.begin(), seen.end());
  Rng shuffleRng(2);
  for (size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[shuffleRng.nextU64() % i]);
  for (size_t first = 0; first < order.size(); first += 16)
    unsorted.emplace_back(order.begin() + first,
                          order.begin() + std::min(order.size(), first + 16));
  EXPECT_LT(paddedSteps(batches, lengths) * 5, paddedSteps(unsorted, lengths));
}

TEST(DatasetTest, BucketedBatchesAreAFunctionOfTheGenerator) {
  std::vector<int64_t> lengths(200);
  for (size_t i = 0; i < lengths.size(); ++i)
    lengths[i] = int64_t(i % 13) + 1;
  Rng first(5), again(5), other(6);
  auto batches = bucketedBatches(lengths, 8, first);
  EXPECT_EQ(batches, bucketedBatches(lengths, 8, again));
  EXPECT_NE(batches, bucketedBatches(lengths, 8, other));
}

class DatasetFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("rnnc-dataset-test-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
    auto module =
        loadModule(RNNC_SOURCE_DIR "/examples/birnn.rnn", {{"K", 10}, {"M", 10}, {"H", 4}});
    ASSERT_TRUE(module) << module.error().message;
    module_ = module.take();
    // Example e has length e + 1 (of T = 3) and tokens 10e + t in x, 10e + t + 1 in y, mod 10.
    std::vector<int32_t> x(9, 9), y(9, 9); // 9 past the lengths: never read
    for (int32_t e = 0; e < 3; ++e)
      for (int32_t t = 0; t <= e; ++t) {
        x[size_t(e * 3 + t)] = (e * 3 + t) % 10;
        y[size_t(e * 3 + t)] = (e * 3 + t + 1) % 10;
      }
    TensorMap tensors{{"x", Tensor::fromValues<int32_t>({3, 3}, x)},
                      {"y", Tensor::fromValues<int32_t>({3, 3}, y)},
                      {"lengths", Tensor::fromValues<int32_t>({3}, {1, 2, 3})}};
    ASSERT_TRUE(writeSafetensors(path(), tensors));
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::string path() const { return (directory_ / "data.safetensors").string(); }

  std::filesystem::path directory_;
  std::unique_ptr<ir::Module> module_;
};

TEST_F(DatasetFileTest, PacksExamplesTimeMajorWithZerosPastTheirLengths) {
  EXPECT_TRUE(isDatasetPath(path()));
  EXPECT_TRUE(isDatasetPath(directory_.string()));
  EXPECT_FALSE(isDatasetPath(RNNC_SOURCE_DIR "/examples/birnn.rnn"));
  auto dataset = Dataset::load(path(), *module_->findGraph("forward"));
  ASSERT_TRUE(dataset) << dataset.error().message;
  EXPECT_EQ(dataset->size(), 3);
  EXPECT_EQ(dataset->metric(), "accuracy");
  // Examples 2 and 1, in that order: T = 3, the longer's.
  std::vector<size_t> examples{2, 1};
  TrainingBatch batch = dataset->pack(examples);
  EXPECT_EQ(batch.lengths.at("t"), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(batch.items, 5);
  EXPECT_EQ(batch.steps, 5);
  const Tensor &x = batch.data.at("x");
  EXPECT_EQ(x.shape(), (std::vector<int64_t>{3, 2}));
  auto values = x.values<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(values.begin(), values.end()),
            (std::vector<int32_t>{6, 3, 7, 4, 8, 0}));
  // One example: T = its length.
  std::vector<size_t> first{0};
  EXPECT_EQ(dataset->pack(first).data.at("y").shape(), (std::vector<int64_t>{1, 1}));
}

TEST_F(DatasetFileTest, SplitsIntoDisjointSets) {
  auto dataset = Dataset::load(path(), *module_->findGraph("forward"));
  ASSERT_TRUE(dataset) << dataset.error().message;
  Rng rng(3);
  auto [kept, heldOut] = dataset->split(1, rng);
  EXPECT_EQ(kept.size(), 2);
  EXPECT_EQ(heldOut.size(), 1);
  // The three examples have lengths 1, 2 and 3: the two sets' steps add up to 6.
  std::vector<size_t> keptAll{0, 1}, heldAll{0};
  EXPECT_EQ(kept.pack(keptAll).steps + heldOut.pack(heldAll).steps, 6);
}

} // namespace
} // namespace rnnc::model
