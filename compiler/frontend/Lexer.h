// Lexer for model files: turns the source into tokens on demand (never the whole file at once,
// so a 10 MB line costs no memory). Comments run from '#' to the end of the line. Newlines end
// statements, except inside ( ) and [ ], where the lexer drops them (Python's rule); every
// token still records whether it starts a line, which lets the parser resynchronise after an
// error even inside an unclosed bracket. NUL bytes, invalid UTF-8 and stray characters are
// reported and skipped.
#pragma once

#include "compiler/frontend/Diagnostics.h"
#include "compiler/frontend/SourceLocation.h"

#include <string_view>

namespace rnnc::frontend {

enum class TokenKind {
  EndOfFile,
  Newline,
  Identifier,
  Integer, // 12
  Real,    // 0.5, 1e-3
  LeftBrace,
  RightBrace,
  LeftParen,
  RightParen,
  LeftBracket,
  RightBracket,
  Comma,
  Colon,
  Semicolon,
  Equal,
  Plus,
  Minus,
  Star,
  Slash,
  At,
  Tilde,
  Less,
  Greater,
};

struct Token {
  TokenKind kind = TokenKind::EndOfFile;
  std::string_view text; ///< The spelling, a view into the source.
  ast::SourceLocation loc;
  bool atLineStart = false; ///< First token on its line.

  bool is(TokenKind k) const { return kind == k; }
  bool isIdentifier(std::string_view name) const {
    return kind == TokenKind::Identifier && text == name;
  }
};

/// How a token is named in a message: 'foo', end of line, end of file.
std::string describeToken(const Token &token);

class Lexer {
public:
  Lexer(std::string_view source, DiagnosticEngine &diags);

  Token next();
  /// Forgets open brackets: called when the parser abandons a statement.
  void resetBrackets() { bracketDepth_ = 0; }

private:
  ast::SourceLocation locationAt(size_t offset) const;
  Token make(TokenKind kind, size_t start);
  void skipComment();
  Token lexNumber(size_t start);
  void reportBadByte();

  std::string_view source_;
  DiagnosticEngine &diags_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  size_t lineStart_ = 0;
  bool sawLineBreak_ = true;
  unsigned long bracketDepth_ = 0;
};

} // namespace rnnc::frontend
