// Random models (test/unit/RandomModels.h) against the reference interpreter: for each seed, the
// generated model must load; its forward and backward graphs must give the interpreter's
// outputs, loss and every gradient on the JIT (float and double, a batch with mixed lengths),
// the same bits on 2 threads as on 1, the same results from AOT (every fourth seed: it runs the
// C compiler), the same generated sequences when it generates, and its derived gradients must
// pass the finite-difference check.
//
// ctest runs seeds 0 … 29 (about a minute). RNNC_RANDOM_MODELS=N and RNNC_RANDOM_MODELS_FIRST=S
// run N seeds from S (scripts/fuzz.sh --models runs thousands); a failing seed prints its model.
#include "compiler/model/BackendRegistry.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "compiler/passes/GradientCheck.h"
#include "compiler/passes/Pipeline.h"

#include "test/unit/DifferentialSupport.h"
#include "test/unit/RandomModels.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace rnnc {
namespace {

constexpr int64_t kBatch = 3, kSteps = 5;

int64_t environmentNumber(const char *name, int64_t fallback) {
  const char *value = std::getenv(name);
  return value && *value ? std::strtoll(value, nullptr, 10) : fallback;
}

std::unique_ptr<backend::Backend> backendNamed(const std::string &name) {
  auto backend = model::createBackend(name);
  EXPECT_TRUE(backend) << backend.error().message;
  return backend ? backend.take() : nullptr;
}

/// Runs `graph` on the JIT with 1 and 2 threads: the same bits.
void expectSameBitsOnTwoThreads(backend::Backend &jit, const ir::Graph &graph,
                                const ir::Batch &batch, ir::RunOptions options) {
  options.threads = 1;
  auto one = jit.run(graph, batch, options);
  ASSERT_TRUE(one) << one.error().message;
  options.threads = 2;
  auto two = jit.run(graph, batch, options);
  ASSERT_TRUE(two) << two.error().message;
  for (const auto &[name, tensor] : *one) {
    auto found = two->find(name);
    ASSERT_NE(found, two->end()) << name;
    ASSERT_EQ(found->second.byteSize(), tensor.byteSize()) << name;
    ASSERT_EQ(std::memcmp(found->second.bytes(), tensor.bytes(), tensor.byteSize()), 0)
        << "'" << name << "' differs with 2 threads";
  }
}

/// Generation from no prime (every step generated) on a batch of mixed lengths: the JIT (and
/// AOT when given) against the interpreter, greedy and sampled, in double precision, where the
/// tokens must be the interpreter's exactly.
void expectSameGeneration(backend::Backend &jit, backend::Backend *aot, const ir::Graph &graph) {
  SCOPED_TRACE("generate");
  test_support::ModelBatch batch =
      test_support::randomBatch(graph, DType::F64, /*equalLengths=*/false, kBatch, kSteps);
  for (const ir::Op *prime : model::generatedInputs(graph)) {
    batch.data.erase(prime->nameAttr());
    batch.batch.axisSteps[prime->result()->type().axis] = kSteps;
  }
  for (bool greedy : {true, false}) {
    ir::RunOptions options;
    options.precision = ir::Precision::Double;
    options.greedy = greedy;
    options.seed = 11;
    test_support::expectSameRun(jit, graph, batch.batch, options, 1e-9);
    if (aot)
      test_support::expectSameRun(*aot, graph, batch.batch, options, 1e-9);
  }
}

/// Backends cache kernels by graph (Backend.h: a graph must outlive the backend's use), so each
/// model gets backends of its own.
void checkRandomModel(uint64_t seed, bool withAot) {
  std::unique_ptr<backend::Backend> jitBackend = backendNamed("jit");
  std::unique_ptr<backend::Backend> aotBackend = withAot ? backendNamed("aot") : nullptr;
  ASSERT_TRUE(jitBackend && (aotBackend || !withAot));
  backend::Backend &jit = *jitBackend;
  backend::Backend *aot = aotBackend.get();
  std::string text = test_support::randomModel(seed);
  SCOPED_TRACE("random model of seed " + std::to_string(seed) + ":\n" + text);
  auto module = model::loadModuleFromSource(text, "random.rnn", {});
  ASSERT_TRUE(module) << module.error().message;
  passes::PipelineOptions pipeline;
  pipeline.backward = true;
  auto derived = passes::runPipeline(**module, pipeline);
  ASSERT_TRUE(derived) << derived.error().message;

  for (const char *graphName : {"forward", "backward"}) {
    SCOPED_TRACE(graphName);
    const ir::Graph *graph = (*module)->findGraph(graphName);
    ASSERT_NE(graph, nullptr);
    for (ir::Precision precision : {ir::Precision::Double, ir::Precision::Float}) {
      SCOPED_TRACE(precision == ir::Precision::Float ? "float" : "double");
      bool isFloat = precision == ir::Precision::Float;
      test_support::ModelBatch batch = test_support::randomBatch(
          *graph, isFloat ? DType::F32 : DType::F64, /*equalLengths=*/false, kBatch, kSteps);
      ir::RunOptions options;
      options.precision = precision;
      test_support::expectSameRun(jit, *graph, batch.batch, options, isFloat ? 1e-4 : 1e-9);
      if (isFloat)
        expectSameBitsOnTwoThreads(jit, *graph, batch.batch, options);
      if (aot && !isFloat)
        test_support::expectSameRun(*aot, *graph, batch.batch, options, 1e-9);
    }
  }

  if (const ir::Graph *generate = (*module)->findGraph("generate"))
    expectSameGeneration(jit, aot, *generate);

  const ir::Graph &forward = *(*module)->findGraph("forward");
  auto params = model::initializeParameters(forward, seed, DType::F64);
  ASSERT_TRUE(params) << params.error().message;
  model::RandomDataOptions dataOptions;
  dataOptions.batch = kBatch;
  dataOptions.steps = kSteps;
  dataOptions.variableLengths = true;
  dataOptions.seed = seed;
  dataOptions.realType = DType::F64;
  TensorMap data = model::randomData(forward, dataOptions);
  auto lengths = model::extractLengths(forward, data);
  ASSERT_TRUE(lengths) << lengths.error().message;
  auto report =
      passes::checkGradients(**module, *params, model::graphData(forward, data), *lengths);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->passed(1e-6)) << report->summary();
}

TEST(RandomModelTest, CompiledBackendsMatchTheInterpreterAndGradientsCheck) {
  int64_t first = environmentNumber("RNNC_RANDOM_MODELS_FIRST", 0);
  int64_t count = environmentNumber("RNNC_RANDOM_MODELS", 30);
  for (int64_t seed = first; seed < first + count; ++seed) {
    checkRandomModel(static_cast<uint64_t>(seed), /*withAot=*/seed % 4 == 0);
    if (HasFatalFailure() || HasNonfatalFailure())
      break; // the first failing seed, with its model, is the report
  }
  std::printf("%lld random models checked from seed %lld\n", static_cast<long long>(count),
              static_cast<long long>(first));
}

TEST(RandomModelTest, TheGeneratorIsDeterministicAndVaried) {
  EXPECT_EQ(test_support::randomModel(7), test_support::randomModel(7));
  EXPECT_NE(test_support::randomModel(7), test_support::randomModel(8));
  // Across seeds the generator reaches each of its constructs.
  std::string all;
  for (uint64_t seed = 0; seed < 30; ++seed)
    all += test_support::randomModel(seed);
  for (const char *construct :
       {"token<I>", "input  ctx", "[t+1]", "[last+1]", "label", "slice(", "concat(", "sigmoid(",
        "tanh(", "sqerr(", "nll(", "(1 - ", "@ ctx", "x[s]", "enc = ", "[first]", "@ enc)",
        "y[t-1]", "generate x[t+1]", "generate y[t] ~", "generate y[t] ="})
    EXPECT_NE(all.find(construct), std::string::npos) << construct;
}

} // namespace
} // namespace rnnc
