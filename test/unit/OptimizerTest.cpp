// Optimisers against hand computations (PyTorch's update rules), state save/restore, the
// learning-rate schedule, global-norm clipping and the non-finite check.
#include "runtime/Optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>

namespace rnnc {
namespace {

TensorMap scalarParams(double value, DType dtype = DType::F64) {
  return {{"w", Tensor::fromValues<double>({1}, {value}).convert(dtype)}};
}

double valueOf(const TensorMap &params, const std::string &name = "w") {
  Tensor value = params.at(name).convert(DType::F64);
  return value.values<double>()[0];
}

TEST(OptimizerTest, SgdWithMomentumMatchesHandComputation) {
  Optimizer sgd({OptimizerKind::Sgd, 0.9});
  TensorMap params = scalarParams(1.0);
  TensorMap gradients = scalarParams(0.5);
  // v = 0.5, w = 1 - 0.1 * 0.5; then v = 0.9 * 0.5 + 0.5 = 0.95, w = 0.95 - 0.1 * 0.95.
  ASSERT_TRUE(sgd.step(params, gradients, 0.1));
  EXPECT_DOUBLE_EQ(valueOf(params), 0.95);
  ASSERT_TRUE(sgd.step(params, gradients, 0.1));
  EXPECT_DOUBLE_EQ(valueOf(params), 0.855);
  EXPECT_DOUBLE_EQ(valueOf(sgd.state(), "velocity.w"), 0.95);
  EXPECT_EQ(sgd.updates(), 2);
}

TEST(OptimizerTest, PlainSgdWithoutMomentum) {
  Optimizer sgd({OptimizerKind::Sgd, 0.0});
  TensorMap params = scalarParams(1.0);
  ASSERT_TRUE(sgd.step(params, scalarParams(0.5), 0.1));
  ASSERT_TRUE(sgd.step(params, scalarParams(0.5), 0.1));
  EXPECT_DOUBLE_EQ(valueOf(params), 0.9);
}

TEST(OptimizerTest, AdamMatchesHandComputation) {
  Optimizer adam({OptimizerKind::Adam});
  TensorMap params = scalarParams(1.0);
  // Step 1: m = 0.05, v = 0.00025, m^ = 0.5, v^ = 0.25: w = 1 - 0.1 * 0.5 / (0.5 + 1e-8).
  ASSERT_TRUE(adam.step(params, scalarParams(0.5), 0.1));
  EXPECT_NEAR(valueOf(params), 0.900000002, 1e-15);
  // Step 2 (g = -1): m = -0.055, v = 0.00124975, bias corrections 1 - 0.9^2 and 1 - 0.999^2.
  ASSERT_TRUE(adam.step(params, scalarParams(-1.0), 0.1));
  EXPECT_NEAR(valueOf(params), 0.9366103542405654, 1e-15);
  EXPECT_NEAR(valueOf(adam.state(), "m.w"), -0.055, 1e-15);
  EXPECT_NEAR(valueOf(adam.state(), "v.w"), 0.00124975, 1e-15);
  EXPECT_EQ(adam.updates(), 2);
}

TEST(OptimizerTest, Float32StateHasTheParameterDtype) {
  Optimizer adam({OptimizerKind::Adam});
  TensorMap params = scalarParams(1.0, DType::F32);
  ASSERT_TRUE(adam.step(params, scalarParams(0.5, DType::F32), 0.1));
  EXPECT_EQ(adam.state().at("m.w").dtype(), DType::F32);
  EXPECT_NEAR(valueOf(params), 0.9, 1e-7);
}

TEST(OptimizerTest, RestoredStateContinuesExactly) {
  TensorMap params = {{"a", Tensor::fromValues<float>({2}, {0.5f, -1.0f})},
                      {"b", Tensor::fromValues<float>({}, {2.0f})}};
  TensorMap gradients = {{"a", Tensor::fromValues<float>({2}, {0.3f, 0.1f})},
                         {"b", Tensor::fromValues<float>({}, {-0.7f})}};
  for (OptimizerKind kind : {OptimizerKind::Sgd, OptimizerKind::Adam}) {
    Optimizer original({kind});
    TensorMap trained = params;
    ASSERT_TRUE(original.step(trained, gradients, 0.01));
    Optimizer restored({kind});
    ASSERT_TRUE(restored.loadState(original.state(), trained));
    TensorMap copy = trained;
    ASSERT_TRUE(original.step(trained, gradients, 0.01));
    ASSERT_TRUE(restored.step(copy, gradients, 0.01));
    EXPECT_EQ(trained, copy) << optimizerName(kind);
    EXPECT_EQ(original.state(), restored.state()) << optimizerName(kind);
  }
}

TEST(OptimizerTest, LoadStateErrorsNameTheTensor) {
  TensorMap params = scalarParams(1.0);
  Optimizer adam({OptimizerKind::Adam});
  ASSERT_TRUE(adam.step(params, scalarParams(0.5), 0.1));
  auto loadWith = [&](auto change) {
    TensorMap state = adam.state();
    change(state);
    Optimizer fresh({OptimizerKind::Adam});
    Status status = fresh.loadState(state, params);
    return status ? std::string("ok") : status.error().message;
  };
  EXPECT_EQ(loadWith([](TensorMap &state) { state.erase("v.w"); }),
            "adam state: tensor 'v.w' is missing");
  EXPECT_EQ(loadWith([](TensorMap &state) { state.erase("step"); }),
            "adam state: tensor 'step' is missing");
  EXPECT_EQ(loadWith([](TensorMap &state) { state.emplace("m.other", Tensor()); }),
            "adam state: unexpected tensor 'm.other'");
  EXPECT_EQ(loadWith([](TensorMap &state) { state["m.w"] = Tensor(DType::F64, {2}); }),
            "adam state: tensor 'm.w' has shape [2], expected [1]");
  EXPECT_EQ(
      loadWith([](TensorMap &state) { state["step"] = Tensor::fromValues<double>({}, {1.5}); }),
      "adam state: 'step' must be a whole number of updates");
  Optimizer sgd({OptimizerKind::Sgd});
  Status status = sgd.loadState(adam.state(), params);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "sgd state: unexpected tensor 'm.w'");
}

TEST(OptimizerTest, MismatchedGradientsAreInternalErrors) {
  Optimizer adam({OptimizerKind::Adam});
  TensorMap params = scalarParams(1.0);
  TensorMap wrongShape = {{"w", Tensor(DType::F64, {2})}};
  Status status = adam.step(params, wrongShape, 0.1);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::Internal);
}

TEST(OptimizerTest, AParameterWithoutAGradientIsNotTrained) {
  // A frozen parameter (`frozen param`) has no gradient: it keeps its value and has no state.
  Optimizer adam({OptimizerKind::Adam});
  TensorMap params = scalarParams(1.0);
  params.emplace("frozen", Tensor::fromValues<double>({1}, {3.0}));
  ASSERT_TRUE(adam.step(params, scalarParams(0.5), 0.1));
  EXPECT_NEAR(valueOf(params), 0.900000002, 1e-15);
  EXPECT_EQ(valueOf(params, "frozen"), 3.0);
  EXPECT_EQ(adam.state().count("m.frozen"), 0u);
  EXPECT_EQ(adam.state().count("v.frozen"), 0u);
  // A gradient without a parameter is still the caller's error.
  TensorMap stray = {{"stray", Tensor::fromValues<double>({1}, {1.0})}};
  Status status = adam.step(params, stray, 0.1);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::Internal);
}

TEST(OptimizerTest, ScheduleWarmsUpThenDecaysAlongACosine) {
  LearningRateSchedule schedule{1.0, 0.1, 10, 111};
  EXPECT_DOUBLE_EQ(schedule.at(1), 0.1);
  EXPECT_DOUBLE_EQ(schedule.at(5), 0.5);
  EXPECT_DOUBLE_EQ(schedule.at(10), 1.0);
  EXPECT_DOUBLE_EQ(schedule.at(11), 1.0);
  EXPECT_DOUBLE_EQ(schedule.at(61), 0.55); // half way: the mean of peak and minimum
  EXPECT_NEAR(schedule.at(111), 0.1, 1e-15);
  EXPECT_NEAR(schedule.at(500), 0.1, 1e-15);
  LearningRateSchedule oneStep{1.0, 0.1, 0, 1};
  EXPECT_DOUBLE_EQ(oneStep.at(1), 1.0);
  LearningRateSchedule constant{0.5, 0.05, 0, 0};
  EXPECT_DOUBLE_EQ(constant.at(1), 0.5);
  EXPECT_DOUBLE_EQ(constant.at(1000), 0.5);
}

TEST(OptimizerTest, ScheduleCanDecayByTime) {
  LearningRateSchedule schedule{1.0, 0.1, 10, 0};
  schedule.decaySeconds = 60;
  EXPECT_DOUBLE_EQ(schedule.at(5, 50), 0.5); // the warm-up still counts steps
  EXPECT_DOUBLE_EQ(schedule.at(11, 0), 1.0);
  EXPECT_DOUBLE_EQ(schedule.at(12, 30), 0.55); // half the time: half way, whatever the step
  EXPECT_DOUBLE_EQ(schedule.at(100000, 30), 0.55);
  EXPECT_NEAR(schedule.at(12, 60), 0.1, 1e-15);
  EXPECT_NEAR(schedule.at(12, 90), 0.1, 1e-15);
}

TEST(OptimizerTest, ClippingScalesToTheMaximumNormAndReturnsTheNorm) {
  TensorMap gradients = {{"a", Tensor::fromValues<double>({1}, {3.0})},
                         {"b", Tensor::fromValues<float>({1}, {4.0f})}};
  EXPECT_DOUBLE_EQ(globalNorm(gradients), 5.0);
  EXPECT_DOUBLE_EQ(clipGlobalNorm(gradients, 10.0), 5.0);
  EXPECT_DOUBLE_EQ(valueOf(gradients, "a"), 3.0); // under the maximum: unchanged
  EXPECT_DOUBLE_EQ(clipGlobalNorm(gradients, 1.0), 5.0);
  EXPECT_NEAR(valueOf(gradients, "a"), 0.6, 1e-6);
  EXPECT_NEAR(valueOf(gradients, "b"), 0.8, 1e-6);
  EXPECT_NEAR(globalNorm(gradients), 1.0, 1e-6);
}

TEST(OptimizerTest, NonFiniteValuesAreNamedWithTheirIndex) {
  TensorMap tensors = {
      {"a", Tensor::fromValues<float>({2, 2}, {1, 2, 3, 4})},
      {"b", Tensor::fromValues<double>({3}, {0, 0, std::numeric_limits<double>::infinity()})},
      {"c", Tensor::fromValues<float>({}, {std::nanf("")})}};
  Status status = checkFinite(tensors, "step 3: the gradient of ");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "step 3: the gradient of b [2] is inf");
  tensors.erase("b");
  status = checkFinite(tensors, "");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "c is nan");
  tensors.erase("c");
  EXPECT_TRUE(checkFinite(tensors, ""));
}

} // namespace
} // namespace rnnc
