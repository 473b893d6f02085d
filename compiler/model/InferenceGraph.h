// Inference: running a model when its targets are absent (`rnnc run` without targets,
// Model::forward of rnnc/rnnc.h). The `inference` graph is a copy of `forward` without the
// outputs that read a target (the loss, a metric, a teacher-forced output), cleaned by DCE, so it
// reads no target at all: a backend runs it on the inputs alone.
//
// Invariant: every output of `inference` is an output of `forward` computing the same values.
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

namespace rnnc::model {

/// The name of the graph addInferenceGraph adds.
inline constexpr const char *inferenceGraphName = "inference";

/// Whether a run of `forward` on `data` should run the inference graph: the model has targets
/// and `data` holds none of them (some but not all is a missing target, reported as such).
bool targetsAbsent(const ir::Graph &forward, const TensorMap &data);

/// Adds the `inference` graph to `module` (once; a second call returns the first graph). A user
/// error names the targets when every output of the model reads one (a model that feeds its
/// targets back, as jordan and seq2seq do, predicts them by generating instead).
Expected<const ir::Graph *> addInferenceGraph(ir::Module &module);

} // namespace rnnc::model
