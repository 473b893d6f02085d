// Simplify: algebraic simplification, run after differentiation so the backward graph reads as an
// expert would write it by hand. Local rewrites, applied in every block and scan body until none
// applies:
//   x * 1, 1 * x, x + 0, 0 + x, x − 0   →  x        (1 and 0: constants, or their repeat/broadcast;
//                                                     only when the result type equals x's)
//   −(−x) → x,  transpose(transpose(x)) → x,  x + (−y) → x − y,  (−y) + x → x − y,  x − (−y) → x +
//   y softmax's gradient applied to nll's gradient   →  g (p − onehot(y))   (p = softmax(o), the
//     cross-entropy gradient; g omitted when it is 1)
// The ops a round leaves unused are removed before the next (removeDeadOps), so none is
// rewritten twice; test/passes/simplify.rnnir shows the pass alone.
//
// Invariant: every value read by an output keeps its value (up to rounding: the softmax + nll
// rewrite is exact in real arithmetic); types and SSA order are kept.
#pragma once

#include "ir/Graph.h"

#include <cstddef>

namespace rnnc::passes {

/// Simplifies every graph of `module`; returns the number of rewrites.
size_t simplify(ir::Module &module);

} // namespace rnnc::passes
