// The reference interpreter's per-step semantics: each op that computes one value from one value
// of each operand, written as directly as docs/ir.md states it. Operand shapes are those of the
// op's typing rule (the graph was checked before the run), so no shape is tested here.
#include "ir/InterpretExample.h"
#include "runtime/Sampling.h"

#include <cmath>
#include <sstream>

namespace rnnc::ir::interpret {

namespace {

template <typename Real> Element<Real> realElement(Matrix<Real> value) {
  return {std::move(value), 0};
}

template <typename Real> Element<Real> tokenElement(int64_t id) { return {Matrix<Real>(), id}; }

/// `a op b` elementwise, where either side may be a scalar (1x1) broadcast to the other's shape.
template <typename Real, typename Function>
Matrix<Real> broadcastBinary(const Matrix<Real> &a, const Matrix<Real> &b, Function function) {
  if (a.rows() == b.rows() && a.cols() == b.cols())
    return a.binaryExpr(b, function);
  if (b.size() == 1)
    return a.unaryExpr([&](Real x) { return function(x, b(0, 0)); });
  return b.unaryExpr([&](Real y) { return function(a(0, 0), y); });
}

template <typename Real> Matrix<Real> scalarMatrix(Real value) {
  return Matrix<Real>::Constant(1, 1, value);
}

/// The first index of the largest element (a NaN never compares larger).
template <typename Real> int64_t firstArgmax(const Matrix<Real> &vector) {
  int64_t best = 0;
  for (int64_t i = 1; i < vector.size(); ++i)
    if (vector(i) > vector(best))
      best = i;
  return best;
}

std::string formatReal(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

/// A draw from the distribution proportional to `probabilities` (runtime/Sampling.h).
template <typename Real>
Expected<int64_t> drawToken(const Op &op, const Matrix<Real> &probabilities, Rng &rng) {
  TokenDraw draw = rnnc::drawToken(probabilities.data(), probabilities.size(), rng);
  if (draw.problem == TokenDraw::Problem::BadProbability)
    return Error::user(describeOp(op) + ": cannot sample from probability " +
                       formatReal(draw.badValue) + " at index " + std::to_string(draw.badIndex));
  if (draw.problem == TokenDraw::Problem::ZeroSum)
    return Error::user(describeOp(op) + ": cannot sample from probabilities that sum to zero");
  return draw.token;
}

template <typename Real>
Expected<int64_t> checkedToken(const Op &op, const Element<Real> &element, int64_t vocab) {
  if (element.token < 0 || element.token >= vocab)
    return Error::internal(describeOp(op) + ": token id " + std::to_string(element.token) +
                           " is outside [0, " + std::to_string(vocab) + ")");
  return element.token;
}

} // namespace

template <typename Real> Element<Real> zeroElement(const Type &type) {
  if (type.isToken())
    return tokenElement<Real>(0);
  int64_t rows = type.rank() >= 1 ? type.shape[0] : 1;
  int64_t cols = type.rank() == 2 ? type.shape[1] : 1;
  return realElement<Real>(Matrix<Real>::Zero(rows, cols));
}

template <typename Real>
Expected<Element<Real>> evaluateStepOp(const Op &op,
                                       const std::vector<const Element<Real> *> &operands,
                                       const StepContext &context) {
  const Type &resultType = op.result()->type();
  auto real = [&](size_t i) -> const Matrix<Real> & { return operands[i]->real; };
  switch (op.kind()) {
  case OpKind::Constant: {
    Element<Real> element = zeroElement<Real>(resultType);
    element.real.setConstant(static_cast<Real>(op.valueAttr()));
    return element;
  }
  case OpKind::TokenConstant:
    return tokenElement<Real>(op.tokenAttr());

  case OpKind::Add:
    return realElement<Real>(broadcastBinary(real(0), real(1), std::plus<Real>()));
  case OpKind::Sub:
    return realElement<Real>(broadcastBinary(real(0), real(1), std::minus<Real>()));
  case OpKind::Mul:
    return realElement<Real>(broadcastBinary(real(0), real(1), std::multiplies<Real>()));
  case OpKind::Div:
    return realElement<Real>(broadcastBinary(real(0), real(1), std::divides<Real>()));
  case OpKind::Max: // as the kernels select: a NaN operand gives b
    return realElement<Real>(
        broadcastBinary(real(0), real(1), [](Real a, Real b) { return a > b ? a : b; }));
  case OpKind::Min:
    return realElement<Real>(
        broadcastBinary(real(0), real(1), [](Real a, Real b) { return a < b ? a : b; }));
  case OpKind::Neg:
    return realElement<Real>(-real(0));
  case OpKind::Tanh:
    return realElement<Real>(real(0).array().tanh().matrix());
  case OpKind::Sigmoid:
    return realElement<Real>((Real(1) / (Real(1) + (-real(0).array()).exp())).matrix());
  case OpKind::Relu:
    return realElement<Real>(real(0).unaryExpr([](Real x) { return x > 0 ? x : Real(0); }));
  case OpKind::Step:
    return realElement<Real>(real(0).unaryExpr([](Real x) { return x > 0 ? Real(1) : Real(0); }));
  case OpKind::Exp:
    return realElement<Real>(real(0).array().exp().matrix());
  case OpKind::Log:
    return realElement<Real>(real(0).array().log().matrix());
  case OpKind::Abs:
    return realElement<Real>(real(0).array().abs().matrix());
  case OpKind::Sqrt:
    return realElement<Real>(real(0).array().sqrt().matrix());

  case OpKind::MatMul:
    return realElement<Real>(real(0) * real(1));
  case OpKind::Transpose:
    return realElement<Real>(real(0).transpose());
  case OpKind::Outer:
    return realElement<Real>(real(0) * real(1).transpose());

  case OpKind::Softmax: {
    Matrix<Real> shifted = real(0).array() - real(0).maxCoeff();
    Matrix<Real> exponentials = shifted.array().exp();
    return realElement<Real>(exponentials / exponentials.sum());
  }
  case OpKind::LogSoftmax: {
    Matrix<Real> shifted = real(0).array() - real(0).maxCoeff();
    Real logTotal = std::log(shifted.array().exp().sum());
    return realElement<Real>(shifted.array() - logTotal);
  }
  case OpKind::OneHot: {
    int64_t vocab = op.operand(0)->type().vocab;
    auto id = checkedToken(op, *operands[0], vocab);
    if (!id)
      return id.takeError();
    Matrix<Real> vector = Matrix<Real>::Zero(vocab, 1);
    vector(*id) = 1;
    return realElement<Real>(std::move(vector));
  }
  case OpKind::Nll: {
    auto id = checkedToken(op, *operands[1], op.operand(1)->type().vocab);
    if (!id)
      return id.takeError();
    return realElement<Real>(scalarMatrix<Real>(-std::log(real(0)(*id))));
  }
  case OpKind::SqErr:
    return realElement<Real>(scalarMatrix<Real>((real(0) - real(1)).array().square().sum()));
  case OpKind::Sum:
    return realElement<Real>(scalarMatrix<Real>(real(0).sum()));
  case OpKind::Mean:
    return realElement<Real>(scalarMatrix<Real>(real(0).mean()));
  case OpKind::Broadcast: {
    Element<Real> element = zeroElement<Real>(resultType);
    element.real.setConstant(real(0)(0, 0));
    return element;
  }
  case OpKind::Concat: {
    Matrix<Real> joined(resultType.shape[0], 1);
    int64_t offset = 0;
    for (const Element<Real> *part : operands) {
      joined.middleRows(offset, part->real.rows()) = part->real;
      offset += part->real.rows();
    }
    return realElement<Real>(std::move(joined));
  }
  case OpKind::Slice:
    return realElement<Real>(real(0).middleRows(op.startAttr(), op.lenAttr()));
  case OpKind::Pad: {
    Matrix<Real> padded = Matrix<Real>::Zero(op.sizeAttr(), 1);
    padded.middleRows(op.startAttr(), real(0).rows()) = real(0);
    return realElement<Real>(std::move(padded));
  }
  case OpKind::Argmax:
    return tokenElement<Real>(firstArgmax(real(0)));
  case OpKind::Sample: {
    if (context.greedy)
      return tokenElement<Real>(firstArgmax(real(0)));
    if (!context.rng)
      return Error::internal(describeOp(op) + ": no random number generator");
    auto id = drawToken(op, real(0), *context.rng);
    if (!id)
      return id.takeError();
    return tokenElement<Real>(*id);
  }
  case OpKind::Feed:
    if (context.step < 1)
      return Error::internal(describeOp(op) + ": 'feed' outside a step of a sequence");
    return context.step <= context.primeLength ? *operands[0] : *operands[1];
  default:
    return Error::internal(describeOp(op) + ": not a per-step op");
  }
}

#define RNNC_INSTANTIATE(Real)                                                                     \
  template Element<Real> zeroElement<Real>(const Type &);                                          \
  template Expected<Element<Real>> evaluateStepOp<Real>(                                           \
      const Op &, const std::vector<const Element<Real> *> &, const StepContext &);
RNNC_INSTANTIATE(float)
RNNC_INSTANTIATE(double)
#undef RNNC_INSTANTIATE

} // namespace rnnc::ir::interpret
