// Result types of IR ops, computed from operand types and attributes: the single statement of
// each op's typing rule, used by the Builder, the textual IR parser and the Verifier.
//
// Time broadcasting: outside a scan, an op whose operands include sequences over one axis
// computes per step and its result is a sequence over that axis; static operands are
// broadcast over the steps. Operands over two different axes are an error.
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"

namespace rnnc::ir {

/// True for ops whose result type is stated rather than inferred: leaves, broadcast, scan.
bool hasExplicitResultType(OpKind kind);

/// True for ops with no result (output, yield).
bool hasNoResult(OpKind kind);

/// The result type of an op that is neither explicit nor result-less, or a user Error whose
/// message says which rule the operands break (without location; callers add it). `attrs` must
/// follow the attribute schema (attributeProblem() in Verifier.h): the parser, the verifier and
/// the Builder check it first.
Expected<Type> inferResultType(OpKind kind, const std::vector<Type> &operands,
                               const Attributes &attrs);

} // namespace rnnc::ir
