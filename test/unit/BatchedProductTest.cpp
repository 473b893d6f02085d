// The batched products of compiled kernels (KernelPlan.h, GemmEmitter.cpp, runtime/Gemm.h): a
// matmul over T·B rows, one inside a scan over B rows, and weight-gradient sum_outers over the
// valid (t, b) rows (gathered with mixed lengths, read in place with equal ones; one of them
// reads a forward shift planned as a view), for widths that exercise every edge of the register
// tiles (m = 1, a partial last panel, m below one panel, several panel blocks; k = 1), against
// the interpreter in double; results bit-identical for 1, 2 and 3 threads and from run to run;
// the runtime's packing and thread partition.
#include "compiler/backend/Backend.h"
#include "compiler/model/BackendRegistry.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/Parameters.h"
#include "ir/Interpreter.h"
#include "ir/Parser.h"
#include "runtime/Gemm.h"
#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace rnnc {
namespace {

/// y = W x over all steps, z = tanh(V z(t-1) + y) in a scan, grad.W = Σ_t z(t) x(t)ᵀ and
/// grad.V = Σ_t z(t) z(t-1)ᵀ.
std::string productModule(int64_t m, int64_t k) {
  std::string M = std::to_string(m), K = std::to_string(k);
  return "module @products {\n"
         "  graph @forward {\n"
         "    %W = param {init = \"glorot\", name = \"W\"} : f32[" + M + "," + K + "]\n"
         "    %V = param {init = \"glorot\", name = \"V\"} : f32[" + M + "," + M + "]\n"
         "    %x = input {name = \"x\"} : f32[" + K + "][t]\n"
         "    %0 = constant {value = 0.0} : f32[" + M + "]\n"
         "    %y = matmul %W, %x : f32[" + M + "][t]\n"
         "    output {name = \"y\"} %y\n"
         "    %z = scan {axis = \"t\", carries = 1, direction = \"forward\", steps = 1} %0, %y, %V {\n"
         "    ^(%z.1: f32[" + M + "], %y.1: f32[" + M + "], %V.1: f32[" + M + "," + M + "]):\n"
         "      %1 = matmul %V.1, %z.1 : f32[" + M + "]\n"
         "      %2 = add %y.1, %1 : f32[" + M + "]\n"
         "      %z.2 = tanh %2 : f32[" + M + "]\n"
         "      yield {carries = 1} %z.2, %z.2\n"
         "    } : f32[" + M + "][t]\n"
         "    output {name = \"z\"} %z\n"
         "    %g = sum_outer %z, %x : f32[" + M + "," + K + "]\n"
         "    output {name = \"grad.W\"} %g\n"
         "    %zs = shift {direction = \"forward\"} %z, %0 : f32[" + M + "][t]\n"
         "    %gv = sum_outer %z, %zs : f32[" + M + "," + M + "]\n"
         "    output {name = \"grad.V\"} %gv\n"
         "  }\n"
         "}\n";
}

struct Case {
  std::unique_ptr<ir::Module> module;
  TensorMap params, data;
  ir::Batch batch;
};

Case makeCase(int64_t m, int64_t k, int64_t examples, int64_t steps, bool variableLengths) {
  Case result;
  auto module = ir::parseModule(productModule(m, k), "products.rnnir");
  EXPECT_TRUE(module) << module.error().message;
  if (!module)
    return result;
  result.module = module.take();
  const ir::Graph &graph = *result.module->findGraph("forward");
  auto params = model::initializeParameters(graph, 3, DType::F64);
  EXPECT_TRUE(params) << params.error().message;
  result.params = params.take();
  model::RandomDataOptions options;
  options.batch = examples;
  options.steps = steps;
  options.variableLengths = variableLengths;
  options.seed = 9;
  options.realType = DType::F64;
  result.data = model::randomData(graph, options);
  auto lengths = model::extractLengths(graph, result.data);
  EXPECT_TRUE(lengths) << lengths.error().message;
  result.batch.params = &result.params;
  result.batch.data = &result.data;
  result.batch.lengths = *lengths;
  return result;
}

struct Shape {
  int64_t m, k, examples;
};

class BatchedProductTest : public ::testing::TestWithParam<Shape> {};

void expectMatchesTheInterpreter(const Shape &shape, bool variableLengths) {
  SCOPED_TRACE(variableLengths ? "mixed lengths" : "equal lengths");
  Case products = makeCase(shape.m, shape.k, shape.examples, 6, variableLengths);
  ASSERT_NE(products.module, nullptr);
  const ir::Graph &graph = *products.module->findGraph("forward");
  auto expected = ir::runGraph(graph, products.batch, ir::RunOptions{});
  ASSERT_TRUE(expected) << expected.error().message;
  auto jit = model::createBackend("jit");
  ASSERT_TRUE(jit) << jit.error().message;
  for (ir::Precision precision : {ir::Precision::Float, ir::Precision::Double}) {
    ir::RunOptions options;
    options.precision = precision;
    double tolerance = precision == ir::Precision::Float ? 1e-4 : 1e-12;
    auto actual = (*jit)->run(graph, products.batch, options);
    ASSERT_TRUE(actual) << actual.error().message;
    for (const char *name : {"y", "z", "grad.W", "grad.V"}) {
      SCOPED_TRACE(std::string(name) + (precision == ir::Precision::Float ? " f32" : " f64"));
      Tensor want = expected->at(name).convert(DType::F64);
      Tensor got = actual->at(name).convert(DType::F64);
      ASSERT_EQ(got.shape(), want.shape());
      // Without a lengths tensor every example has all the steps.
      auto lengths = products.batch.lengths.find("t");
      for (int64_t i = 0; i < want.numElements(); ++i) {
        if (want.rank() == 3 && lengths != products.batch.lengths.end()) {
          // [T, B, m]: steps past an example's length are not compared
          int64_t t = i / (shape.examples * shape.m), b = i / shape.m % shape.examples;
          if (t >= lengths->second[static_cast<size_t>(b)])
            continue;
        }
        double w = want.values<double>()[i];
        ASSERT_NEAR(got.values<double>()[i], w, tolerance * std::max(1.0, std::abs(w)))
            << "at flat index " << i;
      }
    }
  }
}

TEST_P(BatchedProductTest, MatchesTheInterpreter) {
  expectMatchesTheInterpreter(GetParam(), /*variableLengths=*/true);
  expectMatchesTheInterpreter(GetParam(), /*variableLengths=*/false);
}

INSTANTIATE_TEST_SUITE_P(Shapes, BatchedProductTest,
                         ::testing::Values(Shape{1, 1, 1}, Shape{5, 3, 7}, Shape{16, 1, 2},
                                           Shape{33, 17, 13}, Shape{65, 40, 6},
                                           Shape{130, 9, 4}));

TEST(BatchedProductThreadsTest, BitIdenticalForAnyThreadCount) {
  Case products = makeCase(97, 70, 23, 9, true);
  ASSERT_NE(products.module, nullptr);
  const ir::Graph &graph = *products.module->findGraph("forward");
  auto run = [&](int threads) {
    auto jit = model::createBackend("jit");
    EXPECT_TRUE(jit);
    ir::RunOptions options;
    options.precision = ir::Precision::Float;
    options.threads = threads;
    auto outputs = (*jit)->run(graph, products.batch, options);
    EXPECT_TRUE(outputs) << outputs.error().message;
    return outputs.take();
  };
  TensorMap single = run(1);
  for (int threads : {1, 2, 3})
    for (int repeat = 0; repeat < 2; ++repeat) {
      TensorMap outputs = run(threads);
      for (const auto &[name, tensor] : single) {
        const Tensor &other = outputs.at(name);
        ASSERT_EQ(other.byteSize(), tensor.byteSize());
        ASSERT_EQ(std::memcmp(other.bytes(), tensor.bytes(), static_cast<size_t>(tensor.byteSize())), 0)
            << name << " differs with " << threads << " threads, run " << repeat;
      }
    }
}

TEST(PackPanelsTest, PanelsHoldColumnsOfAZeroPadded) {
  const int64_t m = 19, k = 3, lanes = kPanelBytes / 4;
  std::vector<float> a(m * k);
  for (int64_t i = 0; i < m * k; ++i)
    a[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  std::vector<float> packed(static_cast<size_t>(packedElements(m, k, 4)), -1);
  ASSERT_EQ(packed.size(), size_t(2 * lanes * k));
  packPanels(packed.data(), a.data(), m, k, k, int64_t(1));
  for (int64_t j = 0; j < 2; ++j)
    for (int64_t p = 0; p < k; ++p)
      for (int64_t l = 0; l < lanes; ++l) {
        int64_t i = j * lanes + l;
        float want = i < m ? a[static_cast<size_t>(i * k + p)] : 0.0f;
        ASSERT_EQ(packed[static_cast<size_t>((j * k + p) * lanes + l)], want);
      }
}

TEST(ThreadPoolTest, RunsEveryPartOnce) {
  ThreadPool pool(3);
  for (int round = 0; round < 1000; ++round) {
    std::vector<int> calls(3, 0);
    pool.run([&](int part) { ++calls[static_cast<size_t>(part)]; });
    ASSERT_EQ(calls, std::vector<int>({1, 1, 1})) << "round " << round;
  }
}

TEST(ThreadPoolTest, PartitionCoversTheRangeInOrder) {
  for (int64_t count : {0, 1, 5, 64, 101})
    for (int parts : {1, 2, 3, 8}) {
      int64_t next = 0;
      for (int part = 0; part < parts; ++part) {
        int64_t begin, end;
        partitionRange(count, part, parts, begin, end);
        ASSERT_EQ(begin, next);
        ASSERT_LE(end - begin, count / parts + 1);
        next = end;
      }
      ASSERT_EQ(next, count);
    }
}

} // namespace
} // namespace rnnc
