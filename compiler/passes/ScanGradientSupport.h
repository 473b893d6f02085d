// Pieces shared by the two builders of a scan's gradient (part of the Autodiff pass): step by
// step (ScanGradient.h) and by checkpointed segments (CheckpointedScanGradient.h).
#pragma once

#include "compiler/passes/GradientWalk.h"

#include <cstdint>
#include <vector>

namespace rnnc::passes {

/// The scan handler of a GradientWalk over a scan body: a scan nested in a body has no gradient,
/// a located user error.
Expected<std::vector<ir::Value *>> rejectNestedScan(ir::Op &nested,
                                                    const std::vector<ir::Value *> &,
                                                    const std::vector<bool> &, ir::Builder &);

/// Truncated BPTT (Autodiff.h): adds `increment` (1 for a step run, or 0 for a padded phase) to
/// the counter `stepsRun`; when it reaches `truncate`, the carried gradients restart from zero
/// and so does the counter. Returns the new counter. Counts are small integers, exact in f32.
ir::Value *cutCarriedGradients(ir::Builder &builder, std::vector<ir::Value *> &carried,
                               ir::Value *stepsRun, ir::Value *increment, int64_t truncate);

} // namespace rnnc::passes
