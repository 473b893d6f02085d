// Sema: checks a parsed model and completes its AST (every field marked "(sema)" in AST.h).
// It runs four phases, each in its own file, always all four so that one run reports as many
// independent errors as possible (an erroneous subexpression gets the Unknown type, which
// silences errors that would only follow from the first one):
//
//   SemaDeclarations.cpp  symbols, dims and -D overrides, axes, types of inputs/targets/params,
//                         parameter initialisers, initial values and generate clauses attached
//                         to what they name
//   SemaTime.cpp          names in expressions, time indices, static vs per-step, the axis
//                         rules (no mixing of axes without last/first/sum), the reads graph
//   SemaRecurrences.cpp   cycles: recurrences, their direction and states, same-step cycles,
//                         required and unused initial values, the evaluation order
//   SemaShapes.cpp        types and shapes of every expression, with inference through
//                         recurrences; initial values, generate clauses and the loss
#pragma once

#include "compiler/frontend/AST.h"
#include "compiler/frontend/Diagnostics.h"

#include <map>
#include <string>

namespace rnnc::frontend {

/// Checks `model`, reporting every error to `diags`. `dimOverrides` are the -D values.
void checkModel(ast::Model &model, const std::map<std::string, long long> &dimOverrides,
                DiagnosticEngine &diags);

} // namespace rnnc::frontend
