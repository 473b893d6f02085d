// Seeded initialisers: golden values (the same on every platform), determinism, statistics,
// orthogonality, and errors.
#include "runtime/Init.h"

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include <cmath>

namespace rnnc {
namespace {

Tensor parameter(const std::vector<int64_t> &shape, Initializer init, uint64_t seed = 1,
                 DType dtype = DType::F64, const std::string &name = "W") {
  Expected<Tensor> tensor = makeParameter(name, dtype, shape, init, seed);
  EXPECT_TRUE(tensor) << tensor.error().message;
  return tensor ? tensor.take() : Tensor();
}

struct Moments {
  double mean, deviation, minimum, maximum;
};

Moments moments(const Tensor &tensor) {
  std::span<const double> values = tensor.values<double>();
  double sum = 0, squares = 0;
  for (double value : values)
    sum += value;
  double mean = sum / double(values.size());
  for (double value : values)
    squares += (value - mean) * (value - mean);
  auto [minimum, maximum] = std::minmax_element(values.begin(), values.end());
  return {mean, std::sqrt(squares / double(values.size())), *minimum, *maximum};
}

/// The rows x cols parameter as an Eigen matrix (row-major storage).
Eigen::MatrixXd asMatrix(const Tensor &tensor) {
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      tensor.data<double>(), tensor.shape()[0], tensor.shape()[1]);
}

// Golden values from an independent Python implementation of splitmix64 + xoshiro256**: they
// pin the generator so checkpoints initialised from a seed are the same everywhere.
TEST(InitTest, RngGoldenValues) {
  Rng rng(42);
  EXPECT_EQ(rng.nextU64(), 0x15780b2e0c2ec716ull);
  EXPECT_EQ(rng.nextU64(), 0x6104d9866d113a7eull);
  EXPECT_EQ(rng.nextU64(), 0xae17533239e499a1ull);

  Rng gaussian(42);
  EXPECT_DOUBLE_EQ(gaussian.normal(), -0.303263064678738);
  EXPECT_DOUBLE_EQ(gaussian.normal(), 0.28846173882942383);
  EXPECT_DOUBLE_EQ(gaussian.normal(), 1.3438117634372806);

  EXPECT_EQ(parameterSeed(1, "W"), 0x756078a8e2d2b259ull);
}

TEST(InitTest, GlorotGoldenValues) {
  Tensor weights = parameter({2, 3}, {InitKind::Glorot}, 1, DType::F32);
  std::vector<float> expected = {-0.2521814703941345f, 0.8829981088638306f,   0.8895198702812195f,
                                 0.12935343384742737f, -0.28230032324790955f, 0.7156470417976379f};
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_FLOAT_EQ(weights.data<float>()[i], expected[i]) << "element " << i;
}

TEST(InitTest, RngCopiesContinueIdentically) {
  Rng rng(7);
  rng.normal(); // leaves a spare Gaussian value in the state
  Rng copy = rng;
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(rng.normal(), copy.normal());
}

TEST(InitTest, Uniform01Range) {
  Rng rng(3);
  double sum = 0;
  constexpr int samples = 100000;
  for (int i = 0; i < samples; ++i) {
    double value = rng.uniform01();
    ASSERT_GE(value, 0.0);
    ASSERT_LT(value, 1.0);
    sum += value;
  }
  EXPECT_NEAR(sum / samples, 0.5, 0.01);
}

TEST(InitTest, DeterministicPerSeedAndName) {
  for (InitKind kind :
       {InitKind::Uniform, InitKind::Normal, InitKind::Glorot, InitKind::Orthogonal}) {
    Initializer init{kind, 0.5};
    Tensor first = parameter({8, 5}, init, 11);
    EXPECT_EQ(first, parameter({8, 5}, init, 11));
    EXPECT_NE(first, parameter({8, 5}, init, 12));
    EXPECT_NE(first, parameter({8, 5}, init, 11, DType::F64, "U"));
  }
}

TEST(InitTest, ParameterSeedsDependOnSeedAndName) {
  EXPECT_NE(parameterSeed(1, "W"), parameterSeed(2, "W"));
  EXPECT_NE(parameterSeed(1, "W"), parameterSeed(1, "U"));
  EXPECT_NE(parameterSeed(0, ""), parameterSeed(0, "a"));
}

TEST(InitTest, F32IsTheRoundedF64) {
  Tensor wide = parameter({4, 6}, {InitKind::Orthogonal}, 5, DType::F64);
  Tensor single = parameter({4, 6}, {InitKind::Orthogonal}, 5, DType::F32);
  EXPECT_EQ(wide.convert(DType::F32), single);
}

TEST(InitTest, ZerosAndOnes) {
  Tensor zeros = parameter({3, 2}, {InitKind::Zeros});
  for (double value : zeros.values<double>())
    EXPECT_EQ(value, 0.0);
  Tensor ones = parameter({5}, {InitKind::Ones}, 1, DType::F32);
  for (float value : ones.values<float>())
    EXPECT_EQ(value, 1.0f);
}

TEST(InitTest, UniformStatistics) {
  Moments m = moments(parameter({300, 200}, {InitKind::Uniform, 0.1}));
  EXPECT_GE(m.minimum, -0.1);
  EXPECT_LE(m.maximum, 0.1);
  EXPECT_LT(m.minimum, -0.099);
  EXPECT_GT(m.maximum, 0.099);
  EXPECT_NEAR(m.mean, 0.0, 0.002);
  EXPECT_NEAR(m.deviation, 0.1 / std::sqrt(3.0), 0.002);
}

TEST(InitTest, NormalStatistics) {
  Moments m = moments(parameter({300, 200}, {InitKind::Normal, 0.02}));
  EXPECT_NEAR(m.mean, 0.0, 0.0005);
  EXPECT_NEAR(m.deviation, 0.02, 0.0005);
  Moments standard = moments(parameter({100000}, {InitKind::Normal, 1.0}));
  EXPECT_NEAR(standard.mean, 0.0, 0.02);
  EXPECT_NEAR(standard.deviation, 1.0, 0.02);
}

TEST(InitTest, GlorotLimitsAndVariance) {
  // fan_out = 200 rows, fan_in = 300 columns.
  double limit = std::sqrt(6.0 / 500.0);
  Moments m = moments(parameter({200, 300}, {InitKind::Glorot}));
  EXPECT_GE(m.minimum, -limit);
  EXPECT_LE(m.maximum, limit);
  EXPECT_NEAR(m.mean, 0.0, 0.002);
  EXPECT_NEAR(m.deviation * m.deviation, 2.0 / 500.0, 0.0001);

  // A vector of n uses fan_in = fan_out = n.
  double vectorLimit = std::sqrt(6.0 / 2000.0);
  Moments vector = moments(parameter({1000}, {InitKind::Glorot}));
  EXPECT_GE(vector.minimum, -vectorLimit);
  EXPECT_LE(vector.maximum, vectorLimit);
  EXPECT_GT(vector.maximum, 0.9 * vectorLimit);
}

TEST(InitTest, OrthogonalSquareTallAndWide) {
  for (DType dtype : {DType::F32, DType::F64}) {
    for (std::vector<int64_t> shape : {std::vector<int64_t>{64, 64}, {50, 20}, {20, 50}}) {
      Tensor tensor = parameter(shape, {InitKind::Orthogonal}, 9, dtype).convert(DType::F64);
      Eigen::MatrixXd q = asMatrix(tensor);
      // Orthonormal columns when tall or square, orthonormal rows when wide.
      Eigen::MatrixXd gram = shape[0] >= shape[1] ? Eigen::MatrixXd(q.transpose() * q)
                                                  : Eigen::MatrixXd(q * q.transpose());
      Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(gram.rows(), gram.cols());
      EXPECT_LT((gram - identity).cwiseAbs().maxCoeff(), 1e-5)
          << dtypeName(dtype) << " " << formatShape(shape);
    }
  }
}

TEST(InitTest, EmptyShapesAreFine) {
  EXPECT_EQ(parameter({0, 4}, {InitKind::Orthogonal}).numElements(), 0);
  EXPECT_EQ(parameter({0}, {InitKind::Glorot}).numElements(), 0);
}

TEST(InitTest, Errors) {
  auto error = [](const std::vector<int64_t> &shape, Initializer init, DType dtype) {
    Expected<Tensor> tensor = makeParameter("b", dtype, shape, init, 1);
    EXPECT_FALSE(tensor);
    return tensor ? std::string() : tensor.error().message;
  };
  EXPECT_EQ(error({128}, {InitKind::Orthogonal}, DType::F32),
            "cannot initialise 'b': orthogonal needs a matrix, but the shape is [128]");
  EXPECT_EQ(error({2}, {InitKind::Uniform, -1}, DType::F32),
            "cannot initialise 'b': uniform(a) needs a finite value >= 0, got -1");
  EXPECT_EQ(error({2}, {InitKind::Normal, NAN}, DType::F32),
            "cannot initialise 'b': normal(std) needs a finite value >= 0, got nan");
  EXPECT_EQ(error({2}, {InitKind::Zeros}, DType::I32),
            "cannot initialise 'b': it has dtype I32, expected F32 or F64");
  EXPECT_EQ(error({-2}, {InitKind::Zeros}, DType::F32),
            "cannot create parameter 'b': invalid shape [-2]");
}

} // namespace
} // namespace rnnc
