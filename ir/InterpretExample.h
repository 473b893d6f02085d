// Internal to the reference interpreter (Interpreter.h is the public entry point): the values of
// one example and the evaluation of a graph for it.
//
//   InterpretOps.cpp      the per-step semantics of every op that computes one value from
//                         static operands (elementwise, linear algebra, vectors, tokens, sample,
//                         feed)
//   InterpretExample.cpp  the walk over a graph for one example: time broadcasting, scans and the
//                         ops on whole sequences (shift, last, sum_time, repeat, ...)
//   Interpreter.cpp       the batch: tensors in, per-example values, tensors out
//
// Everything is templated on the element type Real (float or double) and instantiated for both.
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Init.h"

#include <Eigen/Dense>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace rnnc::ir::interpret {

/// A real value of one step: a scalar is 1x1, a vector [n] is n x 1, a matrix [m, n] is m x n.
template <typename Real> using Matrix = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic>;

/// The value of one step: `real` for a real type, `token` for a token type.
template <typename Real> struct Element {
  Matrix<Real> real;
  int64_t token = 0;
};

/// A value of one example: one element for a static value, L for a sequence (steps 1 ... L).
template <typename Real> struct RuntimeValue {
  bool isSequence = false;
  std::vector<Element<Real>> steps;

  static RuntimeValue single(Element<Real> element) { return {false, {std::move(element)}}; }
  /// Step `index` (0-based) of a sequence; the value itself when static.
  const Element<Real> &at(size_t index) const { return isSequence ? steps[index] : steps[0]; }
};

/// Values are immutable once computed and shared (a scan's statics are bound at every step).
template <typename Real> using ValuePtr = std::shared_ptr<const RuntimeValue<Real>>;

template <typename Real> ValuePtr<Real> share(RuntimeValue<Real> value) {
  return std::make_shared<const RuntimeValue<Real>>(std::move(value));
}

/// Where a per-step op runs: the step (1-based, 0 for a static value) on the axis of its result
/// or scan, with the example's prime length on that axis, and the example's sampling state.
struct StepContext {
  int64_t step = 0;
  int64_t primeLength = 0;
  Rng *rng = nullptr;
  bool greedy = false;
};

/// The per-step value of an op that computes one element from one element per operand (every op
/// but the leaves, scan, yield, output and the ops on whole sequences).
template <typename Real>
Expected<Element<Real>> evaluateStepOp(const Op &op,
                                       const std::vector<const Element<Real> *> &operands,
                                       const StepContext &context);

/// The element of `type` with every entry zero (token 0 for a token type).
template <typename Real> Element<Real> zeroElement(const Type &type);

/// What the walk over a graph needs to know about one example.
template <typename Real> struct Example {
  /// The values of the graph's param, input and target ops.
  std::unordered_map<const Op *, ValuePtr<Real>> leaves;
  /// Length and prime length of every time axis for this example.
  std::map<std::string, int64_t> axisLengths;
  std::map<std::string, int64_t> primeLengths;
  Rng *rng = nullptr;
  bool greedy = false;
};

/// Runs `graph` for one example; returns the value of every `output` op.
template <typename Real>
Expected<std::unordered_map<const Op *, ValuePtr<Real>>>
evaluateExample(const Graph &graph, const Example<Real> &example);

/// Checks what the walk relies on so that a malformed graph is an internal Error, never a crash:
/// every op's result type follows from its operands by the typing rules of TypeInference.h, scan
/// bodies match their scans, token constants are in their vocabulary.
Status checkInterpretable(const Graph &graph);

} // namespace rnnc::ir::interpret
