// DCE: dead-code elimination. Removes every op whose results nothing live reads (an op is live
// when it is an `output` or a scan body's `yield`, has a random side effect (`sample`), or feeds
// a live op), in every graph and scan body, and prunes scans: per-step outputs nobody reads and
// step or static operands the body never reads are dropped (the scan is rebuilt without them).
//
// Invariant: the values read by outputs are unchanged; SSA order is kept.
#pragma once

#include "ir/Graph.h"

#include <cstddef>

namespace rnnc::passes {

/// Removes dead ops from `block` and, recursively, from scan bodies. Returns how many it removed.
size_t removeDeadOps(ir::Block &block);

/// removeDeadOps plus scan pruning on `graph`, to a fixed point.
void eliminateDeadCode(ir::Graph &graph);

/// The pass: eliminateDeadCode on every graph of `module`.
void eliminateDeadCode(ir::Module &module);

} // namespace rnnc::passes
