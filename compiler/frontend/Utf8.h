// UTF-8 validation shared by the lexer (source must be valid UTF-8) and the diagnostics printer
// (which shows source lines and must not pass broken bytes through to the terminal).
#pragma once

#include <cstddef>
#include <string_view>

namespace rnnc::frontend {

/// Length (1-4) of the well-formed UTF-8 sequence starting at `text[pos]`, or 0 when the bytes
/// there are not well-formed UTF-8 (stray continuation byte, overlong form, surrogate, code
/// point above U+10FFFF, or a sequence cut off by the end of the text).
inline size_t utf8SequenceLength(std::string_view text, size_t pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(pos);
  if (lead < 0x80)
    return 1;
  size_t length;
  unsigned char minSecond = 0x80, maxSecond = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0)
      minSecond = 0xA0; // overlong
    if (lead == 0xED)
      maxSecond = 0x9F; // UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0)
      minSecond = 0x90; // overlong
    if (lead == 0xF4)
      maxSecond = 0x8F; // above U+10FFFF
  } else {
    return 0;
  }
  if (pos + length > text.size())
    return 0;
  if (byte(pos + 1) < minSecond || byte(pos + 1) > maxSecond)
    return 0;
  for (size_t i = 2; i < length; ++i)
    if ((byte(pos + i) & 0xC0) != 0x80)
      return 0;
  return length;
}

} // namespace rnnc::frontend
