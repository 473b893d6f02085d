// The check of a run's outputs for NaN and infinity (`rnnc run --check-finite`,
// CompileOptions::checkFinite of rnnc/rnnc.h). The backends do not stop inside a run, so the
// outputs are checked after it, roughly in the order the run computes them: the forward's
// per-step outputs by the earliest step (then the lowest example), then its per-example static
// outputs by the lowest example, then `loss` (summed over the batch); then the gradients of a
// backward run (`grad.<name>`) in the same order. Ties go to the first name. The first
// non-finite value found is the error, naming the output, its step and example (counted from 0,
// like the tensors' indices) and its element.
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

namespace rnnc::model {

/// Success when every real output of `graph` in `outputs` is finite; else a user error such as
/// "output 'h' is inf at step 3 of example 1 (element [3, 1, 0])",
/// "output 'y' is nan in example 1 (element [1, 0])" or "output 'grad.W' is nan (element [0, 2])".
Status checkOutputsFinite(const ir::Graph &graph, const TensorMap &outputs);

} // namespace rnnc::model
