// CSE: common-subexpression elimination. Within each block (a graph, or a scan body), an op that
// computes the same kind, operands, attributes and result types as an earlier op is replaced by
// that op's result. Leaves that name a tensor (param, input, target), ops with a body (scan),
// sinks (output, yield) and random draws (sample) are never merged.
//
// Invariant: every value keeps its value; SSA order is kept (the earlier op dominates).
#pragma once

#include "ir/Graph.h"

#include <cstddef>

namespace rnnc::passes {

/// Merges common subexpressions in every graph of `module`; returns how many ops it merged.
size_t eliminateCommonSubexpressions(ir::Module &module);

} // namespace rnnc::passes
