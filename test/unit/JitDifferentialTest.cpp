// Differential tests of the compiled backends, `jit` (in-process) and `aot` (the object of
// `rnnc compile`, linked by the C compiler and loaded), against the reference interpreter, on
// every example model (small dims, odd sizes so vector loops have remainders, batches whose
// lengths differ):
//   forward   every output and the loss, in float (relative 1e-4) and double (1e-9);
//   backward  the autodiff graph (passes::runPipeline): the same plus every grad.<param>, also
//             with checkpointing and truncated BPTT;
//   inference the outputs that need no target, on the inputs alone (InferenceGraph.h);
//   generate  each example's prime of a different length, then sampled steps with the same seed:
//             the same tokens and values (double), and greedy generation in float;
//   errors    a bad batch gives the interpreter's message, word for word.
#include "compiler/backend/Backend.h"
#include "compiler/model/BackendRegistry.h"
#include "compiler/model/InferenceGraph.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/Parameters.h"
#include "compiler/passes/Pipeline.h"
#include "ir/Interpreter.h"

#include "test/unit/DifferentialSupport.h"
#include "test/unit/ExampleModels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace rnnc {
namespace {

constexpr int64_t kBatch = 3, kSteps = 6, kMaxDim = 9;

/// The compiled backends under test.
const std::vector<std::string> kBackends = {"jit", "aot"};

std::unique_ptr<backend::Backend> compiledBackend(const std::string &name) {
  auto backend = model::createBackend(name);
  EXPECT_TRUE(backend) << backend.error().message;
  return backend ? backend.take() : nullptr;
}

using test_support::expectMatches;
using test_support::expectSameRun;
using test_support::ModelBatch;

/// Parameters and random data for `graph` in `dtype`, with mixed lengths unless `equalLengths`.
ModelBatch randomBatch(const ir::Graph &graph, DType dtype, bool equalLengths = false,
                       int64_t examples = kBatch, int64_t steps = kSteps) {
  return test_support::randomBatch(graph, dtype, equalLengths, examples, steps);
}

/// Runs `check(dtype, options, tolerance)` in float (relative 1e-4) and double (1e-9).
template <typename Check> void inBothPrecisions(Check check) {
  for (ir::Precision precision : {ir::Precision::Float, ir::Precision::Double}) {
    SCOPED_TRACE(precision == ir::Precision::Float ? "float" : "double");
    bool isFloat = precision == ir::Precision::Float;
    ir::RunOptions options;
    options.precision = precision;
    check(isFloat ? DType::F32 : DType::F64, options, isFloat ? 1e-4 : 1e-9);
  }
}

/// (backend, example model path).
class JitDifferentialTest
    : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
protected:
  const std::string &backendName() const { return std::get<0>(GetParam()); }
  const std::string &modelPath() const { return std::get<1>(GetParam()); }
};

// Inference (compiler/model/InferenceGraph.h): on the inputs alone, the compiled backend gives the
// interpreter's outputs, and the interpreter gives the values the forward graph computes with the
// targets. The models whose every output reads a target (they feed it back) have none.
void expectSameInference(ir::Module &module, const ir::Graph &forward, backend::Backend &jit) {
  const std::map<std::string, std::string> teacherForced = {
      {"context", "y"}, {"jordan", "y"}, {"seq2seq", "tgt"}};
  auto inference = model::addInferenceGraph(module);
  if (auto target = teacherForced.find(module.name()); target != teacherForced.end()) {
    ASSERT_FALSE(inference);
    EXPECT_EQ(inference.error().message, "every output of model '" + module.name() +
                                             "' needs its targets ('" + target->second +
                                             "'); its generate clause predicts them");
    return;
  }
  ASSERT_TRUE(inference) << inference.error().message;
  EXPECT_TRUE((*inference)->opsOfKind(ir::OpKind::Target).empty());
  EXPECT_EQ((*inference)->findOutput("loss"), nullptr);
  ASSERT_FALSE((*inference)->opsOfKind(ir::OpKind::Output).empty());
  inBothPrecisions([&](DType dtype, const ir::RunOptions &options, double tolerance) {
    ModelBatch batch = randomBatch(forward, dtype);
    TensorMap inputs = model::graphData(**inference, batch.data);
    ir::Batch inputsOnly = batch.batch;
    inputsOnly.data = &inputs;
    expectSameRun(jit, **inference, inputsOnly, options, tolerance);

    auto alone = ir::runGraph(**inference, inputsOnly, options);
    auto full = ir::runGraph(forward, batch.batch, options);
    ASSERT_TRUE(alone && full);
    TensorMap sameNames;
    for (const auto &[name, tensor] : *alone)
      if (auto found = full->find(name); found != full->end())
        sameNames.insert(*found);
    expectMatches(sameNames, *alone, 0.0);
  });
}

// The forward graph, with the targets and (expectSameInference) without them.
TEST_P(JitDifferentialTest, ForwardMatchesInterpreter) {
  std::unique_ptr<ir::Module> module = test_support::loadSmallModel(modelPath(), kMaxDim);
  ASSERT_NE(module, nullptr);
  const ir::Graph *forward = module->findGraph("forward");
  ASSERT_NE(forward, nullptr);
  std::unique_ptr<backend::Backend> jit = compiledBackend(backendName());
  ASSERT_NE(jit, nullptr);
  inBothPrecisions([&](DType dtype, const ir::RunOptions &options, double tolerance) {
    ModelBatch batch = randomBatch(*forward, dtype);
    expectSameRun(*jit, *forward, batch.batch, options, tolerance);
  });
  expectSameInference(*module, *forward, *jit);
}

/// Derives the backward graph with `autodiff` options and compares it in float and double.
void expectSameBackward(const std::string &backendName, const std::string &path,
                        const passes::AutodiffOptions &autodiff, bool equalLengths = false) {
  std::unique_ptr<ir::Module> module = test_support::loadSmallModel(path, kMaxDim);
  ASSERT_NE(module, nullptr);
  passes::PipelineOptions pipeline;
  pipeline.backward = true;
  pipeline.autodiff = autodiff;
  auto report = passes::runPipeline(*module, pipeline);
  ASSERT_TRUE(report) << report.error().message;
  const ir::Graph *backward = module->findGraph("backward");
  ASSERT_NE(backward, nullptr);
  ASSERT_FALSE(backward->opsOfKind(ir::OpKind::Output).empty());
  std::unique_ptr<backend::Backend> jit = compiledBackend(backendName);
  ASSERT_NE(jit, nullptr);
  inBothPrecisions([&](DType dtype, const ir::RunOptions &options, double tolerance) {
    ModelBatch batch = randomBatch(*backward, dtype, equalLengths);
    expectSameRun(*jit, *backward, batch.batch, options, tolerance);
  });
}

TEST_P(JitDifferentialTest, BackwardMatchesInterpreter) {
  expectSameBackward(backendName(), modelPath(), {});
}

// With every example as long as the longest, the weight gradients' products read their rows in
// place instead of gathering the valid ones (LinearAlgebraEmitter.cpp, emitBatchSummedOuter).
TEST_P(JitDifferentialTest, BackwardWithEqualLengthsMatchesInterpreter) {
  expectSameBackward(backendName(), modelPath(), {}, /*equalLengths=*/true);
}

// Checkpointing (segments of 2 steps: segment/unsegment, scan results over `t/2`) and truncated
// BPTT produce other graphs for the same gradients.
TEST_P(JitDifferentialTest, CheckpointedBackwardMatchesInterpreter) {
  expectSameBackward(backendName(), modelPath(), {.truncate = 0, .checkpoint = 2});
}

TEST_P(JitDifferentialTest, TruncatedBackwardMatchesInterpreter) {
  expectSameBackward(backendName(), modelPath(), {.truncate = 2, .checkpoint = 0});
}

TEST_P(JitDifferentialTest, GenerationMatchesInterpreter) {
  std::unique_ptr<ir::Module> module = test_support::loadSmallModel(modelPath(), kMaxDim);
  ASSERT_NE(module, nullptr);
  const ir::Graph *generate = module->findGraph("generate");
  if (!generate)
    GTEST_SKIP() << "no generate clause";
  std::unique_ptr<backend::Backend> jit = compiledBackend(backendName());
  ASSERT_NE(jit, nullptr);
  std::vector<const ir::Op *> generated = model::generatedInputs(*generate);
  ASSERT_FALSE(generated.empty());
  for (ir::Precision precision : {ir::Precision::Double, ir::Precision::Float}) {
    SCOPED_TRACE(precision == ir::Precision::Float ? "float, greedy" : "double, sampled");
    bool isFloat = precision == ir::Precision::Float;
    // Data over every step generation reaches (Type II inputs); primes of 0, 1 and 2 steps.
    ModelBatch batch = randomBatch(*generate, isFloat ? DType::F32 : DType::F64);
    const std::vector<int64_t> primes = {2, 0, 1};
    for (const ir::Op *input : generated) {
      const std::string &axis = input->result()->type().axis;
      batch.batch.primeLengths[axis] = primes;
      std::vector<int64_t> &lengths = batch.batch.lengths[axis];
      lengths.clear();
      for (int64_t prime : primes)
        lengths.push_back(prime + 3);
      batch.batch.axisSteps.erase(axis);
    }
    ir::RunOptions options;
    options.precision = precision;
    options.seed = 11;
    options.greedy = isFloat;
    expectSameRun(*jit, *generate, batch.batch, options, isFloat ? 1e-4 : 1e-9);
  }
}

/// "jit_elman", "aot_elman".
std::string caseName(const ::testing::TestParamInfo<std::tuple<std::string, std::string>> &info) {
  return std::get<0>(info.param) + "_" + std::filesystem::path(std::get<1>(info.param)).stem().string();
}

INSTANTIATE_TEST_SUITE_P(Examples, JitDifferentialTest,
                         ::testing::Combine(::testing::ValuesIn(kBackends),
                                            ::testing::ValuesIn(test_support::exampleModels())),
                         caseName);

// The models of the add-an-op recipe (docs/architecture.md): abs, and the functions max … layernorm,
// on an input, on a carried state and on an output, so their lowering runs hoisted, in a scan
// step and before the loss.
INSTANTIATE_TEST_SUITE_P(Ops, JitDifferentialTest,
                         ::testing::Combine(::testing::ValuesIn(kBackends),
                                            ::testing::Values(
                                                std::string(RNNC_SOURCE_DIR
                                                            "/test/gradcheck/Inputs/abs.rnn"),
                                                std::string(RNNC_SOURCE_DIR
                                                            "/test/gradcheck/Inputs/functions.rnn"))),
                         caseName);

/// A bad batch gives the interpreter's messages, word for word.
void expectInterpretersErrors(backend::Backend &jit, const ir::Graph &forward) {
  ModelBatch batch = randomBatch(forward, DType::F32);
  batch.data.at("x").data<int32_t>()[0] = 1000; // an out-of-range token id
  ir::RunOptions options;
  options.precision = ir::Precision::Float;
  auto expected = ir::runGraph(forward, batch.batch, options);
  auto actual = jit.run(forward, batch.batch, options);
  ASSERT_FALSE(expected);
  ASSERT_FALSE(actual);
  EXPECT_EQ(actual.error().kind, ErrorKind::User);
  EXPECT_EQ(actual.error().message, expected.error().message);

  batch.data.erase("y");
  expected = ir::runGraph(forward, batch.batch, options);
  actual = jit.run(forward, batch.batch, options);
  ASSERT_FALSE(actual);
  EXPECT_EQ(actual.error().message, expected.error().message);
}

/// Calls `check` with every compiled backend and the forward graph of example `model`.
template <typename Check> void forEachBackend(const std::string &model, Check check) {
  std::unique_ptr<ir::Module> module =
      test_support::loadSmallModel(test_support::examplePath(model), kMaxDim);
  ASSERT_NE(module, nullptr);
  const ir::Graph &forward = *module->findGraph("forward");
  for (const std::string &name : kBackends) {
    SCOPED_TRACE(name);
    std::unique_ptr<backend::Backend> backend = compiledBackend(name);
    ASSERT_NE(backend, nullptr);
    check(*backend, forward);
  }
}

TEST(JitBackendTest, BadBatchGivesTheInterpretersError) {
  forEachBackend("elman", expectInterpretersErrors);
}

TEST(JitBackendTest, SecondRunReusesTheKernelAndMixedPrecisionTensorsAreConverted) {
  forEachBackend("gru", [](backend::Backend &backend, const ir::Graph &forward) {
    // F64 tensors in a float run (and the other way round) are converted, as the interpreter
    // does.
    ModelBatch batch = randomBatch(forward, DType::F64);
    ir::RunOptions options;
    options.precision = ir::Precision::Float;
    expectSameRun(backend, forward, batch.batch, options, 1e-4);
    expectSameRun(backend, forward, batch.batch, options, 1e-4);
  });
}

// Per-example loops outside scans (elementwise passes, sum_time, output copies) run on the
// runtime's threads once a batch is large enough (EmitContext::forEachExampleInParallel,
// kParallelWork in runtime/Gemm.cpp): with 32 examples of up to 80 steps and 64-wide states they
// do. So do a scan step's element-wise ops when they write enough (kScanStepWorkPerElement in
// GraphEmitter.cpp): the LSTM's gates and cells with 128-wide states do. Every output is the
// interpreter's and byte for byte the same for 1, 2 and 3 threads.
TEST(JitThreadsTest, BackwardIsTheSameForAnyThreadCount) {
  for (auto [model, width] : {std::pair{"elman", 64}, std::pair{"lstm", 128}}) {
    SCOPED_TRACE(model);
    auto loaded = model::loadModule(test_support::examplePath(model), {{"H", width}});
    ASSERT_TRUE(loaded) << loaded.error().message;
    std::unique_ptr<ir::Module> module = loaded.take();
    passes::PipelineOptions pipeline;
    pipeline.backward = true;
    auto report = passes::runPipeline(*module, pipeline);
    ASSERT_TRUE(report) << report.error().message;
    const ir::Graph &backward = *module->findGraph("backward");
    ModelBatch batch = randomBatch(backward, DType::F32, false, 32, 80);
    std::unique_ptr<backend::Backend> jit = compiledBackend("jit");
    ASSERT_NE(jit, nullptr);
    auto run = [&](int threads) {
      ir::RunOptions options;
      options.threads = threads;
      auto outputs = jit->run(backward, batch.batch, options);
      EXPECT_TRUE(outputs) << outputs.error().message;
      return outputs ? outputs.take() : TensorMap{};
    };
    TensorMap single = run(1);
    auto expected = ir::runGraph(backward, batch.batch, ir::RunOptions{});
    ASSERT_TRUE(expected) << expected.error().message;
    expectMatches(*expected, single, 1e-4);
    for (int threads : {2, 3}) {
      TensorMap outputs = run(threads);
      ASSERT_EQ(outputs.size(), single.size());
      for (const auto &[name, tensor] : single) {
        const Tensor &other = outputs.at(name);
        ASSERT_EQ(other.byteSize(), tensor.byteSize());
        EXPECT_EQ(std::memcmp(other.bytes(), tensor.bytes(), size_t(tensor.byteSize())), 0)
            << name << " differs with " << threads << " threads";
      }
    }
  }
}

} // namespace
} // namespace rnnc
