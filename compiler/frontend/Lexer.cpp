#include "compiler/frontend/Lexer.h"

#include "compiler/frontend/Utf8.h"

#include <cstdio>
#include <optional>
#include <utility>

namespace rnnc::frontend {
namespace {

bool isIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentifierChar(char c) { return isIdentifierStart(c) || isDigit(c); }

std::optional<TokenKind> punctuationKind(char c) {
  static constexpr std::pair<char, TokenKind> kPunctuation[] = {
      {'{', TokenKind::LeftBrace},  {'}', TokenKind::RightBrace},  {'(', TokenKind::LeftParen},
      {')', TokenKind::RightParen}, {'[', TokenKind::LeftBracket}, {']', TokenKind::RightBracket},
      {',', TokenKind::Comma},      {':', TokenKind::Colon},       {';', TokenKind::Semicolon},
      {'=', TokenKind::Equal},      {'+', TokenKind::Plus},        {'-', TokenKind::Minus},
      {'*', TokenKind::Star},       {'/', TokenKind::Slash},       {'@', TokenKind::At},
      {'~', TokenKind::Tilde},      {'<', TokenKind::Less},        {'>', TokenKind::Greater},
  };
  for (const auto &[spelling, kind] : kPunctuation)
    if (c == spelling)
      return kind;
  return std::nullopt;
}

std::string hexByte(unsigned char byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02X", byte);
  return buffer;
}

} // namespace

std::string describeToken(const Token &token) {
  switch (token.kind) {
  case TokenKind::EndOfFile:
    return "end of file";
  case TokenKind::Newline:
    return "end of line";
  default:
    return quoteForMessage(token.text);
  }
}

Lexer::Lexer(std::string_view source, DiagnosticEngine &diags) : source_(source), diags_(diags) {}

ast::SourceLocation Lexer::locationAt(size_t offset) const {
  return {static_cast<uint32_t>(offset), line_, static_cast<uint32_t>(offset - lineStart_ + 1)};
}

Token Lexer::make(TokenKind kind, size_t start) {
  Token token;
  token.kind = kind;
  token.text = source_.substr(start, pos_ - start);
  token.loc = locationAt(start);
  token.atLineStart = sawLineBreak_;
  sawLineBreak_ = false;
  return token;
}

void Lexer::skipComment() {
  // Comments may hold any UTF-8 text, but not broken bytes: the file must be valid UTF-8.
  while (pos_ < source_.size() && source_[pos_] != '\n') {
    size_t length = utf8SequenceLength(source_, pos_);
    if (length == 0 || source_[pos_] == '\0') {
      reportBadByte();
      continue;
    }
    pos_ += length;
  }
}

void Lexer::reportBadByte() {
  unsigned char byte = static_cast<unsigned char>(source_[pos_]);
  if (byte == 0)
    diags_.error(locationAt(pos_), "NUL byte in source");
  else
    diags_.error(locationAt(pos_), "invalid UTF-8 byte " + hexByte(byte));
  ++pos_;
}

Token Lexer::lexNumber(size_t start) {
  bool isReal = false;
  while (pos_ < source_.size() && isDigit(source_[pos_]))
    ++pos_;
  if (pos_ + 1 < source_.size() && source_[pos_] == '.' && isDigit(source_[pos_ + 1])) {
    isReal = true;
    ++pos_;
    while (pos_ < source_.size() && isDigit(source_[pos_]))
      ++pos_;
  }
  if (pos_ < source_.size() && (source_[pos_] == 'e' || source_[pos_] == 'E')) {
    size_t exponent = pos_ + 1;
    if (exponent < source_.size() && (source_[exponent] == '+' || source_[exponent] == '-'))
      ++exponent;
    if (exponent < source_.size() && isDigit(source_[exponent])) {
      isReal = true;
      pos_ = exponent;
      while (pos_ < source_.size() && isDigit(source_[pos_]))
        ++pos_;
    }
  }
  bool malformed = false;
  while (pos_ < source_.size() && (isIdentifierChar(source_[pos_]) || source_[pos_] == '.')) {
    malformed = true;
    ++pos_;
  }
  Token token = make(isReal ? TokenKind::Real : TokenKind::Integer, start);
  if (malformed)
    diags_.error(token.loc, "malformed number " + quoteForMessage(token.text));
  return token;
}

Token Lexer::next() {
  while (pos_ < source_.size()) {
    size_t start = pos_;
    char c = source_[pos_];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++pos_;
      continue;
    }
    if (c == '\n') {
      ++pos_;
      bool statementEnds = bracketDepth_ == 0 && !sawLineBreak_;
      Token token = make(TokenKind::Newline, start);
      ++line_;
      lineStart_ = pos_;
      sawLineBreak_ = true;
      if (statementEnds)
        return token;
      continue;
    }
    if (c == '#') {
      skipComment();
      continue;
    }
    if (isIdentifierStart(c)) {
      while (pos_ < source_.size() && isIdentifierChar(source_[pos_]))
        ++pos_;
      return make(TokenKind::Identifier, start);
    }
    if (isDigit(c))
      return lexNumber(start);
    std::optional<TokenKind> punctuation = punctuationKind(c);
    if (!punctuation) {
      unsigned char byte = static_cast<unsigned char>(c);
      size_t length = utf8SequenceLength(source_, pos_);
      if (byte == 0 || length == 0) {
        reportBadByte();
      } else if (byte < 0x20 || byte == 0x7F) {
        diags_.error(locationAt(pos_), "unexpected control character " + hexByte(byte));
        ++pos_;
      } else {
        diags_.error(locationAt(pos_),
                     "unexpected character " + quoteForMessage(source_.substr(pos_, length)));
        pos_ += length;
      }
      continue;
    }
    TokenKind kind = *punctuation;
    ++pos_;
    if (kind == TokenKind::LeftParen || kind == TokenKind::LeftBracket)
      ++bracketDepth_;
    else if ((kind == TokenKind::RightParen || kind == TokenKind::RightBracket) &&
             bracketDepth_ > 0)
      --bracketDepth_;
    return make(kind, start);
  }
  Token token = make(TokenKind::EndOfFile, pos_);
  token.atLineStart = true;
  return token;
}

} // namespace rnnc::frontend
