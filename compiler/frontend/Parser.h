// Parser: recursive descent over the grammar of docs/language.md, producing the AST (AST.h)
// with a source location on every node. It recovers from a syntax error by skipping to the
// next statement (a newline or ';' outside brackets, the start of a new line, or '}'), so one
// run reports the errors of several statements. Nesting is limited (kMaxNestingDepth levels
// of brackets, unary operators and time sums; kMaxExprHeight levels of operators), so no input
// can overflow the stack, here or in later recursive walks.
#pragma once

#include "compiler/frontend/AST.h"
#include "compiler/frontend/Diagnostics.h"

#include <memory>
#include <string_view>

namespace rnnc::frontend {

inline constexpr unsigned kMaxNestingDepth = 256;

/// Parses a whole model file. Returns null when not even `model NAME {` could be read;
/// otherwise the model, which is partial when `diags` has errors.
std::unique_ptr<ast::Model> parseModel(std::string_view source, DiagnosticEngine &diags);

} // namespace rnnc::frontend
