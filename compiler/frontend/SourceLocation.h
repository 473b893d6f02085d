// A position in a model file: byte offset plus 1-based line and column (columns count bytes,
// as clang does). Every AST node carries one; diagnostics print it as "file:line:col".
#pragma once

#include <cstdint>

namespace rnnc::ast {

struct SourceLocation {
  uint32_t offset = 0; ///< Byte offset from the start of the source.
  uint32_t line = 1;   ///< 1-based line number.
  uint32_t column = 1; ///< 1-based byte column within the line.
};

} // namespace rnnc::ast
