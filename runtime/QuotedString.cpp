// quoteString (QuotedString.h): one escaping loop for JSON and the textual IR.
#include "runtime/QuotedString.h"

namespace rnnc {

std::string quoteString(std::string_view text, QuoteStyle style) {
  static constexpr char hexDigits[] = "0123456789abcdef";
  bool json = style == QuoteStyle::Json;
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (json && c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || (!json && byte >= 0x7f)) {
      out += json ? "\\u00" : "\\x";
      out += hexDigits[byte >> 4];
      out += hexDigits[byte & 0xF];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

} // namespace rnnc
