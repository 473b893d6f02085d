// Gradient rules of the IR ops, as a table (tinygrad's gradient.py): op kind -> a function that,
// given the op, the gradient of each of its results and a Builder, emits the vector-Jacobian
// product and returns one gradient per operand (nullptr: no gradient — token operands, targets,
// piecewise-constant ops, or operands the caller does not need).
//
// A rule may return a gradient that is still broadcast: a sequence for a static operand (time
// broadcasting) or a tensor for a scalar operand. The reverse walk (Autodiff.cpp) reduces it with
// `sum_time` / `sum`, so every rule is written once, for the per-step, equal-shape case.
//
// `scan` has no entry: its gradient is a whole reverse scan, built by ScanGradient.h. Ops with
// a real result and no rule (`feed`) make the walk report a located diagnostic.
#pragma once

#include "ir/Builder.h"

#include <vector>

namespace rnnc::passes {

/// What a rule sees: the primal op (its operands and results are valid where the builder
/// inserts), the gradient of each result (nullptr when a result has none) and which operands
/// need a gradient.
struct GradRuleInput {
  const ir::Op &op;
  std::vector<ir::Value *> resultGradients;
  std::vector<bool> operandNeedsGradient;

  ir::Value *operand(size_t i) const { return op.operand(i); }
  ir::Value *result() const { return op.result(0); }
  ir::Value *gradient() const { return resultGradients.at(0); }
  bool needs(size_t i) const { return operandNeedsGradient.at(i); }
};

/// Emits the gradient ops at the end of the builder's block; returns one value (or nullptr) per
/// operand of the op.
using GradRule = std::vector<ir::Value *> (*)(const GradRuleInput &input, ir::Builder &builder);

/// The rule for an op kind, or nullptr when the op has none.
GradRule findGradRule(ir::OpKind kind);

} // namespace rnnc::passes
