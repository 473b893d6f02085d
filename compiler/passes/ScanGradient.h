// The gradient of one `scan` (part of the Autodiff pass): a scan in the opposite direction over
// the same axis.
//
// For a forward scan  c(t) = f(c(t−1), x(t), w),  y(t) = out(c(t−1), x(t), w)  the gradient scan
// runs t = L … 1 with
//   carries  dc            = ∂L/∂c(t)            (starts at zero past the last step)
//   steps    dy(t)         the gradient of each per-step output, from outside
//            residuals     the forward values of step t the backward body needs
//            x(t)          forward step inputs, when the body needs them
//   statics  w             when the body needs them
// and yields dc(t−1) as the next carry, and per step dx(t), the contribution of step t to each
// static's gradient (summed outside with `sum_time`) and dc(t−1) again (its value at step 1 is
// the gradient of the carry's initial value, taken outside with `first`; `last` for a reverse
// scan). The backward body is built by cloning the forward body (the primal), running the
// generic reverse walk over it, and then replacing every primal value the gradient ops use by a
// residual, except values that do not depend on the carried state (recomputed from step inputs
// and statics; matrix products are saved, JAX's "save dots" policy). The forward scan is extended
// with one per-step output per residual (reusing an existing output when it already yields that
// value); the carried state c(t−1) is not stored twice: it is the forward shift of the per-step
// c(t).
#pragma once

#include "compiler/passes/Autodiff.h"
#include "ir/Builder.h"

#include <vector>

namespace rnnc::passes {

/// Emits the gradient scan of `scan` with `builder` (outside the scan), rewriting `scan` to save
/// its residuals, and returns one gradient (or nullptr) per operand of `scan`.
Expected<std::vector<ir::Value *>>
differentiateScan(ir::Op &scan, const std::vector<ir::Value *> &resultGradients,
                  const std::vector<bool> &operandNeedsGradient, ir::Builder &builder,
                  const AutodiffOptions &options, ScanGradientReport &report);

} // namespace rnnc::passes
