// The gradient rules, one small function per op kind, and the table that maps kinds to them.
// Conventions: `g` is the gradient of the op's result, `y` the result, `a`, `b` the operands.
// Rules use the result where it is cheaper than the operand (tanh: 1 - y², sigmoid: y(1 - y),
// exp: y), so the forward saves fewer values for the backward.
#include "compiler/passes/GradRules.h"

#include <algorithm>
#include <array>
#include <string>

namespace rnnc::passes {

using ir::Builder;
using ir::OpKind;
using ir::Type;
using ir::Value;

namespace {

using Gradients = std::vector<Value *>;

// Small emitters: the gradient code reads like the math.
Value *scalar(Builder &b, double value) { return b.constant(value, Type::scalar()); }
Value *sub(Builder &b, Value *x, Value *y) { return b.create(OpKind::Sub, {x, y}); }
Value *mul(Builder &b, Value *x, Value *y) { return b.create(OpKind::Mul, {x, y}); }
Value *div(Builder &b, Value *x, Value *y) { return b.create(OpKind::Div, {x, y}); }
Value *neg(Builder &b, Value *x) { return b.create(OpKind::Neg, {x}); }
Value *transpose(Builder &b, Value *x) { return b.create(OpKind::Transpose, {x}); }
Value *matmul(Builder &b, Value *x, Value *y) { return b.create(OpKind::MatMul, {x, y}); }
Value *reduceSum(Builder &b, Value *x) { return b.create(OpKind::Sum, {x}); }
Value *timeOp(Builder &b, OpKind kind, Value *x, const std::string &axis = {}) {
  return axis.empty() ? b.create(kind, {x}) : b.create(kind, {x}, {{"axis", axis}});
}
/// Zeros of `type` without its time axis (an initial value for shift).
Value *zerosLike(Builder &b, const Type &type) { return b.constant(0.0, type.stepType()); }
Value *shift(Builder &b, Value *x, Value *init, bool reverse) {
  return b.create(OpKind::Shift, {x, init},
                  {{"direction", std::string(reverse ? "reverse" : "forward")}});
}
/// `x` broadcast to the shape of `like` (keeping x's time axis); x itself when already equal.
Value *broadcastTo(Builder &b, Value *x, const Type &like) {
  if (x->type().shape == like.shape)
    return x;
  Type type = Type::real(like.shape, x->type().axis);
  return b.createTyped(OpKind::Broadcast, {x}, type);
}

Gradients addRule(const GradRuleInput &in, Builder &) { return {in.gradient(), in.gradient()}; }

Gradients subRule(const GradRuleInput &in, Builder &b) {
  return {in.gradient(), in.needs(1) ? neg(b, in.gradient()) : nullptr};
}

Gradients mulRule(const GradRuleInput &in, Builder &b) {
  Value *g = in.gradient();
  return {in.needs(0) ? mul(b, g, in.operand(1)) : nullptr,
          in.needs(1) ? mul(b, g, in.operand(0)) : nullptr};
}

// d(a/b) = g/b da - g·y/b db, with y = a/b.
Gradients divRule(const GradRuleInput &in, Builder &b) {
  Value *g = in.gradient(), *divisor = in.operand(1);
  return {in.needs(0) ? div(b, g, divisor) : nullptr,
          in.needs(1) ? neg(b, div(b, mul(b, g, in.result()), divisor)) : nullptr};
}

Gradients negRule(const GradRuleInput &in, Builder &b) { return {neg(b, in.gradient())}; }

Gradients tanhRule(const GradRuleInput &in, Builder &b) {
  Value *y = in.result();
  return {mul(b, in.gradient(), sub(b, scalar(b, 1.0), mul(b, y, y)))};
}

Gradients sigmoidRule(const GradRuleInput &in, Builder &b) {
  Value *y = in.result();
  return {mul(b, in.gradient(), mul(b, y, sub(b, scalar(b, 1.0), y)))};
}

Gradients reluRule(const GradRuleInput &in, Builder &b) {
  return {mul(b, in.gradient(), b.create(OpKind::Step, {in.operand(0)}))};
}

// step is piecewise constant: its derivative is zero wherever it exists.
Gradients stepRule(const GradRuleInput &, Builder &) { return {nullptr}; }

Gradients expRule(const GradRuleInput &in, Builder &b) {
  return {mul(b, in.gradient(), in.result())};
}

Gradients logRule(const GradRuleInput &in, Builder &b) {
  return {div(b, in.gradient(), in.operand(0))};
}

// d|a| = sign(a) g, with sign(a) = step(a) - step(-a): +1 above 0, -1 below, and 0 at a = 0,
// where |a| has no derivative (0 is its smallest subgradient there; docs/language.md).
Gradients absRule(const GradRuleInput &in, Builder &b) {
  Value *a = in.operand(0);
  Value *sign = sub(b, b.create(OpKind::Step, {a}), b.create(OpKind::Step, {neg(b, a)}));
  return {mul(b, in.gradient(), sign)};
}

// max(a, b): g flows to a where a > b, else to b (at a tie to b, a subgradient).
Gradients maxRule(const GradRuleInput &in, Builder &b) {
  Value *g = in.gradient();
  Value *toA = mul(b, g, b.create(OpKind::Step, {sub(b, in.operand(0), in.operand(1))}));
  return {in.needs(0) ? toA : nullptr, in.needs(1) ? sub(b, g, toA) : nullptr};
}

// min(a, b): g flows to a where a < b, else to b.
Gradients minRule(const GradRuleInput &in, Builder &b) {
  Value *g = in.gradient();
  Value *toA = mul(b, g, b.create(OpKind::Step, {sub(b, in.operand(1), in.operand(0))}));
  return {in.needs(0) ? toA : nullptr, in.needs(1) ? sub(b, g, toA) : nullptr};
}

// d sqrt(a) = g / (2 y).
Gradients sqrtRule(const GradRuleInput &in, Builder &b) {
  return {div(b, in.gradient(), mul(b, scalar(b, 2.0), in.result()))};
}

// Vector form: y = A x: dA = g xᵀ, dx = Aᵀ g. Matrix form: Y = A B: dA = G Bᵀ, dB = Aᵀ G.
Gradients matmulRule(const GradRuleInput &in, Builder &b) {
  Value *g = in.gradient(), *lhs = in.operand(0), *rhs = in.operand(1);
  Value *dLhs = nullptr, *dRhs = nullptr;
  if (in.needs(0))
    dLhs = rhs->type().rank() == 1 ? b.create(OpKind::Outer, {g, rhs})
                                   : matmul(b, g, transpose(b, rhs));
  if (in.needs(1))
    dRhs = matmul(b, transpose(b, lhs), g);
  return {dLhs, dRhs};
}

Gradients transposeRule(const GradRuleInput &in, Builder &b) {
  return {transpose(b, in.gradient())};
}

// y = a bᵀ: da = G b, db = Gᵀ a.
Gradients outerRule(const GradRuleInput &in, Builder &b) {
  Value *g = in.gradient();
  return {in.needs(0) ? matmul(b, g, in.operand(1)) : nullptr,
          in.needs(1) ? matmul(b, transpose(b, g), in.operand(0)) : nullptr};
}

// dx = y ⊙ (g − ⟨g, y⟩).
Gradients softmaxRule(const GradRuleInput &in, Builder &b) {
  Value *g = in.gradient(), *y = in.result();
  return {mul(b, y, sub(b, g, reduceSum(b, mul(b, g, y))))};
}

// dx = g − softmax(x) Σ g, with softmax(x) = exp(y).
Gradients logSoftmaxRule(const GradRuleInput &in, Builder &b) {
  Value *g = in.gradient();
  return {sub(b, g, mul(b, b.create(OpKind::Exp, {in.result()}), reduceSum(b, g)))};
}

// nll = −log p[y]: dp = −g / p[y] at y, zero elsewhere. 1 / p[y] = exp(nll), so the rule needs
// no division by p (which would give 0/0 where p underflows). Simplify.cpp recognises this
// shape under softmax's rule and rewrites the pair to g (p − onehot(y)).
Gradients nllRule(const GradRuleInput &in, Builder &b) {
  Value *scale = neg(b, mul(b, in.gradient(), b.create(OpKind::Exp, {in.result()})));
  return {mul(b, b.create(OpKind::OneHot, {in.operand(1)}), scale), nullptr};
}

// Σ (a − b)²: da = 2 g (a − b), db = −da.
Gradients sqerrRule(const GradRuleInput &in, Builder &b) {
  Value *da = mul(b, mul(b, scalar(b, 2.0), in.gradient()), sub(b, in.operand(0), in.operand(1)));
  return {in.needs(0) ? da : nullptr, in.needs(1) ? neg(b, da) : nullptr};
}

Gradients sumRule(const GradRuleInput &in, Builder &b) {
  return {broadcastTo(b, in.gradient(), in.operand(0)->type())};
}

Gradients meanRule(const GradRuleInput &in, Builder &b) {
  const Type &type = in.operand(0)->type();
  Value *scaled = div(b, in.gradient(), scalar(b, static_cast<double>(type.numElements())));
  return {broadcastTo(b, scaled, type)};
}

Gradients broadcastRule(const GradRuleInput &in, Builder &b) {
  return {reduceSum(b, in.gradient())};
}

Gradients concatRule(const GradRuleInput &in, Builder &b) {
  Gradients gradients;
  int64_t start = 0;
  for (size_t i = 0; i < in.op.numOperands(); ++i) {
    int64_t length = in.operand(i)->type().shape.at(0);
    gradients.push_back(
        in.needs(i) ? b.create(OpKind::Slice, {in.gradient()}, {{"start", start}, {"len", length}})
                    : nullptr);
    start += length;
  }
  return gradients;
}

Gradients sliceRule(const GradRuleInput &in, Builder &b) {
  return {b.create(OpKind::Pad, {in.gradient()},
                   {{"start", in.op.startAttr()}, {"size", in.operand(0)->type().shape.at(0)}})};
}

Gradients padRule(const GradRuleInput &in, Builder &b) {
  return {b.create(OpKind::Slice, {in.gradient()},
                   {{"start", in.op.startAttr()}, {"len", in.operand(0)->type().shape.at(0)}})};
}

// Token operands get no gradient.
Gradients noOperandGradients(const GradRuleInput &in, Builder &) {
  return Gradients(in.op.numOperands(), nullptr);
}

// shift forward: out[1] = init, out[t] = x[t−1]  =>  dx[t] = g[t+1] (a reverse shift of g with
// zero at the end), dinit = g[1]. Mirrored for the reverse direction.
Gradients shiftRule(const GradRuleInput &in, Builder &b) {
  Value *g = in.gradient();
  bool reverse = in.op.directionAttr() == "reverse";
  Value *dx = in.needs(0) ? shift(b, g, zerosLike(b, g->type()), !reverse) : nullptr;
  Value *dInit = in.needs(1) ? timeOp(b, reverse ? OpKind::Last : OpKind::First, g) : nullptr;
  return {dx, dInit};
}

Gradients lastRule(const GradRuleInput &in, Builder &b) {
  return {timeOp(b, OpKind::AtLast, in.gradient(), in.operand(0)->type().axis)};
}

Gradients firstRule(const GradRuleInput &in, Builder &b) {
  return {timeOp(b, OpKind::AtFirst, in.gradient(), in.operand(0)->type().axis)};
}

Gradients sumTimeRule(const GradRuleInput &in, Builder &b) {
  return {timeOp(b, OpKind::Repeat, in.gradient(), in.operand(0)->type().axis)};
}

Gradients repeatRule(const GradRuleInput &in, Builder &b) {
  return {timeOp(b, OpKind::SumTime, in.gradient())};
}

Gradients atLastRule(const GradRuleInput &in, Builder &b) {
  return {timeOp(b, OpKind::Last, in.gradient())};
}

Gradients atFirstRule(const GradRuleInput &in, Builder &b) {
  return {timeOp(b, OpKind::First, in.gradient())};
}

// at_step {index}: the gradient is g at step `index`, zeros elsewhere: g placed at step 1 and
// shifted forward index − 1 times.
Gradients atStepRule(const GradRuleInput &in, Builder &b) {
  Value *placed = timeOp(b, OpKind::AtFirst, in.gradient(), in.operand(0)->type().axis);
  for (int64_t step = 1; step < in.op.indexAttr(); ++step)
    placed = shift(b, placed, zerosLike(b, placed->type()), /*reverse=*/false);
  return {placed};
}

Gradients stackRule(const GradRuleInput &in, Builder &b) {
  Gradients gradients;
  for (size_t i = 0; i < in.op.numOperands(); ++i)
    gradients.push_back(in.needs(i) ? b.create(OpKind::AtStep, {in.gradient()},
                                               {{"index", static_cast<int64_t>(i + 1)}})
                                    : nullptr);
  return gradients;
}

struct RuleEntry {
  OpKind kind;
  GradRule rule;
};

constexpr RuleEntry ruleTable[] = {
    {OpKind::Add, addRule},
    {OpKind::Sub, subRule},
    {OpKind::Mul, mulRule},
    {OpKind::Div, divRule},
    {OpKind::Neg, negRule},
    {OpKind::Tanh, tanhRule},
    {OpKind::Sigmoid, sigmoidRule},
    {OpKind::Relu, reluRule},
    {OpKind::Step, stepRule},
    {OpKind::Exp, expRule},
    {OpKind::Log, logRule},
    {OpKind::Abs, absRule},
    {OpKind::Sqrt, sqrtRule},
    {OpKind::Max, maxRule},
    {OpKind::Min, minRule},
    {OpKind::MatMul, matmulRule},
    {OpKind::Transpose, transposeRule},
    {OpKind::Outer, outerRule},
    {OpKind::Softmax, softmaxRule},
    {OpKind::LogSoftmax, logSoftmaxRule},
    {OpKind::OneHot, noOperandGradients},
    {OpKind::Nll, nllRule},
    {OpKind::SqErr, sqerrRule},
    {OpKind::Sum, sumRule},
    {OpKind::Mean, meanRule},
    {OpKind::Broadcast, broadcastRule},
    {OpKind::Concat, concatRule},
    {OpKind::Slice, sliceRule},
    {OpKind::Pad, padRule},
    {OpKind::Argmax, noOperandGradients},
    {OpKind::Sample, noOperandGradients},
    {OpKind::Shift, shiftRule},
    {OpKind::Last, lastRule},
    {OpKind::First, firstRule},
    {OpKind::SumTime, sumTimeRule},
    {OpKind::SumOuter, outerRule}, // Σ_t a(t) b(t)ᵀ: outer's rule, per step with g static
    {OpKind::Repeat, repeatRule},
    {OpKind::AtLast, atLastRule},
    {OpKind::AtFirst, atFirstRule},
    {OpKind::AtStep, atStepRule},
    {OpKind::Stack, stackRule},
};

} // namespace

GradRule findGradRule(OpKind kind) {
  for (const RuleEntry &entry : ruleTable)
    if (entry.kind == kind)
      return entry.rule;
  return nullptr;
}

} // namespace rnnc::passes
