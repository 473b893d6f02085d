// The Eigen baselines (EigenRnn.h). Rows of every [T·B, …] matrix are time-major: row t·B + b is
// step t of example b, so step t is the block of rows [t·B, (t+1)·B).
#include "bench/EigenRnn.h"

#include <Eigen/Dense>

#include <cmath>

namespace rnnc::bench {

void setEigenThreads(int threads) { Eigen::setNbThreads(threads); }
int eigenThreads() { return Eigen::nbThreads(); }

float squaredError(const float *h, const float *y, int64_t count, float *gradient) {
  Eigen::Map<const Eigen::ArrayXf> hidden(h, count), target(y, count);
  if (!gradient)
    return (hidden - target).matrix().squaredNorm();
  Eigen::Map<Eigen::ArrayXf> difference(gradient, count);
  difference = hidden - target;
  float loss = difference.matrix().squaredNorm();
  difference *= 2;
  return loss;
}

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMatrix>;
using ConstRowVectorMap = Eigen::Map<const Eigen::RowVectorXf>;

/// `h` holds every row's pre-activation without the recurrent term; on return it holds h(t):
/// h(t) = tanh(a(t) + h(t−1) Wᵀ), h(0) = 0, one GEMM over the batch per step, in place.
void runRecurrence(RowMatrix &h, const ConstMap &W, int64_t steps, int64_t batch) {
  for (int64_t t = 0; t < steps; ++t) {
    auto current = h.middleRows(t * batch, batch);
    if (t > 0)
      current.noalias() += h.middleRows((t - 1) * batch, batch) * W.transpose();
    current.array() = current.array().tanh();
  }
}

/// `delta` holds ∂L/∂h(t) through the outputs of every row; on return it holds
/// δ(t) = ∂L/∂a(t) = (g(t) + δ(t+1) W) ⊙ (1 − h(t)²), one GEMM over the batch per step, in place.
void runRecurrenceBackward(RowMatrix &delta, const RowMatrix &h, const ConstMap &W, int64_t steps,
                           int64_t batch) {
  for (int64_t t = steps - 1; t >= 0; --t) {
    auto current = delta.middleRows(t * batch, batch);
    if (t + 1 < steps)
      current.noalias() += delta.middleRows((t + 1) * batch, batch) * W;
    current.array() *= 1 - h.middleRows(t * batch, batch).array().square();
  }
}

/// ∇W = Σ_t δ(t)ᵀ h(t−1): one GEMM over the (T−1)·B rows that have a previous state.
void recurrentWeightGradient(RowMatrix &gradW, const RowMatrix &delta, const RowMatrix &h,
                             int64_t steps, int64_t batch) {
  int64_t rows = (steps - 1) * batch;
  if (rows == 0) {
    gradW.setZero();
    return;
  }
  gradW.noalias() = delta.bottomRows(rows).transpose() * h.topRows(rows);
}

/// The summed negative log-likelihood of the rows of `logits` at `targets`; with `toGradient`
/// the logits become ∂L/∂o = softmax(o) − onehot(y) in place.
float softmaxNll(RowMatrix &logits, const int32_t *targets, bool toGradient) {
  double loss = 0;
  for (int64_t row = 0; row < logits.rows(); ++row) {
    auto o = logits.row(row);
    float max = o.maxCoeff();
    float sum = (o.array() - max).exp().sum();
    float logSum = max + std::log(sum);
    loss += logSum - o(targets[row]);
    if (toGradient) {
      o.array() = (o.array() - logSum).exp();
      o(targets[row]) -= 1;
    }
  }
  return float(loss);
}

std::span<const float> view(const RowMatrix &matrix) {
  return {matrix.data(), size_t(matrix.size())};
}
std::span<const float> view(const Eigen::RowVectorXf &vector) {
  return {vector.data(), size_t(vector.size())};
}

} // namespace

struct EigenTanhRnn::State {
  explicit State(const RnnShape &shape)
      : shape(shape), h(shape.steps * shape.batch, shape.hidden),
        delta(shape.steps * shape.batch, shape.hidden), gradU(shape.hidden, shape.input),
        gradW(shape.hidden, shape.hidden), gradX(shape.steps * shape.batch, shape.input),
        gradB(shape.hidden) {}
  /// h (without the loss).
  void forwardStates(const EigenTanhRnn::Inputs &inputs);

  RnnShape shape;
  RowMatrix h, delta, gradU, gradW, gradX;
  Eigen::RowVectorXf gradB;
  float loss = 0;
};

EigenTanhRnn::EigenTanhRnn(const RnnShape &shape) : state_(std::make_unique<State>(shape)) {}
EigenTanhRnn::~EigenTanhRnn() = default;

void EigenTanhRnn::State::forwardStates(const EigenTanhRnn::Inputs &inputs) {
  const int64_t rows = shape.steps * shape.batch, H = shape.hidden, I = shape.input;
  ConstMap U(inputs.U, H, I), W(inputs.W, H, H), x(inputs.x, rows, I);
  ConstRowVectorMap b(inputs.b, H);
  h.noalias() = x * U.transpose(); // the input projection of all T·B rows
  h.rowwise() += b;
  runRecurrence(h, W, shape.steps, shape.batch);
}

void EigenTanhRnn::forward(const Inputs &inputs) {
  State &s = *state_;
  s.forwardStates(inputs);
  s.loss = squaredError(s.h.data(), inputs.y, s.h.size(), nullptr);
}

void EigenTanhRnn::train(const Inputs &inputs) {
  State &s = *state_;
  s.forwardStates(inputs);
  const int64_t rows = s.shape.steps * s.shape.batch, H = s.shape.hidden, I = s.shape.input;
  ConstMap U(inputs.U, H, I), W(inputs.W, H, H), x(inputs.x, rows, I);
  s.loss = squaredError(s.h.data(), inputs.y, s.h.size(), s.delta.data());
  runRecurrenceBackward(s.delta, s.h, W, s.shape.steps, s.shape.batch);
  recurrentWeightGradient(s.gradW, s.delta, s.h, s.shape.steps, s.shape.batch);
  s.gradU.noalias() = s.delta.transpose() * x;
  s.gradB = s.delta.colwise().sum();
  s.gradX.noalias() = s.delta * U;
}

NamedResults EigenTanhRnn::results(bool train) const {
  const State &s = *state_;
  std::span<const float> loss(&s.loss, 1);
  if (!train)
    return {{"loss", loss}, {"h", view(s.h)}};
  return {{"loss", loss},
          {"grad.U", view(s.gradU)},
          {"grad.W", view(s.gradW)},
          {"grad.b", view(s.gradB)},
          {"grad.x", view(s.gradX)}};
}

struct EigenElman::State {
  explicit State(const RnnShape &shape)
      : shape(shape), h(shape.steps * shape.batch, shape.hidden),
        o(shape.steps * shape.batch, shape.input), delta(shape.steps * shape.batch, shape.hidden),
        uTransposed(shape.input, shape.hidden), gradUTransposed(shape.input, shape.hidden),
        gradU(shape.hidden, shape.input), gradW(shape.hidden, shape.hidden),
        gradV(shape.input, shape.hidden), gradB(shape.hidden), gradC(shape.input) {}
  /// h and o (without the loss).
  void forwardStates(const EigenElman::Inputs &inputs);

  RnnShape shape;
  RowMatrix h, o, delta, uTransposed, gradUTransposed, gradU, gradW, gradV;
  Eigen::RowVectorXf gradB, gradC;
  float loss = 0;
};

EigenElman::EigenElman(const RnnShape &shape) : state_(std::make_unique<State>(shape)) {}
EigenElman::~EigenElman() = default;

void EigenElman::State::forwardStates(const EigenElman::Inputs &inputs) {
  const int64_t rows = shape.steps * shape.batch, H = shape.hidden, K = shape.input;
  ConstMap U(inputs.U, H, K), W(inputs.W, H, H), V(inputs.V, K, H);
  ConstRowVectorMap b(inputs.b, H), c(inputs.c, K);
  // U onehot(x) is column x of U: gather rows of Uᵀ, transposed once per call.
  uTransposed = U.transpose();
  for (int64_t row = 0; row < rows; ++row)
    h.row(row) = uTransposed.row(inputs.x[row]) + b;
  runRecurrence(h, W, shape.steps, shape.batch);
  o.noalias() = h * V.transpose(); // the output layer of all T·B rows
  o.rowwise() += c;
}

void EigenElman::forward(const Inputs &inputs) {
  State &s = *state_;
  s.forwardStates(inputs);
  s.loss = softmaxNll(s.o, inputs.y, /*toGradient=*/false);
}

void EigenElman::train(const Inputs &inputs) {
  State &s = *state_;
  s.forwardStates(inputs);
  const int64_t rows = s.shape.steps * s.shape.batch, H = s.shape.hidden, K = s.shape.input;
  ConstMap W(inputs.W, H, H), V(inputs.V, K, H);
  s.loss = softmaxNll(s.o, inputs.y, /*toGradient=*/true);
  s.gradV.noalias() = s.o.transpose() * s.h;
  s.gradC = s.o.colwise().sum();
  s.delta.noalias() = s.o * V;
  runRecurrenceBackward(s.delta, s.h, W, s.shape.steps, s.shape.batch);
  recurrentWeightGradient(s.gradW, s.delta, s.h, s.shape.steps, s.shape.batch);
  s.gradUTransposed.setZero();
  for (int64_t row = 0; row < rows; ++row)
    s.gradUTransposed.row(inputs.x[row]) += s.delta.row(row);
  s.gradU = s.gradUTransposed.transpose();
  s.gradB = s.delta.colwise().sum();
}

NamedResults EigenElman::results(bool train) const {
  const State &s = *state_;
  std::span<const float> loss(&s.loss, 1);
  if (!train)
    return {{"loss", loss}, {"h", view(s.h)}, {"o", view(s.o)}};
  return {{"loss", loss},
          {"grad.U", view(s.gradU)},
          {"grad.W", view(s.gradW)},
          {"grad.b", view(s.gradB)},
          {"grad.V", view(s.gradV)},
          {"grad.c", view(s.gradC)}};
}

} // namespace rnnc::bench
