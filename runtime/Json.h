// A small, strict JSON (RFC 8259) parser and string quoting, enough for safetensors headers.
//
// Strict means: no comments, no trailing commas, no NaN, no leading zeros, strings must be valid
// UTF-8 without raw control characters, and nothing but whitespace after the value. Object
// members keep their file order and duplicates, so callers can report a duplicate key in their
// own words. Numbers keep their literal text, so callers can tell 3 from 3.0 and detect values
// that do not fit an integer type.
#pragma once

#include "runtime/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rnnc {

struct JsonMember;

struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Kind kind = Kind::Null;
  bool boolean = false;
  /// String: the decoded UTF-8 value. Number: the literal as written ("-1.5e3").
  std::string text;
  std::vector<JsonValue> elements;
  std::vector<JsonMember> members;

  /// The value of a number written as an integer (no fraction, no exponent) that fits int64_t.
  std::optional<int64_t> asInt64() const;
  /// "an object", "a string", ...: for messages such as "expected an array, got a string".
  std::string_view kindName() const;
};

/// One "key": value of an object. (A struct rather than std::pair: a pair of an incomplete
/// JsonValue inside JsonValue sends some compilers' default-constructibility checks in a loop.)
struct JsonMember {
  std::string key;
  JsonValue value;
};

/// Parses one JSON document. Errors are user errors such as
/// "expected ':' after an object key at byte 12".
Expected<JsonValue> parseJson(std::string_view text);

/// `text` as a JSON string literal, quotes included. Precondition: `text` is valid UTF-8.
std::string quoteJson(std::string_view text);

/// True if `text` is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool isValidUtf8(std::string_view text);

} // namespace rnnc
