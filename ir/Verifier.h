// The IR verifier: checks every rule of docs/ir.md ("Verifier") on a module or graph and names
// the first op that breaks one:
//   verifier: <location>: <rule violated>
//     in: <printed op>
// Rules: SSA (operands defined earlier in the same block; a scan body refers only to its own
// arguments), attributes present and well-formed, result types agree with the typing rules,
// scan structure (operand groups, body arguments, yield counts, carries keep their types, step
// sequences over the scan's axis, result types), no sequence types inside a scan body, `feed`
// and `sample` only in the `generate` graph, leaves and outputs only at a graph's top level,
// output names unique per graph, graph and dim names unique per module.
//
// It runs on parsed files (a failure is the user's) and after every pass (a failure is a bug in
// the pass; the pass manager reports it as internal). Errors are user Errors.
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"

#include <string>

namespace rnnc::ir {

Status verifyModule(const Module &module);
Status verifyGraph(const Graph &graph);

/// What is wrong with an op's attributes (a required one missing, of the wrong kind or with a
/// bad value), or "" when they are well-formed. Shared with the textual IR parser.
std::string attributeProblem(OpKind kind, const Attributes &attrs);

} // namespace rnnc::ir
