// The gradient of one `scan` under `checkpoint K` with K > 1 (part of the Autodiff pass):
// segment checkpointing, the O(L/K + K) memory schedule of Griewank's "checkpointing" and of
// `jax.checkpoint` around an inner scan, expressed in the loop-free scan bodies of the IR.
//
// The steps of the scan's axis `t` are grouped into segments of K steps, counted from where the
// forward scan starts (step 1 for a forward scan, each example's last step for a reverse one);
// segment j is step j of the segment axis `t/K`, which has ceil(L / K) steps (docs/ir.md).
//
//   forward   The scan gets one result per carry over `t/K`, yielding the carried state c(t−1)
//             it receives: a scan result over a segment axis keeps only the value of each
//             segment's first step, so these checkpoints take ceil(L / K) states, not L.
//   backward  One scan over `t/K`, opposite to the forward's visiting order (always `reverse`
//             over the segment axis: segment order is the forward's order), carrying dc = ∂L/∂c.
//             Its step inputs are the checkpoints and, for each phase p = 1 … K, the forward step
//             inputs and the per-step output gradients of the p-th step of the segment
//             (`segment {factor = K, phase = p}`, zeros past the example's length). Its body
//             holds K copies of the forward body chained through the carries (the recomputed
//             segment), then K reverse walks (GradientWalk.h), phase K first, each seeded by
//             the carried gradient of the phase after it: a loop-free backward over K steps.
//             Per segment it yields the step-input gradients of every phase (put back in step
//             order with `unsegment`), the sum over phases of each static's gradient (summed
//             over segments with `sum_time`) and dc at the segment's start (the gradient of the
//             carry's initial value is its value after segment 1: `first`).
//
// Phases past an example's length exist only in its last segment, which the backward visits
// first: their output gradients and incoming carried gradient are zero, so (the recomputed values
// being finite) they contribute exactly zero, and their step-input gradients are dropped by
// `unsegment`. With `truncate` the carried gradient is cut after every `truncate` valid phases,
// counted exactly as in the step-by-step gradient scan.
//
// Invariant: the same as differentiateScan (ScanGradient.h); nothing of the step body but the
// carried state crosses from the forward to the backward.
#pragma once

#include "compiler/passes/Autodiff.h"
#include "ir/Builder.h"

#include <vector>

namespace rnnc::passes {

/// Emits the segment-checkpointed gradient scan of `scan` (options.checkpoint > 1, the scan has
/// a carry) with `builder`, adding the checkpoint results to `scan`; returns one gradient (or
/// nullptr) per operand of `scan`.
Expected<std::vector<ir::Value *>>
differentiateScanCheckpointed(ir::Op &scan, const std::vector<ir::Value *> &resultGradients,
                              const std::vector<bool> &operandNeedsGradient, ir::Builder &builder,
                              const AutodiffOptions &options, ScanGradientReport &report);

} // namespace rnnc::passes
