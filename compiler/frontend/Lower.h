// Lowering of a checked model (AST after sema) to the graph IR.
//
// Produces a module with the model's dims and:
//   `forward`   inputs, targets, params -> every `output` definition and `loss`. Each
//               recurrence (a cycle of per-step definitions through t-1 or t+1) becomes one
//               `scan`; every other per-step definition is an op on whole sequences outside any
//               scan (already time-parallel); static subexpressions used inside a recurrence are
//               computed once outside and passed in as statics. Teacher forcing: a read of data at
//               t-1 is a `shift` of the data, so no loop-carried dependency exists through it.
//   `generate`  (when the model has `generate` clauses) the free-running graph: on each generated
//               axis all per-step definitions run in one forward scan that also carries the
//               generated names, fed by `sample` / the clause's value after the prime (`feed`).
// Invariant: the module verifies (ir/Verifier.h); every op carries the source location of the
// expression it came from.
#pragma once

#include "compiler/frontend/AST.h"
#include "ir/Graph.h"
#include "runtime/Error.h"

#include <memory>
#include <string>

namespace rnnc::frontend {

Expected<std::unique_ptr<ir::Module>> lowerToIR(const ast::Model &model,
                                                const std::string &filename);

} // namespace rnnc::frontend
