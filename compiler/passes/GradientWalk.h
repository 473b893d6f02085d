// The one generic reverse walk of autodiff, used for the top-level graph and for scan bodies.
//
// Given a list of ops in SSA order (the primal), the values that need a gradient (parameters,
// real inputs, or a scan body's arguments) and seeds, it visits the ops in reverse order and, for
// every op that is active (depends on a value that needs a gradient) and has a gradient on some
// result, applies the op's gradient rule (or the scan handler for `scan`). Contributions to one
// value are accumulated and summed once, the first time the value's gradient is asked for; each
// contribution is first reduced to the value's type (`sum_time` over a time broadcast, `sum`
// over a scalar broadcast). Each op is visited once: the walk is linear in the graph size.
#pragma once

#include "compiler/passes/GradRules.h"
#include "runtime/Error.h"

#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rnnc::passes {

/// Emits the gradient of a `scan` op; returns one gradient (or nullptr) per operand.
using ScanGradientFn = std::function<Expected<std::vector<ir::Value *>>(
    ir::Op &scan, const std::vector<ir::Value *> &resultGradients,
    const std::vector<bool> &operandNeedsGradient, ir::Builder &builder)>;

class GradientWalk {
public:
  /// `builder` appends the gradient ops; `primal` are the ops to walk, in SSA order; `sources`
  /// are the values whose gradients are wanted.
  GradientWalk(ir::Builder &builder, std::vector<ir::Op *> primal,
               const std::unordered_set<const ir::Value *> &sources, ScanGradientFn scanGradient);

  /// True when `value` is real and depends on a source.
  bool isActive(const ir::Value *value) const { return active_.count(value) != 0; }

  /// Adds a contribution to the gradient of `value` (reduced to its type).
  void accumulate(ir::Value *value, ir::Value *gradient);

  /// Runs the reverse sweep. Fails with a located user error for an op without a rule.
  Status run();

  /// The total gradient of `value` (emitting the sum of its contributions the first time), or
  /// nullptr when nothing contributed.
  ir::Value *gradientOf(const ir::Value *value);

private:
  ir::Value *reduceToType(ir::Value *gradient, const ir::Type &type);

  ir::Builder &builder_;
  std::vector<ir::Op *> primal_;
  std::unordered_set<const ir::Value *> active_;
  std::unordered_map<const ir::Value *, std::vector<ir::Value *>> contributions_;
  ScanGradientFn scanGradient_;
};

/// The name hint of a gradient value: "dW" for "W"; empty for an unnamed value.
std::string gradientName(const ir::Value *value);

} // namespace rnnc::passes
