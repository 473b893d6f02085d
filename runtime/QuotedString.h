// Text in double quotes with escapes, for the two text formats rnnc writes strings into: JSON
// and the textual graph IR. Both escape '"', '\\', newline and tab the same way; they differ in
// the other bytes, so that each format's reader gets back exactly the text that was quoted.
#pragma once

#include <string>
#include <string_view>

namespace rnnc {

enum class QuoteStyle {
  Json,   ///< \r; the other bytes below 0x20 as \u00XX; bytes from 0x7f as they are (UTF-8).
  IrText, ///< every other byte below 0x20 or from 0x7f as \xXX: printed IR is ASCII.
};

/// `text` in double quotes, escaped in `style`.
std::string quoteString(std::string_view text, QuoteStyle style);

} // namespace rnnc
