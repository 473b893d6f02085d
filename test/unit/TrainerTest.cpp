// The model layer's Trainer (compiler/model/Trainer.h) driven through its hooks, as `rnnc train`
// drives it: a run calls the step, evaluation and log hooks at the right steps, the stop hook
// ends a run early (which saves and logs), a resumed run continues the same curve, and
// --dump-task-data writes its file and gives no trainer. And the one optimiser step
// (compiler/model/OptimizerStep.h): clipping, the norm it reports, and a non-finite gradient that
// changes nothing. The lit tests of test/train check the command's output and files.
#include "compiler/model/Trainer.h"
#include "compiler/model/OptimizerStep.h"
#include "runtime/Optimizer.h"
#include "runtime/Safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

namespace rnnc::model {
namespace {

class TrainerTest : public ::testing::Test {
protected:
  void SetUp() override {
    // Unique per process and test: ctest runs the tests of this file in parallel.
    directory_ = std::filesystem::temp_directory_path() /
                 ("rnnc-trainer-test-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
    std::ofstream corpus(path("corpus.txt"));
    for (int i = 0; i < 12; ++i)
      corpus << "the quick brown fox jumps over the lazy dog. ";
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string path(const std::string &name) const { return (directory_ / name).string(); }

  /// elman with H = 4 on the corpus: 6 steps of 2 windows of 4 characters, evaluated every 2.
  TrainerOptions textOptions() const {
    TrainerOptions options;
    options.modelPath = RNNC_SOURCE_DIR "/examples/elman.rnn";
    options.dataPath = path("corpus.txt");
    options.dims = {{"H", 4}};
    options.steps = 6;
    options.batch = 2;
    options.sequence = 4;
    options.evalEvery = 2;
    options.schedule = {2e-3, 2e-4, 0, 6};
    return options;
  }

  std::filesystem::path directory_;
};

/// What the hooks saw.
struct HookCalls {
  std::vector<int64_t> stepped, evaluated;
  int logs = 0;
  TrainerHooks hooks() {
    TrainerHooks hooks;
    hooks.stepped = [this](const ProgressState &progress) { stepped.push_back(progress.step); };
    hooks.evaluated = [this](const ProgressState &progress) { evaluated.push_back(progress.step); };
    hooks.writeLogs = [this](const TrainingHistory &) {
      ++logs;
      return Status::ok();
    };
    return hooks;
  }
};

TEST_F(TrainerTest, RunCallsTheHooksAtEveryStepAndEvaluation) {
  auto trainer = Trainer::create(textOptions());
  ASSERT_TRUE(trainer) << trainer.error().message;
  ASSERT_TRUE(*trainer);
  HookCalls calls;
  auto outcome = (*trainer)->run(calls.hooks());
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_FALSE(outcome->stopped);
  EXPECT_EQ(outcome->stepsRun, 6);
  EXPECT_EQ(calls.stepped, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(calls.evaluated, (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(calls.logs, 3);
  const auto &records = (*trainer)->history().records();
  ASSERT_EQ(records.size(), 6u);
  for (const TrainingRecord &record : records) {
    EXPECT_TRUE(std::isfinite(record.trainLoss));
    EXPECT_EQ(record.hasValidation(), record.step % 2 == 0) << "step " << record.step;
  }
}

TEST_F(TrainerTest, StopHookEndsTheRunAndSaves) {
  TrainerOptions options = textOptions();
  options.savePath = path("stopped.safetensors");
  auto trainer = Trainer::create(options);
  ASSERT_TRUE(trainer) << trainer.error().message;
  HookCalls calls;
  TrainerHooks hooks = calls.hooks();
  int polls = 0;
  hooks.stopRequested = [&] { return ++polls > 3; }; // polled before each step
  auto outcome = (*trainer)->run(hooks);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_TRUE(outcome->stopped);
  EXPECT_EQ(outcome->stepsRun, 3);
  EXPECT_EQ((*trainer)->step(), 3);
  EXPECT_EQ(calls.evaluated, (std::vector<int64_t>{2})); // no evaluation after a stop
  EXPECT_EQ(calls.logs, 2);                              // step 2, then the stop
  auto checkpoint = readCheckpoint(*options.savePath);
  ASSERT_TRUE(checkpoint) << checkpoint.error().message;
  EXPECT_EQ(checkpoint->step, 3);
}

TEST_F(TrainerTest, ResumedRunContinuesTheSameCurve) {
  auto whole = Trainer::create(textOptions());
  ASSERT_TRUE(whole) << whole.error().message;
  ASSERT_TRUE((*whole)->run({}));

  TrainerOptions first = textOptions();
  first.steps = 4;
  first.savePath = path("half.safetensors");
  auto half = Trainer::create(first);
  ASSERT_TRUE(half) << half.error().message;
  ASSERT_TRUE((*half)->run({}));
  TrainerOptions second = textOptions();
  second.resumePath = first.savePath;
  auto resumed = Trainer::create(second);
  ASSERT_TRUE(resumed) << resumed.error().message;
  EXPECT_EQ((*resumed)->step(), 4);
  ASSERT_TRUE((*resumed)->run({}));

  const auto &expected = (*whole)->history().records(), &actual = (*resumed)->history().records();
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i].trainLoss, expected[i].trainLoss) << "step " << expected[i].step;
    EXPECT_EQ(actual[i].gradientNorm, expected[i].gradientNorm) << "step " << expected[i].step;
  }
}

TEST_F(TrainerTest, DumpTaskDataWritesTheBatchAndGivesNoTrainer) {
  TrainerOptions options;
  options.modelPath = RNNC_SOURCE_DIR "/examples/seq2seq.rnn";
  options.dims = {{"H", 4}};
  options.task = findTask("reverse");
  ASSERT_NE(options.task, nullptr);
  options.batch = 3;
  options.dumpTaskData = path("batch.safetensors");
  auto trainer = Trainer::create(options);
  ASSERT_TRUE(trainer) << trainer.error().message;
  EXPECT_FALSE(*trainer);
  auto batch = readSafetensors(*options.dumpTaskData);
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_FALSE(batch->empty());
}

TEST(OptimizerStepTest, ClipsAndReportsTheNormBeforeClipping) {
  TensorMap params = {{"w", Tensor::fromValues<float>({2}, {1, 1})}};
  TensorMap gradients = {{"w", Tensor::fromValues<float>({2}, {3, 4})}};
  OptimizerSettings settings;
  settings.kind = OptimizerKind::Sgd;
  settings.momentum = 0;
  Optimizer optimizer(settings);
  auto norm = applyOptimizerStep(optimizer, params, gradients, 1, 0.5, "grad.");
  ASSERT_TRUE(norm) << norm.error().message;
  EXPECT_DOUBLE_EQ(*norm, 5);
  auto values = params.at("w").values<float>(); // w - 0.5 * (3, 4) / 5
  EXPECT_FLOAT_EQ(values[0], 0.7f);
  EXPECT_FLOAT_EQ(values[1], 0.6f);
}

TEST(OptimizerStepTest, NonFiniteGradientIsAnErrorAndChangesNothing) {
  TensorMap params = {{"w", Tensor::fromValues<float>({2}, {1, 1})}};
  TensorMap gradients = {
      {"w", Tensor::fromValues<float>({2}, {1, std::numeric_limits<float>::infinity()})}};
  Optimizer optimizer(OptimizerSettings{});
  auto norm = applyOptimizerStep(optimizer, params, gradients, 0, 0.1, "step 7: the gradient of ");
  ASSERT_FALSE(norm);
  EXPECT_EQ(norm.error().message.rfind("step 7: the gradient of w", 0), 0u) << norm.error().message;
  auto values = params.at("w").values<float>();
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], 1.0f);
}

} // namespace
} // namespace rnnc::model
