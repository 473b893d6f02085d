// exposeCarriedState: the graph change behind stateful training (`rnnc train --stateful`,
// docs/training.md). For every forward recurrence of a graph (a top-level forward `scan` with a
// delay of one step), the initial value of each carried state (`h[0] = zeros`) becomes a new
// static input `state.<name>`, and the state at each example's last step becomes a new output
// `state.<name>.final` (`last` of the recurrence's per-step values). Fed zeros, the graph computes
// what it computed before; fed the final state of the previous window, it continues the text.
// The states are inputs, so no gradient flows across windows (truncated BPTT at the window).
//
// Assumes the frontend's scans, where each carried value is also one of the scan's per-step
// outputs (the recurrence `h[t]` itself); a carried value that is not, a reverse recurrence or
// one that reads further back than one step is a user error naming it. Names with a dot cannot
// be written in a model, so the new names collide with none of the model's.
//
// Invariant: the outputs that existed are unchanged when the new inputs are zero; SSA order is
// kept (the new inputs come first, the new `last` ops and outputs at the end).
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"

#include <string>
#include <vector>

namespace rnnc::passes {

/// One carried state of a graph after exposeCarriedState.
struct CarriedState {
  std::string input;  ///< "state.h": the initial state, static, one per example.
  std::string output; ///< "state.h.final": the state at each example's last step.
  ir::Type type;      ///< The state's type (static).
};

/// Exposes the carried states of `graph` (see the file comment); an error when it has none.
Expected<std::vector<CarriedState>> exposeCarriedState(ir::Graph &graph);

} // namespace rnnc::passes
