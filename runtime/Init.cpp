#include "runtime/Init.h"

#include <Eigen/Dense>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <sstream>

namespace rnnc {

namespace {

/// splitmix64 (Steele, Lea, Flood): advances `state` and returns a well-mixed 64-bit value.
/// Used to expand one seed into the generator state, as the xoshiro authors recommend.
uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// 64-bit FNV-1a hash of the bytes of `text`.
uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001B3ull;
  }
  return hash;
}

std::string quoteName(const std::string &name) { return "'" + name + "'"; }

/// Each initialiser yields its values row-major, in double precision.
std::vector<double> uniformValues(int64_t count, double bound, Rng &rng) {
  std::vector<double> values(static_cast<size_t>(count));
  for (double &value : values)
    value = bound * (2.0 * rng.uniform01() - 1.0);
  return values;
}

std::vector<double> normalValues(int64_t count, double deviation, Rng &rng) {
  std::vector<double> values(static_cast<size_t>(count));
  for (double &value : values)
    value = deviation * rng.normal();
  return values;
}

double glorotBound(const std::vector<int64_t> &shape) {
  double fanIn, fanOut;
  if (shape.size() < 2) {
    fanIn = fanOut = shape.empty() ? 1.0 : double(shape[0]);
  } else {
    double receptiveField = 1;
    for (size_t d = 2; d < shape.size(); ++d)
      receptiveField *= double(shape[d]);
    fanOut = double(shape[0]) * receptiveField;
    fanIn = double(shape[1]) * receptiveField;
  }
  return std::sqrt(6.0 / (fanIn + fanOut));
}

/// Precondition: shape.size() >= 2 and no dim is zero.
std::vector<double> orthogonalValues(const std::vector<int64_t> &shape, int64_t count, Rng &rng) {
  Eigen::Index rows = shape[0], cols = count / rows;
  // Draw the rows x cols Gaussian matrix in row-major order, then factor its tall orientation.
  Eigen::MatrixXd gaussian(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j)
      gaussian(i, j) = rng.normal();
  bool wide = rows < cols;
  if (wide)
    gaussian.transposeInPlace();

  Eigen::HouseholderQR<Eigen::MatrixXd> qr(gaussian);
  Eigen::MatrixXd q =
      qr.householderQ() * Eigen::MatrixXd::Identity(gaussian.rows(), gaussian.cols());
  // Q is unique only up to the signs of its columns; making diag(R) positive makes the result
  // uniformly distributed over orthogonal matrices (Mezzadri 2007).
  for (Eigen::Index j = 0; j < q.cols(); ++j)
    if (qr.matrixQR()(j, j) < 0)
      q.col(j) *= -1;
  if (wide)
    q.transposeInPlace();

  std::vector<double> values(static_cast<size_t>(count));
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j)
      values[size_t(i * cols + j)] = q(i, j);
  return values;
}

Status checkScale(const std::string &name, const char *form, double scale) {
  if (std::isfinite(scale) && scale >= 0)
    return Status::ok();
  std::ostringstream text;
  text << scale;
  return Error::user("cannot initialise " + quoteName(name) + ": " + form +
                     " needs a finite value >= 0, got " + text.str());
}

} // namespace

Rng::Rng(uint64_t seed) {
  for (uint64_t &word : state_)
    word = splitmix64(seed);
}

uint64_t Rng::nextU64() {
  uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
  uint64_t shifted = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= shifted;
  state_[3] = std::rotl(state_[3], 45);
  return result;
}

double Rng::uniform01() { return double(nextU64() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  if (spareNormal_) {
    double value = *spareNormal_;
    spareNormal_.reset();
    return value;
  }
  double u1 = 1.0 - uniform01(); // in (0, 1], so the logarithm is finite
  double u2 = uniform01();
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 2.0 * std::numbers::pi * u2;
  spareNormal_ = radius * std::sin(angle);
  return radius * std::cos(angle);
}

uint64_t parameterSeed(uint64_t globalSeed, std::string_view name) {
  uint64_t state = globalSeed;
  state = splitmix64(state) ^ fnv1a(name);
  return splitmix64(state);
}

Status initializeTensor(Tensor &tensor, const Initializer &init, Rng &rng,
                        const std::string &name) {
  if (!isFloatingPoint(tensor.dtype()))
    return Error::user("cannot initialise " + quoteName(name) + ": it has dtype " +
                       std::string(dtypeName(tensor.dtype())) + ", expected F32 or F64");
  const std::vector<int64_t> &shape = tensor.shape();
  int64_t count = tensor.numElements();
  std::vector<double> values;
  switch (init.kind) {
  case InitKind::Zeros:
    values.assign(size_t(count), 0.0);
    break;
  case InitKind::Ones:
    values.assign(size_t(count), 1.0);
    break;
  case InitKind::Uniform:
    if (Status status = checkScale(name, "uniform(a)", init.scale); !status)
      return status;
    values = uniformValues(count, init.scale, rng);
    break;
  case InitKind::Normal:
    if (Status status = checkScale(name, "normal(std)", init.scale); !status)
      return status;
    values = normalValues(count, init.scale, rng);
    break;
  case InitKind::Glorot:
    if (count > 0)
      values = uniformValues(count, glorotBound(shape), rng);
    break;
  case InitKind::Orthogonal:
    if (shape.size() < 2)
      return Error::user("cannot initialise " + quoteName(name) +
                         ": orthogonal needs a matrix, but the shape is " + formatShape(shape));
    if (count > 0)
      values = orthogonalValues(shape, count, rng);
    break;
  }

  if (tensor.dtype() == DType::F64)
    std::copy(values.begin(), values.end(), tensor.data<double>());
  else
    std::transform(values.begin(), values.end(), tensor.data<float>(),
                   [](double value) { return static_cast<float>(value); });
  return Status::ok();
}

Expected<Tensor> makeParameter(const std::string &name, DType dtype,
                               const std::vector<int64_t> &shape, const Initializer &init,
                               uint64_t globalSeed) {
  if (!elementCount(shape))
    return Error::user("cannot create parameter " + quoteName(name) + ": invalid shape " +
                       formatShape(shape));
  Tensor tensor(dtype, shape);
  Rng rng(parameterSeed(globalSeed, name));
  if (Status status = initializeTensor(tensor, init, rng, name); !status)
    return status.takeError();
  return tensor;
}

} // namespace rnnc
