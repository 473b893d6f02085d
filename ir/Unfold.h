// Explicit unfolding (the book's "unfolded computational graph", Goodfellow et al. §10.1): a
// graph rewritten for sequences of exactly N steps on every time axis, with no time structure
// left.
//
// Every sequence value becomes N static values (steps 1..N). Inputs and targets are read with
// `at_step {index = k}`; per-step ops are replicated N times; each scan is inlined N times with
// its carries threaded through (forward: steps 1..N, reverse: N..1); `shift`, `last`, `first`,
// `repeat`, `at_step` become wiring, `sum_time` a chain of adds (`sum_outer` of outer products),
// `at_last`/`at_first` the value at one step and zeros elsewhere; sequence outputs are rebuilt
// with `stack {axis}`.
//
// Assumes a verified graph. The result is a valid graph (no scan, shift, last, first, sum_time,
// sum_outer, repeat, at_last or at_first remains) that computes the same outputs as the original
// on every example whose sequences have length exactly N. Step k of a value named `h` is named
// `h_k`.
// `feed` cannot be unfolded (the prime's length is a run-time value): a graph that uses it is a
// user error.
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rnnc::ir {

/// Appends to the (empty) graph `unfolded` the unfolding of `source` for `steps` >= 1 steps.
Status unfoldGraph(const Graph &source, int64_t steps, Graph &unfolded);

/// A graph unfoldModule left out, and why (the user error unfolding it gave).
struct SkippedGraph {
  std::string graph, reason;
};

/// Every graph of a module unfolded for `steps` steps; dims are kept. With `skipped`, a graph
/// that cannot be unfolded (a user error: `feed` in a generate graph) is left out and listed
/// there instead of failing the whole module; when no graph is left, the first one's error.
Expected<std::unique_ptr<Module>> unfoldModule(const Module &module, int64_t steps,
                                               std::vector<SkippedGraph> *skipped = nullptr);

} // namespace rnnc::ir
