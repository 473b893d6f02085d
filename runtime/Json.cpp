#include "runtime/Json.h"

#include "runtime/QuotedString.h"

#include <charconv>

namespace rnnc {

namespace {

/// Nesting limit: deep enough for any real header, shallow enough that a hostile file of
/// brackets cannot exhaust the stack of this recursive parser.
constexpr int maxDepth = 64;

/// Length of the UTF-8 sequence starting at text[0], or 0 if it is malformed.
size_t utf8SequenceLength(std::string_view text) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(0);
  if (lead < 0x80)
    return 1;
  size_t length;
  uint32_t codePoint, minimum;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, codePoint = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, codePoint = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, codePoint = lead & 0x07, minimum = 0x10000;
  } else {
    return 0;
  }
  if (text.size() < length)
    return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80)
      return 0;
    codePoint = (codePoint << 6) | (byte(i) & 0x3F);
  }
  bool surrogate = codePoint >= 0xD800 && codePoint <= 0xDFFF;
  if (codePoint < minimum || surrogate || codePoint > 0x10FFFF)
    return 0;
  return length;
}

void appendUtf8(std::string &out, uint32_t codePoint) {
  if (codePoint < 0x80) {
    out += char(codePoint);
  } else if (codePoint < 0x800) {
    out += char(0xC0 | (codePoint >> 6));
    out += char(0x80 | (codePoint & 0x3F));
  } else if (codePoint < 0x10000) {
    out += char(0xE0 | (codePoint >> 12));
    out += char(0x80 | ((codePoint >> 6) & 0x3F));
    out += char(0x80 | (codePoint & 0x3F));
  } else {
    out += char(0xF0 | (codePoint >> 18));
    out += char(0x80 | ((codePoint >> 12) & 0x3F));
    out += char(0x80 | ((codePoint >> 6) & 0x3F));
    out += char(0x80 | (codePoint & 0x3F));
  }
}

class JsonParser {
public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  Expected<JsonValue> parseDocument() {
    JsonValue value;
    if (Status status = parseValue(value, 0); !status)
      return status.takeError();
    skipWhitespace();
    if (pos_ != text_.size())
      return fail("unexpected text after the JSON value");
    return value;
  }

private:
  Error fail(const std::string &what) const {
    return Error::user(what + " at byte " + std::to_string(pos_));
  }

  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  void skipWhitespace() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
      ++pos_;
  }

  bool consume(char expected) {
    if (atEnd() || peek() != expected)
      return false;
    ++pos_;
    return true;
  }

  Status parseValue(JsonValue &value, int depth) {
    skipWhitespace();
    if (atEnd())
      return fail("expected a JSON value, found the end of the text");
    switch (peek()) {
    case '{':
      return parseObject(value, depth + 1);
    case '[':
      return parseArray(value, depth + 1);
    case '"':
      value.kind = JsonValue::Kind::String;
      return parseString(value.text);
    case 't':
      return parseLiteral(value, "true", JsonValue::Kind::Bool, true);
    case 'f':
      return parseLiteral(value, "false", JsonValue::Kind::Bool, false);
    case 'n':
      return parseLiteral(value, "null", JsonValue::Kind::Null, false);
    default:
      if (peek() == '-' || (peek() >= '0' && peek() <= '9'))
        return parseNumber(value);
      return fail("expected a JSON value");
    }
  }

  Status parseLiteral(JsonValue &value, std::string_view word, JsonValue::Kind kind, bool boolean) {
    if (text_.substr(pos_, word.size()) != word)
      return fail("expected a JSON value");
    pos_ += word.size();
    value.kind = kind;
    value.boolean = boolean;
    return Status::ok();
  }

  Status parseObject(JsonValue &value, int depth) {
    if (depth > maxDepth)
      return fail("JSON nested deeper than " + std::to_string(maxDepth) + " levels");
    value.kind = JsonValue::Kind::Object;
    ++pos_; // '{'
    skipWhitespace();
    if (consume('}'))
      return Status::ok();
    while (true) {
      skipWhitespace();
      if (atEnd() || peek() != '"')
        return fail("expected a string key in an object");
      std::string key;
      if (Status status = parseString(key); !status)
        return status;
      skipWhitespace();
      if (!consume(':'))
        return fail("expected ':' after an object key");
      JsonValue member;
      if (Status status = parseValue(member, depth); !status)
        return status;
      value.members.push_back({std::move(key), std::move(member)});
      skipWhitespace();
      if (consume('}'))
        return Status::ok();
      if (!consume(','))
        return fail("expected ',' or '}' in an object");
    }
  }

  Status parseArray(JsonValue &value, int depth) {
    if (depth > maxDepth)
      return fail("JSON nested deeper than " + std::to_string(maxDepth) + " levels");
    value.kind = JsonValue::Kind::Array;
    ++pos_; // '['
    skipWhitespace();
    if (consume(']'))
      return Status::ok();
    while (true) {
      JsonValue element;
      if (Status status = parseValue(element, depth); !status)
        return status;
      value.elements.push_back(std::move(element));
      skipWhitespace();
      if (consume(']'))
        return Status::ok();
      if (!consume(','))
        return fail("expected ',' or ']' in an array");
    }
  }

  bool consumeDigits() {
    size_t start = pos_;
    while (!atEnd() && peek() >= '0' && peek() <= '9')
      ++pos_;
    return pos_ > start;
  }

  Status parseNumber(JsonValue &value) {
    size_t start = pos_;
    consume('-');
    if (consume('0')) {
      if (!atEnd() && peek() >= '0' && peek() <= '9')
        return fail("numbers must not have leading zeros");
    } else if (!consumeDigits()) {
      return fail("expected digits in a number");
    }
    if (consume('.') && !consumeDigits())
      return fail("expected digits after the decimal point");
    if (consume('e') || consume('E')) {
      if (!consume('+'))
        consume('-');
      if (!consumeDigits())
        return fail("expected digits in the exponent");
    }
    value.kind = JsonValue::Kind::Number;
    value.text = std::string(text_.substr(start, pos_ - start));
    return Status::ok();
  }

  /// Reads four hex digits of a \u escape.
  Status parseHex4(uint32_t &codeUnit) {
    if (text_.size() - pos_ < 4)
      return fail("expected four hex digits after \\u");
    auto [end, errc] = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, codeUnit, 16);
    if (errc != std::errc() || end != text_.data() + pos_ + 4)
      return fail("expected four hex digits after \\u");
    pos_ += 4;
    return Status::ok();
  }

  Status parseEscape(std::string &out) {
    if (atEnd())
      return fail("unterminated string");
    char escaped = text_[pos_++];
    switch (escaped) {
    case '"':
    case '\\':
    case '/':
      out += escaped;
      return Status::ok();
    case 'b':
      out += '\b';
      return Status::ok();
    case 'f':
      out += '\f';
      return Status::ok();
    case 'n':
      out += '\n';
      return Status::ok();
    case 'r':
      out += '\r';
      return Status::ok();
    case 't':
      out += '\t';
      return Status::ok();
    case 'u':
      break;
    default:
      --pos_;
      return fail("invalid escape sequence in a string");
    }
    uint32_t codePoint;
    if (Status status = parseHex4(codePoint); !status)
      return status;
    if (codePoint >= 0xDC00 && codePoint <= 0xDFFF)
      return fail("unpaired UTF-16 surrogate in a \\u escape");
    if (codePoint >= 0xD800 && codePoint <= 0xDBFF) {
      uint32_t low;
      if (!consume('\\') || !consume('u'))
        return fail("unpaired UTF-16 surrogate in a \\u escape");
      if (Status status = parseHex4(low); !status)
        return status;
      if (low < 0xDC00 || low > 0xDFFF)
        return fail("unpaired UTF-16 surrogate in a \\u escape");
      codePoint = 0x10000 + ((codePoint - 0xD800) << 10) + (low - 0xDC00);
    }
    appendUtf8(out, codePoint);
    return Status::ok();
  }

  Status parseString(std::string &out) {
    ++pos_; // opening quote
    while (true) {
      if (atEnd())
        return fail("unterminated string");
      char c = peek();
      if (c == '"') {
        ++pos_;
        return Status::ok();
      }
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in a string");
      if (c == '\\') {
        ++pos_;
        if (Status status = parseEscape(out); !status)
          return status;
        continue;
      }
      size_t length = utf8SequenceLength(text_.substr(pos_));
      if (length == 0)
        return fail("invalid UTF-8 in a string");
      out += text_.substr(pos_, length);
      pos_ += length;
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

} // namespace

std::optional<int64_t> JsonValue::asInt64() const {
  if (kind != Kind::Number || text.find_first_of(".eE") != std::string::npos)
    return std::nullopt;
  int64_t result;
  auto [end, errc] = std::from_chars(text.data(), text.data() + text.size(), result);
  if (errc != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return result;
}

std::string_view JsonValue::kindName() const {
  switch (kind) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "a boolean";
  case Kind::Number:
    return "a number";
  case Kind::String:
    return "a string";
  case Kind::Array:
    return "an array";
  case Kind::Object:
    return "an object";
  }
  return "?";
}

Expected<JsonValue> parseJson(std::string_view text) { return JsonParser(text).parseDocument(); }

std::string quoteJson(std::string_view text) { return quoteString(text, QuoteStyle::Json); }

bool isValidUtf8(std::string_view text) {
  while (!text.empty()) {
    size_t length = utf8SequenceLength(text);
    if (length == 0)
      return false;
    text.remove_prefix(length);
  }
  return true;
}

} // namespace rnnc
