// Segment checkpointing (`checkpoint K`, compiler/passes/CheckpointedScanGradient.h) gives the
// gradients of full BPTT: for every example model, the backward graph derived with
// checkpoint K and the one derived without give the same outputs (to 1e-12 in double) on a random
// batch with mixed lengths — lengths shorter than K, equal to it, and not a multiple of it — for
// K = 1, 2, 3, 5 and K longer than the sequences; also with truncation. The checkpointed backward
// verifies, prints and parses back to the same text, and runs the same after the round trip;
// the forward saves the carried states once per K steps.
#include "compiler/model/ModelData.h"
#include "compiler/model/Parameters.h"
#include "compiler/passes/Pipeline.h"
#include "ir/Interpreter.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include "test/unit/ExampleModels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace rnnc::driver {
namespace {

constexpr int64_t kSteps = 7, kBatch = 4, kMaxDim = 5;

std::vector<std::string> exampleNames() {
  std::vector<std::string> names;
  for (const auto &entry : std::filesystem::directory_iterator(RNNC_SOURCE_DIR "/examples"))
    if (entry.path().extension() == ".rnn")
      names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

struct Derived {
  std::unique_ptr<ir::Module> module;
  passes::AutodiffReport report;
};

std::optional<Derived> derive(const std::string &name, passes::AutodiffOptions autodiff) {
  std::unique_ptr<ir::Module> module =
      test_support::loadSmallModel(test_support::examplePath(name), kMaxDim);
  if (!module)
    return std::nullopt;
  passes::PipelineOptions options;
  options.backward = true;
  options.autodiff = autodiff;
  auto report = passes::runPipeline(*module, options);
  EXPECT_TRUE(report) << report.error().message;
  if (!report)
    return std::nullopt;
  return Derived{std::move(module), *report->autodiff};
}

/// A batch of every length class: the full length, one shorter than most K, and a middle one.
struct BatchData {
  TensorMap params, data;
  std::map<std::string, std::vector<int64_t>> lengths;
};

BatchData randomBatch(const ir::Module &module) {
  const ir::Graph &forward = *module.findGraph("forward");
  BatchData batch;
  batch.params = model::initializeParameters(forward, 7, DType::F64).take();
  model::RandomDataOptions options;
  options.batch = kBatch;
  options.steps = kSteps;
  options.seed = 11;
  options.realType = DType::F64;
  TensorMap data = model::randomData(forward, options);
  batch.data = model::graphData(forward, data);
  for (const std::string &axis : model::timeAxes(forward))
    batch.lengths[axis] = {kSteps, 1, 4, 6};
  return batch;
}

TensorMap runBackward(const ir::Graph &backward, const BatchData &batch) {
  auto outputs = ir::runGraph(backward, {&batch.params, &batch.data, batch.lengths, {}, {}});
  EXPECT_TRUE(outputs) << outputs.error().message;
  return outputs ? outputs.take() : TensorMap{};
}

void expectSameOutputs(const TensorMap &expected, const TensorMap &actual,
                       const std::string &what) {
  ASSERT_EQ(expected.size(), actual.size()) << what;
  for (const auto &[name, tensor] : expected) {
    ASSERT_TRUE(actual.count(name)) << what << ": " << name;
    const Tensor &other = actual.at(name);
    ASSERT_EQ(tensor.shape(), other.shape()) << what << ": " << name;
    for (int64_t i = 0; i < tensor.numElements(); ++i) {
      double a = tensor.data<double>()[i], b = other.data<double>()[i];
      EXPECT_NEAR(a, b, 1e-12 * std::max(1.0, std::abs(a)))
          << what << ": " << name << "[" << i << "]";
    }
  }
}

/// Some gradient must be non-zero, or the comparison proves nothing.
bool anyNonZeroGradient(const TensorMap &outputs) {
  for (const auto &[name, tensor] : outputs)
    if (name.starts_with("grad."))
      for (int64_t i = 0; i < tensor.numElements(); ++i)
        if (tensor.data<double>()[i] != 0)
          return true;
  return false;
}

using Case = std::tuple<std::string, int64_t>;

class CheckpointTest : public ::testing::TestWithParam<Case> {};

TEST_P(CheckpointTest, EqualsFullBackpropAndRoundTrips) {
  const auto &[name, K] = GetParam();
  auto full = derive(name, {});
  auto checkpointed = derive(name, {.checkpoint = K});
  ASSERT_TRUE(full && checkpointed);
  BatchData batch = randomBatch(*full->module);
  TensorMap expected = runBackward(*full->module->findGraph("backward"), batch);
  ASSERT_TRUE(anyNonZeroGradient(expected)) << name;
  const ir::Graph &backward = *checkpointed->module->findGraph("backward");
  expectSameOutputs(expected, runBackward(backward, batch),
                    name + " checkpoint " + std::to_string(K));

  // The textual IR round trip: a fixed point, and the parsed graph computes the same.
  std::string text = ir::printModule(*checkpointed->module);
  auto parsed = ir::parseModule(text, name + ".rnnir");
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_TRUE(ir::verifyModule(**parsed)) << text;
  EXPECT_EQ(ir::printModule(**parsed), text);
  expectSameOutputs(expected, runBackward(*(*parsed)->findGraph("backward"), batch),
                    name + " checkpoint " + std::to_string(K) + " after parsing");

  // Memory: every scan saves its carried states once per K steps and nothing else.
  for (const passes::ScanGradientReport &scan : checkpointed->report.scans) {
    if (K == 1)
      continue;
    EXPECT_DOUBLE_EQ(scan.bytesPerStep() * static_cast<double>(K),
                     static_cast<double>(scan.carriedBytes))
        << checkpointed->report.summary();
  }
}

std::vector<Case> cases() {
  std::vector<Case> all;
  for (const std::string &name : exampleNames())
    for (int64_t K : std::vector<int64_t>{1, 2, 3, 5, kSteps + 3})
      all.emplace_back(name, K);
  return all;
}

INSTANTIATE_TEST_SUITE_P(Examples, CheckpointTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return std::get<0>(info.param) + "_K" +
                                  std::to_string(std::get<1>(info.param));
                         });

class CheckpointTruncationTest : public ::testing::TestWithParam<Case> {};

TEST_P(CheckpointTruncationTest, EqualsTruncatedBackprop) {
  const auto &[name, K] = GetParam();
  for (int64_t truncate : {1, 2, 4}) {
    auto truncated = derive(name, {.truncate = truncate});
    auto both = derive(name, {.truncate = truncate, .checkpoint = K});
    ASSERT_TRUE(truncated && both);
    BatchData batch = randomBatch(*truncated->module);
    expectSameOutputs(runBackward(*truncated->module->findGraph("backward"), batch),
                      runBackward(*both->module->findGraph("backward"), batch),
                      name + " truncate " + std::to_string(truncate) + " checkpoint " +
                          std::to_string(K));
  }
}

INSTANTIATE_TEST_SUITE_P(Models, CheckpointTruncationTest,
                         ::testing::Combine(::testing::Values("elman", "birnn", "seq2seq"),
                                            ::testing::Values(2, 3, kSteps + 3)),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return std::get<0>(info.param) + "_K" +
                                  std::to_string(std::get<1>(info.param));
                         });

TEST(CheckpointMemoryTest, TheForwardKeepsOneStatePerSegment) {
  auto derived = derive("lstm", {.checkpoint = 3});
  ASSERT_TRUE(derived);
  const ir::Graph &backward = *derived->module->findGraph("backward");
  size_t segmentResults = 0;
  for (const auto &op : backward.body().ops())
    if (op->kind() == ir::OpKind::Scan && op->axisAttr() == "t")
      for (size_t i = 0; i < op->numResults(); ++i)
        segmentResults += op->result(i)->type().axis == "t/3";
  EXPECT_EQ(segmentResults, 2u) << ir::printGraph(backward); // h and c
  EXPECT_EQ(derived->report.bytesForBatch(100, 32),
            (100 + 2) / 3 * 32 * derived->report.scans.at(0).carriedBytes);
}

TEST(CheckpointMemoryTest, TooLongASegmentIsAUserError) {
  std::unique_ptr<ir::Module> module =
      test_support::loadSmallModel(test_support::examplePath("elman"), kMaxDim);
  ASSERT_TRUE(module);
  auto report = passes::differentiate(*module, {.checkpoint = passes::maxCheckpointSegment + 1});
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().kind, ErrorKind::User);
}

} // namespace
} // namespace rnnc::driver
