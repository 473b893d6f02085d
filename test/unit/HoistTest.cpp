// Time-parallel hoisting (compiler/passes/HoistTimeParallel.h) keeps every result: for every
// example model, the module is derived twice through the pipeline (autodiff, simplification,
// CSE, DCE), once with hoisting, and the forward, backward and generate graphs of both give the
// same outputs on random batches with mixed lengths (to 1e-12 in double). The hoisting must also
// do its job: the Elman scan keeps only matmul %W, add and tanh, and the weight gradients leave
// the gradient scan as sum_outer.
#include "compiler/model/ModelData.h"
#include "compiler/model/Parameters.h"
#include "compiler/passes/HoistTimeParallel.h"
#include "compiler/passes/Pipeline.h"
#include "ir/Interpreter.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include "test/unit/ExampleModels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

namespace rnnc::driver {
namespace {

constexpr int64_t kSteps = 5, kBatch = 4, kMaxDim = 6;

/// The module of `path` with its backward graph, hoisted or not.
std::unique_ptr<ir::Module> derive(const std::string &path, bool hoist) {
  std::unique_ptr<ir::Module> module = test_support::loadSmallModel(path, kMaxDim);
  if (!module)
    return nullptr;
  passes::PipelineOptions options;
  options.backward = true;
  options.hoist = hoist;
  auto report = passes::runPipeline(*module, options);
  EXPECT_TRUE(report) << report.error().message;
  return report ? std::move(module) : nullptr;
}

/// Ops inside scan bodies (without the yields).
size_t opsInScans(const ir::Graph &graph) {
  size_t count = 0;
  for (const auto &op : graph.body().ops())
    if (op->body())
      count += op->body()->ops().size() - 1;
  return count;
}

/// The mnemonics of every scan body's ops (without the yields), in order.
std::vector<std::string> scanBodyOps(const ir::Graph &graph) {
  std::vector<std::string> mnemonics;
  for (const auto &op : graph.body().ops())
    if (op->body())
      for (const auto &inner : op->body()->ops())
        if (inner->kind() != ir::OpKind::Yield)
          mnemonics.push_back(inner->mnemonic());
  return mnemonics;
}

size_t countOps(const ir::Graph &graph, ir::OpKind kind) {
  size_t count = 0;
  graph.body().walk([&](ir::Op &op) { count += op.kind() == kind; });
  return count;
}

/// A random batch for `graph` with mixed lengths; for a generate graph, without its primes (the
/// whole sequence is generated, greedily).
struct RandomBatch {
  TensorMap params, data;
  ir::Batch batch;
};

RandomBatch randomBatch(const ir::Graph &graph) {
  RandomBatch random;
  auto params = model::initializeParameters(graph, 1, DType::F64);
  EXPECT_TRUE(params) << params.error().message;
  if (params)
    random.params = params.take();
  model::RandomDataOptions options;
  options.batch = kBatch;
  options.steps = kSteps;
  options.variableLengths = true;
  options.seed = 7;
  options.realType = DType::F64;
  random.data = model::randomData(graph, options);
  auto lengths = model::extractLengths(graph, random.data);
  EXPECT_TRUE(lengths) << lengths.error().message;
  if (lengths)
    random.batch.lengths = *lengths;
  for (const ir::Op *prime : model::generatedInputs(graph)) {
    random.data.erase(prime->nameAttr());
    random.batch.axisSteps[prime->result()->type().axis] = kSteps;
  }
  return random;
}

void expectSameOutputs(const ir::Graph &plain, const ir::Graph &hoisted) {
  RandomBatch random = randomBatch(plain);
  random.batch.params = &random.params;
  random.batch.data = &random.data;
  ir::RunOptions run;
  run.precision = ir::Precision::Double;
  run.greedy = true;
  auto expected = ir::runGraph(plain, random.batch, run);
  ASSERT_TRUE(expected) << expected.error().message;
  auto actual = ir::runGraph(hoisted, random.batch, run);
  ASSERT_TRUE(actual) << actual.error().message;
  ASSERT_FALSE(expected->empty());
  ASSERT_EQ(expected->size(), actual->size());
  for (const auto &[name, want] : *expected) {
    SCOPED_TRACE("output '" + name + "'");
    ASSERT_TRUE(actual->count(name));
    const Tensor &got = actual->at(name);
    ASSERT_EQ(got.shape(), want.shape());
    ASSERT_EQ(got.dtype(), want.dtype());
    for (int64_t i = 0; i < got.numElements(); ++i) {
      if (want.dtype() == DType::I32)
        ASSERT_EQ(got.values<int32_t>()[i], want.values<int32_t>()[i]) << "at flat index " << i;
      else
        ASSERT_NEAR(got.values<double>()[i], want.values<double>()[i], 1e-12)
            << "at flat index " << i;
    }
  }
}

TEST(HoistTest, EveryExampleKeepsItsOutputs) {
  std::vector<std::string> models = test_support::exampleModels();
  ASSERT_GE(models.size(), 10u);
  for (const std::string &path : models) {
    SCOPED_TRACE(path);
    std::unique_ptr<ir::Module> plain = derive(path, false), hoisted = derive(path, true);
    ASSERT_TRUE(plain && hoisted);
    for (const auto &graph : plain->graphs()) {
      SCOPED_TRACE("graph @" + graph->name());
      const ir::Graph *after = hoisted->findGraph(graph->name());
      ASSERT_NE(after, nullptr);
      EXPECT_LE(opsInScans(*after), opsInScans(*graph));
      expectSameOutputs(*graph, *after);
    }
    // Hoisting reaches a fixed point: a second run finds nothing left to move.
    auto again = passes::hoistTimeParallel(*hoisted);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*again, 0u) << ir::printModule(*hoisted);
  }
}

TEST(HoistTest, ElmanKeepsOnlyTheCriticalPathInItsScans) {
  const std::string path = RNNC_SOURCE_DIR "/examples/elman.rnn";
  std::unique_ptr<ir::Module> plain = derive(path, false), hoisted = derive(path, true);
  ASSERT_TRUE(plain && hoisted);

  const ir::Graph &forward = *hoisted->findGraph("forward");
  EXPECT_LT(opsInScans(forward), opsInScans(*plain->findGraph("forward")));
  EXPECT_EQ(scanBodyOps(forward), (std::vector<std::string>{"matmul", "add", "tanh"}))
      << ir::printGraph(forward);

  // Backward: the forward scan as above, then δ(t) = (carried + V^T ∇o(t)) ⊙ (1 − h(t)²) and
  // W^T δ(t); the three weight gradients of the recurrence and dV are one product each.
  const ir::Graph &backward = *hoisted->findGraph("backward");
  EXPECT_LT(opsInScans(backward), opsInScans(*plain->findGraph("backward")));
  EXPECT_EQ(scanBodyOps(backward),
            (std::vector<std::string>{"matmul", "add", "tanh", "add", "mul", "matmul"}))
      << ir::printGraph(backward);
  EXPECT_EQ(countOps(backward, ir::OpKind::SumOuter), 3u) << ir::printGraph(backward);
  EXPECT_EQ(countOps(backward, ir::OpKind::Outer), 0u) << ir::printGraph(backward);
}

TEST(HoistTest, LstmScanLosesItsInputProjection) {
  std::unique_ptr<ir::Module> plain = derive(RNNC_SOURCE_DIR "/examples/lstm.rnn", false),
                              hoisted = derive(RNNC_SOURCE_DIR "/examples/lstm.rnn", true);
  ASSERT_TRUE(plain && hoisted);
  std::vector<std::string> before = scanBodyOps(*plain->findGraph("forward")),
                           after = scanBodyOps(*hoisted->findGraph("forward"));
  // weight_ih_l0 @ x(t) and both biases leave: one matmul and two adds fewer.
  EXPECT_EQ(std::count(after.begin(), after.end(), "matmul"), 1);
  EXPECT_EQ(after.size() + 3, before.size()) << ir::printGraph(*hoisted->findGraph("forward"));
}

/// The hand-written reverse scan of test/passes/hoist-carry.rnnir: a carry that is no state
/// becomes a shift, and the results do not change.
TEST(HoistTest, CarryWithoutStateBecomesAShift) {
  auto plain = ir::parseModuleFile(RNNC_SOURCE_DIR "/test/passes/hoist-carry.rnnir");
  ASSERT_TRUE(plain) << plain.error().message;
  auto hoisted = ir::parseModuleFile(RNNC_SOURCE_DIR "/test/passes/hoist-carry.rnnir");
  ASSERT_TRUE(hoisted) << hoisted.error().message;
  auto changes = passes::hoistTimeParallel(**hoisted);
  ASSERT_TRUE(changes) << changes.error().message;
  EXPECT_GT(*changes, 0u);
  ASSERT_TRUE(ir::verifyModule(**hoisted)) << ir::printModule(**hoisted);
  const ir::Graph &graph = *(*hoisted)->findGraph("forward");
  EXPECT_EQ(countOps(graph, ir::OpKind::Shift), 1u) << ir::printGraph(graph);
  EXPECT_EQ(scanBodyOps(graph), (std::vector<std::string>{"matmul", "add", "tanh"}))
      << ir::printGraph(graph);
  expectSameOutputs(*(*plain)->findGraph("forward"), graph);
}

} // namespace
} // namespace rnnc::driver
