// Lexer and recursive-descent parser of the textual graph IR; see Parser.h.
#include "ir/Parser.h"

#include "ir/TypeInference.h"
#include "ir/Verifier.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_map>

namespace rnnc::ir {

namespace {

enum class TokenKind {
  EndOfFile,
  Identifier, // module, graph, dim, f32, tok, mnemonics, attribute keys, axes
  ValueName,  // %h.1, %0
  SymbolName, // @forward
  Integer,
  Real,
  String,
  Punctuation, // one of { } ( ) [ ] < > , : = ^ - /
};

struct Token {
  TokenKind kind = TokenKind::EndOfFile;
  std::string text; ///< Spelling; the name without its sigil; the decoded string.
  size_t offset = 0;
  int64_t integer = 0;
  double real = 0;

  bool is(char punctuation) const {
    return kind == TokenKind::Punctuation && text.size() == 1 && text[0] == punctuation;
  }
  bool isKeyword(std::string_view word) const {
    return kind == TokenKind::Identifier && text == word;
  }
};

constexpr int64_t maxDimension = (int64_t{1} << 31) - 1;
constexpr int maxRegionDepth = 32;

bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

/// Source text with line lookup and clang-style diagnostics.
class Source {
public:
  Source(std::string_view text, std::string filename)
      : text_(text), filename_(std::move(filename)) {
    lineStarts_.push_back(0);
    for (size_t i = 0; i < text_.size(); ++i)
      if (text_[i] == '\n')
        lineStarts_.push_back(i + 1);
  }

  std::string_view text() const { return text_; }

  SourceLocation location(size_t offset) const {
    auto line = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset) - 1;
    return {filename_, static_cast<int>(line - lineStarts_.begin()) + 1,
            static_cast<int>(offset - *line) + 1};
  }

  Error error(size_t offset, const std::string &message) const {
    SourceLocation where = location(offset);
    size_t start = lineStarts_[static_cast<size_t>(where.line) - 1];
    size_t end = text_.find('\n', start);
    std::string line(text_.substr(start, end == std::string_view::npos ? end : end - start));
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    std::string caret;
    for (size_t i = start; i < offset && i - start < line.size(); ++i)
      caret += line[i - start] == '\t' ? '\t' : ' ';
    return Error::user(where.str() + ": error: " + message + "\n" + line + "\n" + caret + "^\n");
  }

private:
  std::string_view text_;
  std::string filename_;
  std::vector<size_t> lineStarts_;
};

class Lexer {
public:
  explicit Lexer(const Source &source) : source_(source), text_(source.text()) {}

  /// The whole token stream, ending with EndOfFile, or the first lexical error.
  Expected<std::vector<Token>> tokenize() {
    std::vector<Token> tokens;
    while (true) {
      skipSpaceAndComments();
      if (position_ >= text_.size()) {
        tokens.push_back({TokenKind::EndOfFile, "", text_.size()});
        return tokens;
      }
      auto token = next();
      if (!token)
        return token.takeError();
      tokens.push_back(token.take());
    }
  }

private:
  void skipSpaceAndComments() {
    while (position_ < text_.size()) {
      char c = text_[position_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++position_;
      } else if (text_.substr(position_, 2) == "//") {
        size_t end = text_.find('\n', position_);
        position_ = end == std::string_view::npos ? text_.size() : end;
      } else {
        return;
      }
    }
  }

  Expected<Token> next() {
    size_t start = position_;
    char c = text_[position_];
    if (c == '%' || c == '@') {
      ++position_;
      while (position_ < text_.size() && isNameChar(text_[position_]))
        ++position_;
      if (position_ == start + 1)
        return source_.error(start, std::string("expected a name after '") + c + "'");
      return Token{c == '%' ? TokenKind::ValueName : TokenKind::SymbolName,
                   std::string(text_.substr(start + 1, position_ - start - 1)), start};
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (position_ < text_.size() && isNameChar(text_[position_]))
        ++position_;
      return Token{TokenKind::Identifier, std::string(text_.substr(start, position_ - start)),
                   start};
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '-' && position_ + 1 < text_.size() &&
         std::isdigit(static_cast<unsigned char>(text_[position_ + 1]))))
      return number();
    if (c == '"')
      return string();
    if (std::string_view("{}()[]<>,:=^-/").find(c) != std::string_view::npos) {
      ++position_;
      return Token{TokenKind::Punctuation, std::string(1, c), start};
    }
    auto byte = static_cast<unsigned char>(c);
    std::string shown = std::isprint(byte)
                            ? std::string("'") + c + "'"
                            : "byte 0x" + std::string(1, "0123456789abcdef"[byte >> 4]) +
                                  "0123456789abcdef"[byte & 15];
    return source_.error(start, "unexpected character " + shown);
  }

  Expected<Token> number() {
    size_t start = position_;
    auto digits = [&] {
      size_t first = position_;
      while (position_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[position_])))
        ++position_;
      return position_ > first;
    };
    if (text_[position_] == '-')
      ++position_;
    digits();
    bool isReal = false;
    if (position_ < text_.size() && text_[position_] == '.') {
      ++position_;
      digits();
      isReal = true;
    }
    if (position_ < text_.size() && (text_[position_] == 'e' || text_[position_] == 'E')) {
      ++position_;
      if (position_ < text_.size() && (text_[position_] == '+' || text_[position_] == '-'))
        ++position_;
      if (!digits())
        return source_.error(start, "malformed number: expected digits in the exponent");
      isReal = true;
    }
    if (position_ < text_.size() && isNameChar(text_[position_]))
      return source_.error(start, "malformed number");
    Token token{isReal ? TokenKind::Real : TokenKind::Integer,
                std::string(text_.substr(start, position_ - start)), start};
    const char *begin = token.text.data(), *end = begin + token.text.size();
    auto result = isReal ? std::from_chars(begin, end, token.real)
                         : std::from_chars(begin, end, token.integer);
    if (result.ec != std::errc() || result.ptr != end)
      return source_.error(start,
                           std::string(isReal ? "real" : "integer") + " literal out of range");
    return token;
  }

  Expected<Token> string() {
    size_t start = position_++;
    std::string decoded;
    while (position_ < text_.size() && text_[position_] != '"') {
      char c = text_[position_++];
      if (c == '\n')
        break;
      if (c != '\\') {
        decoded += c;
        continue;
      }
      char escape = position_ < text_.size() ? text_[position_++] : '\0';
      if (escape == '"' || escape == '\\') {
        decoded += escape;
      } else if (escape == 'n') {
        decoded += '\n';
      } else if (escape == 't') {
        decoded += '\t';
      } else if (escape == 'x' && position_ + 2 <= text_.size() &&
                 std::isxdigit(static_cast<unsigned char>(text_[position_])) &&
                 std::isxdigit(static_cast<unsigned char>(text_[position_ + 1]))) {
        decoded +=
            static_cast<char>(std::stoi(std::string(text_.substr(position_, 2)), nullptr, 16));
        position_ += 2;
      } else {
        return source_.error(position_ - 2, "unknown escape sequence in string");
      }
    }
    if (position_ >= text_.size() || text_[position_] != '"')
      return source_.error(start, "unterminated string");
    ++position_;
    return Token{TokenKind::String, std::move(decoded), start};
  }

  const Source &source_;
  std::string_view text_;
  size_t position_ = 0;
};

/// True for the numbers the printer gives unnamed values (%0, %12): they carry no name hint.
bool isNumberedName(const std::string &name) {
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

class Parser {
public:
  Parser(const Source &source, std::vector<Token> tokens)
      : source_(source), tokens_(std::move(tokens)) {}

  Expected<std::unique_ptr<Module>> parse() {
    auto module = std::make_unique<Module>();
    if (!parseModuleBody(*module))
      return std::move(*error_);
    return module;
  }

private:
  // Every parse function returns false after recording the first error.
  bool fail(const Token &at, const std::string &message) {
    if (!error_)
      error_ = source_.error(at.offset, message);
    return false;
  }

  const Token &current() const { return tokens_[index_]; }
  const Token &advance() { return tokens_[index_ < tokens_.size() - 1 ? index_++ : index_]; }
  bool consumeIf(char punctuation) {
    if (!current().is(punctuation))
      return false;
    advance();
    return true;
  }
  bool expect(char punctuation, const std::string &what) {
    if (consumeIf(punctuation))
      return true;
    return fail(current(), "expected '" + std::string(1, punctuation) + "' " + what);
  }
  bool expectIdentifier(std::string &name, const std::string &what) {
    if (current().kind != TokenKind::Identifier)
      return fail(current(), "expected " + what);
    name = advance().text;
    return true;
  }

  bool parseModuleBody(Module &module) {
    if (!current().isKeyword("module"))
      return fail(current(), "expected 'module'");
    advance();
    if (current().kind != TokenKind::SymbolName)
      return fail(current(), "expected the module name ('@name')");
    module.setName(advance().text);
    if (!expect('{', "to begin the module"))
      return false;
    while (!consumeIf('}')) {
      if (current().isKeyword("dim")) {
        if (!parseDim(module))
          return false;
      } else if (current().isKeyword("graph")) {
        if (!parseGraph(module))
          return false;
      } else if (current().kind == TokenKind::EndOfFile) {
        return fail(current(), "unterminated module: expected '}'");
      } else {
        return fail(current(), "expected 'dim', 'graph' or '}'");
      }
    }
    if (current().kind != TokenKind::EndOfFile)
      return fail(current(), "expected end of file after the module");
    return true;
  }

  bool parseDim(Module &module) {
    advance();
    const Token &nameToken = current();
    std::string name;
    if (!expectIdentifier(name, "a dim name") || !expect('=', "after the dim name"))
      return false;
    auto size = parseDimension("dim value");
    if (!size)
      return false;
    for (const auto &[existing, value] : module.dims())
      if (existing == name)
        return fail(nameToken, "redefinition of dim '" + name + "'");
    module.dims().emplace_back(name, *size);
    return true;
  }

  std::optional<int64_t> parseDimension(const std::string &what) {
    if (current().kind != TokenKind::Integer) {
      fail(current(), "expected " + what + " (an integer)");
      return std::nullopt;
    }
    const Token &token = advance();
    if (token.integer < 1 || token.integer > maxDimension) {
      fail(token, what + " must be in [1, " + std::to_string(maxDimension) + "]");
      return std::nullopt;
    }
    return token.integer;
  }

  bool parseGraph(Module &module) {
    advance();
    if (current().kind != TokenKind::SymbolName)
      return fail(current(), "expected the graph name ('@name')");
    const Token &nameToken = advance();
    if (module.findGraph(nameToken.text))
      return fail(nameToken, "redefinition of graph '@" + nameToken.text + "'");
    const Token &open = current();
    if (!expect('{', "to begin the graph"))
      return false;
    values_.clear();
    return parseOpsUntilBrace(module.addGraph(nameToken.text).body(), open, 0);
  }

  /// Ops up to and including the '}' that closes `open`.
  bool parseOpsUntilBrace(Block &block, const Token &open, int depth) {
    while (!consumeIf('}')) {
      if (current().kind == TokenKind::EndOfFile)
        return fail(open, "unterminated region: no '}' closes this '{'");
      if (!parseOp(block, depth))
        return false;
    }
    return true;
  }

  bool parseType(Type &type) {
    if (current().isKeyword("f32")) {
      advance();
      type = Type::real({});
      if (!expect('[', "after 'f32'"))
        return false;
      if (!current().is(']')) {
        do {
          auto dimension = parseDimension("a dimension");
          if (!dimension)
            return false;
          type.shape.push_back(*dimension);
        } while (consumeIf(','));
      }
      if (type.rank() > 2)
        return fail(current(), "a real type has rank 0, 1 or 2");
      if (!expect(']', "to end the shape"))
        return false;
    } else if (current().isKeyword("tok")) {
      advance();
      if (!expect('<', "after 'tok'"))
        return false;
      auto vocab = parseDimension("a vocabulary size");
      if (!vocab || !expect('>', "after the vocabulary size"))
        return false;
      type = Type::token(*vocab);
    } else {
      return fail(current(), "expected a type ('f32[...]' or 'tok<V>')");
    }
    if (!consumeIf('['))
      return true;
    if (!expectIdentifier(type.axis, "a time axis name"))
      return false;
    if (consumeIf('/')) { // a segment axis: t/4
      auto factor = parseDimension("a segment length");
      if (!factor)
        return false;
      type.axis = segmentAxisName(type.axis, *factor);
    }
    return expect(']', "after the time axis");
  }

  bool parseAttributeValue(Attribute &value) {
    const Token &token = current();
    bool negative = token.is('-');
    const Token &word = tokens_[std::min(index_ + (negative ? 1 : 0), tokens_.size() - 1)];
    if (word.isKeyword("inf") || word.isKeyword("nan")) {
      double magnitude = word.text == "inf" ? std::numeric_limits<double>::infinity()
                                            : std::numeric_limits<double>::quiet_NaN();
      value = negative ? -magnitude : magnitude;
      advance();
      if (negative)
        advance();
      return true;
    }
    switch (token.kind) {
    case TokenKind::Integer:
      value = token.integer;
      break;
    case TokenKind::Real:
      value = token.real;
      break;
    case TokenKind::String:
      value = token.text;
      break;
    default:
      return fail(token, "expected an attribute value (integer, real or string)");
    }
    advance();
    return true;
  }

  bool parseAttributes(Attributes &attrs) {
    advance(); // '{'
    if (consumeIf('}'))
      return true;
    do {
      const Token &keyToken = current();
      std::string key;
      if (!expectIdentifier(key, "an attribute name") || !expect('=', "after the attribute name"))
        return false;
      Attribute value;
      if (!parseAttributeValue(value))
        return false;
      if (!attrs.emplace(key, std::move(value)).second)
        return fail(keyToken, "duplicate attribute '" + key + "'");
    } while (consumeIf(','));
    return expect('}', "to end the attributes");
  }

  bool defineValue(const Token &nameToken, Value *value) {
    if (!values_.emplace(nameToken.text, value).second)
      return fail(nameToken, "redefinition of value '%" + nameToken.text + "'");
    if (!isNumberedName(nameToken.text))
      value->setNameHint(nameToken.text);
    return true;
  }

  bool parseScanBody(Op &scan, const Token &open, int depth) {
    if (depth + 1 > maxRegionDepth)
      return fail(open, "scan bodies nested deeper than " + std::to_string(maxRegionDepth));
    Block &body = scan.createBody();
    if (!expect('^', "to begin the scan body's arguments") ||
        !expect('(', "to begin the scan body's arguments"))
      return false;
    if (!current().is(')')) {
      do {
        if (current().kind != TokenKind::ValueName)
          return fail(current(), "expected a body argument ('%name: type')");
        const Token &nameToken = advance();
        Type type;
        if (!expect(':', "after the argument name") || !parseType(type) ||
            !defineValue(nameToken, body.addArgument(type)))
          return false;
      } while (consumeIf(','));
    }
    if (!expect(')', "to end the scan body's arguments") ||
        !expect(':', "after the scan body's arguments"))
      return false;
    return parseOpsUntilBrace(body, open, depth + 1);
  }

  bool parseOp(Block &block, int depth) {
    const Token &first = current();
    std::vector<const Token *> resultNames;
    if (first.kind == TokenKind::ValueName) {
      do {
        if (current().kind != TokenKind::ValueName)
          return fail(current(), "expected a result name ('%name')");
        resultNames.push_back(&advance());
      } while (consumeIf(','));
      if (!expect('=', "after the result names"))
        return false;
    }
    const Token &mnemonicToken = current();
    if (mnemonicToken.kind != TokenKind::Identifier)
      return fail(mnemonicToken, "expected an op mnemonic");
    const OpInfo *info = lookupOp(mnemonicToken.text);
    if (!info)
      return fail(mnemonicToken, "unknown op '" + mnemonicToken.text + "'");
    advance();
    std::string quotedMnemonic = "'" + mnemonicToken.text + "'";

    const Token &attrsToken = current();
    Attributes attrs;
    if (attrsToken.is('{') && !parseAttributes(attrs))
      return false;
    if (std::string problem = attributeProblem(info->kind, attrs); !problem.empty())
      return fail(attrsToken.is('{') ? attrsToken : mnemonicToken, problem);

    std::vector<Value *> operands;
    if (current().kind == TokenKind::ValueName) {
      do {
        if (current().kind != TokenKind::ValueName)
          return fail(current(), "expected an operand ('%name')");
        const Token &operandToken = advance();
        auto found = values_.find(operandToken.text);
        if (found == values_.end())
          return fail(operandToken, "use of undefined value '%" + operandToken.text + "'");
        operands.push_back(found->second);
      } while (consumeIf(','));
    }
    if (info->arity >= 0 && operands.size() != static_cast<size_t>(info->arity))
      return fail(mnemonicToken, quotedMnemonic + " takes " + std::to_string(info->arity) +
                                     " operand(s), got " + std::to_string(operands.size()));
    if (hasNoResult(info->kind) && !resultNames.empty())
      return fail(first, quotedMnemonic + " has no results");
    if (!hasNoResult(info->kind) && info->kind != OpKind::Scan && resultNames.size() != 1)
      return fail(first, quotedMnemonic + " has exactly one result");

    auto op = std::make_unique<Op>(info->kind, operands, attrs, source_.location(first.offset));
    if (info->kind == OpKind::Scan) {
      const Token &open = current();
      if (!expect('{', "to begin the scan body") || !parseScanBody(*op, open, depth))
        return false;
    }

    if (!resultNames.empty()) {
      const Token &colon = current();
      if (!expect(':', "and the result types"))
        return false;
      std::vector<Type> types;
      std::vector<const Token *> typeTokens;
      do {
        typeTokens.push_back(&current());
        if (!parseType(types.emplace_back()))
          return false;
      } while (consumeIf(','));
      if (types.size() != resultNames.size())
        return fail(colon, "expected " + std::to_string(resultNames.size()) +
                               " result type(s), got " + std::to_string(types.size()));
      if (!hasExplicitResultType(info->kind)) {
        std::vector<Type> operandTypes;
        for (Value *operand : operands)
          operandTypes.push_back(operand->type());
        auto inferred = inferResultType(info->kind, operandTypes, attrs);
        if (!inferred)
          return fail(mnemonicToken, inferred.error().message);
        if (*inferred != types[0])
          return fail(*typeTokens[0],
                      "type " + types[0].str() + " does not match inferred " + inferred->str());
      }
      for (size_t i = 0; i < types.size(); ++i)
        if (!defineValue(*resultNames[i], op->addResult(types[i])))
          return false;
    }
    block.append(std::move(op));
    return true;
  }

  const Source &source_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
  std::optional<Error> error_;
  /// The values of the graph being parsed, by name (all its blocks: the verifier checks scope).
  std::unordered_map<std::string, Value *> values_;
};

} // namespace

Expected<std::unique_ptr<Module>> parseModule(std::string_view text, const std::string &filename) {
  Source source(text, filename);
  auto tokens = Lexer(source).tokenize();
  if (!tokens)
    return tokens.takeError();
  return Parser(source, tokens.take()).parse();
}

Expected<std::unique_ptr<Module>> parseModuleFile(const std::string &path) {
  std::ostringstream contents;
  if (path == "-") {
    contents << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      return Error::user("cannot open '" + path + "'");
    contents << in.rdbuf();
  }
  return parseModule(contents.str(), path == "-" ? "<stdin>" : path);
}

} // namespace rnnc::ir
