// The parser of the textual graph IR (`*.rnnir`, docs/ir.md "Textual form"): the inverse of
// ir/Printer.h. It has its own small lexer (no LLVM in ir/).
//
// It checks what a line alone can tell: syntax, names (a use of an undefined value, a
// redefinition), known mnemonics, operand counts, attributes, and each result type against the
// typing rule (inferResultType). Rules that span ops (scan structure, capture, placement) are
// the verifier's: run verifyModule on the result. Errors are user Errors formatted like clang:
//   file:line:col: error: message
//   <the source line>
//       ^
// Any input, however malformed, gives a module or an error, never a crash.
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"

#include <memory>
#include <string>
#include <string_view>

namespace rnnc::ir {

Expected<std::unique_ptr<Module>> parseModule(std::string_view text, const std::string &filename);

/// Reads and parses a `.rnnir` file; the path `-` reads standard input.
Expected<std::unique_ptr<Module>> parseModuleFile(const std::string &path);

} // namespace rnnc::ir
