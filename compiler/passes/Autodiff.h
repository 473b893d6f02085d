// Autodiff: reverse-mode differentiation of a module's `forward` graph (back-propagation through
// time). Adds a graph `backward` to the module: a copy of the forward ops, followed by the
// reverse sweep, with an output `grad.<name>` for every parameter and every real-valued input
// (targets and token inputs are data and get none). The seed is d loss / d loss = 1.
//
// Outside scans the reverse sweep is one generic walk over the ops in reverse order: the
// gradient rules (GradRules.h) give each operand's contribution, fan-out is accumulated by
// summing contributions, and a contribution that is broadcast (over time, or from a scalar) is
// reduced to the operand's type with `sum_time` / `sum`. A scan's gradient is a scan in the
// opposite direction over the same axis (ScanGradient.h): its carries are the gradients of the
// forward carries, the forward scan is extended with per-step outputs of what the backward needs
// (residuals), and parameters and other statics get their gradient as a per-step output summed
// with `sum_time` outside the gradient scan (so ∇W = Σ_t δ(t) h(t−1)ᵀ can become one GEMM).
//
// Options, for every scan of the model:
//   truncate K    Truncated BPTT, TBPTT(K, K): each sequence is cut into chunks of K steps,
//                 counted from where the gradient scan starts (each example's last step for a
//                 forward-in-time scan, step 1 for a backward-in-time one), and the carried
//                 gradient never crosses from a chunk into the one before it: the gradient scan
//                 zeroes its carried gradients after every K steps it runs. A gradient entering
//                 at a step therefore flows back through at most K steps (that step included).
//                 The carry's initial value belongs to the earliest chunk and gets its gradient.
//                 With K >= the sequence length this is full BPTT.
//   checkpoint K  Rematerialisation. K = 1: the forward saves only the carried states, and the
//                 gradient scan recomputes everything else of the step body from them.
//                 K > 1: the forward saves the carried state only at the start of every segment
//                 of K steps (a scan result over the segment axis `t/K`), and the gradient scan
//                 runs over segments: it recomputes the K states of a segment from its
//                 checkpoint with K unrolled copies of the step body, then walks them backwards
//                 (CheckpointedScanGradient.h). Gradients equal full BPTT to rounding; the saved
//                 carried state drops from every step to every K-th. K is at most
//                 maxCheckpointSegment, since the backward body holds K copies of the step.
//
// Invariant: `forward` is left unchanged; `backward` is in SSA order and typed; every scan of
// `backward` refers only to its own arguments. A missing gradient rule is a located user error.
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace rnnc::passes {

struct AutodiffOptions {
  int64_t truncate = 0;   ///< 0: full BPTT; K > 0: TBPTT(K, K) as described above.
  int64_t checkpoint = 0; ///< 0: save residuals; K >= 1: save carried states every K steps.
};

/// The largest `checkpoint K`: the gradient body of a checkpointed scan unrolls K steps.
constexpr int64_t maxCheckpointSegment = 1024;

/// One value the forward scan saves per step for its gradient scan.
struct Residual {
  std::string name;   ///< The value's name in the forward body (may be empty).
  ir::Type type;      ///< Per-step type.
  bool reused;        ///< Also a per-step output of the forward scan (read by other ops).
  int64_t stride = 1; ///< Saved every `stride` steps (a checkpoint of `checkpoint K`), else 1.
  /// Bytes kept per step and example (fractional for a checkpoint: one value per K steps).
  double bytesPerStep() const { return type.numElements() * 4.0 / stride; }
  /// Bytes kept for one example of `steps` steps.
  int64_t bytesFor(int64_t steps) const {
    return (steps + stride - 1) / stride * type.numElements() * 4;
  }
};

/// What the pass did to one forward scan.
struct ScanGradientReport {
  ir::SourceLocation location;
  std::string axis;
  bool reverse = false; ///< Direction of the forward scan.
  std::vector<Residual> residuals;
  int64_t carriedBytes = 0; ///< Bytes of the carried states, per step.
  /// Bytes the forward keeps for the backward, per step and example: every residual, including
  /// those the graph also outputs (a training graph need not keep those).
  double bytesPerStep() const;
  /// The part of bytesPerStep that is not also a per-step output of the scan.
  double extraBytesPerStep() const;
  int64_t bytesFor(int64_t steps) const; ///< bytesPerStep for one example of `steps` steps.
};

struct AutodiffReport {
  std::vector<ScanGradientReport> scans;
  std::vector<std::string> gradientOutputs; ///< "grad.W", … in output order.
  double bytesPerStep() const;
  double extraBytesPerStep() const;
  /// Bytes the forward keeps for the backward over a batch of `batch` examples padded to `steps`
  /// steps (the tensor layout [T, B, ...]), with every scan's axis that long.
  int64_t bytesForBatch(int64_t steps, int64_t batch) const;
  /// Human-readable: one line per scan with its residuals and the bytes saved per step.
  std::string summary() const;
};

/// Adds (or replaces) the `backward` graph of `module` from its `forward` graph.
Expected<AutodiffReport> differentiate(ir::Module &module, const AutodiffOptions &options = {});

} // namespace rnnc::passes
