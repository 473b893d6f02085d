// Padding a batch changes no result: for every example model, a batch whose sequence lengths
// differ within it is run as given, then with every sequence tensor padded by extra steps and
// every step past an example's length overwritten with garbage (random token ids, NaN for
// reals). Every output restricted to each example's valid steps, and the loss, must be unchanged
// (to 1e-12 in double), and the padding of the outputs must be zeros.
#include "compiler/model/ModelData.h"
#include "compiler/model/Parameters.h"
#include "ir/Interpreter.h"

#include "test/unit/ExampleModels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

namespace rnnc::driver {
namespace {

constexpr int64_t kSteps = 5, kExtraSteps = 3, kBatch = 4, kMaxDim = 6;

/// `data` with every sequence tensor kExtraSteps steps longer, and every step past an example's
/// length (on the tensor's axis) garbage.
TensorMap padWithGarbage(const ir::Graph &graph, const TensorMap &data,
                         const std::map<std::string, std::vector<int64_t>> &lengths) {
  TensorMap padded = data;
  Rng rng(99);
  for (ir::OpKind kind : {ir::OpKind::Input, ir::OpKind::Target}) {
    for (const ir::Op *op : graph.opsOfKind(kind)) {
      const ir::Type &type = op->result()->type();
      if (!type.isSequence())
        continue;
      const std::string &name = op->nameAttr();
      const Tensor &original = data.at(name);
      std::vector<int64_t> shape = original.shape();
      int64_t steps = shape[0], width = original.numElements() / (steps * kBatch);
      shape[0] += kExtraSteps;
      Tensor longer(original.dtype(), shape);
      size_t elementSize = dtypeSize(original.dtype());
      for (int64_t t = 0; t < shape[0]; ++t) {
        for (int64_t b = 0; b < kBatch; ++b) {
          int64_t offset = (t * kBatch + b) * width;
          if (t < lengths.at(type.axis)[b]) {
            std::memcpy(longer.bytes() + offset * elementSize,
                        original.bytes() + offset * elementSize, width * elementSize);
            continue;
          }
          for (int64_t i = 0; i < width; ++i) {
            if (type.isToken())
              longer.data<int32_t>()[offset + i] = int32_t(rng.nextU64() % uint64_t(type.vocab));
            else
              longer.data<double>()[offset + i] = std::numeric_limits<double>::quiet_NaN();
          }
        }
      }
      padded[name] = std::move(longer);
    }
  }
  return padded;
}

void expectSameResults(const ir::Graph &graph, const TensorMap &expected, const TensorMap &actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (const auto &[name, want] : expected) {
    SCOPED_TRACE("output '" + name + "'");
    ASSERT_TRUE(actual.count(name));
    const Tensor &got = actual.at(name);
    const ir::Op *output = graph.findOutput(name);
    ASSERT_NE(output, nullptr);
    std::vector<int64_t> shape = want.shape();
    if (output->operand(0)->type().isSequence())
      shape[0] += kExtraSteps;
    ASSERT_EQ(got.shape(), shape);
    ASSERT_EQ(got.dtype(), want.dtype());
    for (int64_t i = 0; i < got.numElements(); ++i) {
      bool padding = i >= want.numElements();
      if (want.dtype() == DType::I32) {
        EXPECT_EQ(got.values<int32_t>()[i], padding ? 0 : want.values<int32_t>()[i]) << i;
      } else {
        double value = padding ? 0.0 : want.values<double>()[i];
        EXPECT_NEAR(got.values<double>()[i], value, 1e-12) << "at flat index " << i;
      }
    }
  }
}

TEST(PaddingInvarianceTest, EveryExampleIgnoresPadding) {
  std::vector<std::string> models = test_support::exampleModels();
  ASSERT_GE(models.size(), 10u);
  for (const std::string &path : models) {
    SCOPED_TRACE(path);
    std::unique_ptr<ir::Module> module = test_support::loadSmallModel(path, kMaxDim);
    ASSERT_NE(module, nullptr);
    const ir::Graph *forward = module->findGraph("forward");
    ASSERT_NE(forward, nullptr);

    auto params = model::initializeParameters(*forward, 1, DType::F64);
    ASSERT_TRUE(params) << params.error().message;
    model::RandomDataOptions options;
    options.batch = kBatch;
    options.steps = kSteps;
    options.variableLengths = true;
    options.seed = 3;
    options.realType = DType::F64;
    TensorMap data = model::randomData(*forward, options);
    auto lengths = model::extractLengths(*forward, data);
    ASSERT_TRUE(lengths) << lengths.error().message;
    for (const auto &[axis, values] : *lengths)
      ASSERT_TRUE(std::any_of(values.begin(), values.end(), [](int64_t l) { return l < kSteps; }))
          << "lengths on axis '" << axis << "' do not differ within the batch";

    ir::RunOptions run;
    run.precision = ir::Precision::Double;
    ir::Batch batch{&*params, &data, *lengths, {}, {}};
    auto expected = ir::runGraph(*forward, batch, run);
    ASSERT_TRUE(expected) << expected.error().message;

    TensorMap padded = padWithGarbage(*forward, data, *lengths);
    ir::Batch paddedBatch{&*params, &padded, *lengths, {}, {}};
    auto actual = ir::runGraph(*forward, paddedBatch, run);
    ASSERT_TRUE(actual) << actual.error().message;
    expectSameResults(*forward, *expected, *actual);
  }
}

} // namespace
} // namespace rnnc::driver
