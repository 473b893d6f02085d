#include "compiler/frontend/Parser.h"

#include "compiler/frontend/Lexer.h"

#include <cerrno>
#include <cfloat>
#include <cstdlib>
#include <deque>

namespace rnnc::frontend {
namespace {

using namespace ast;

class Parser {
public:
  Parser(std::string_view source, DiagnosticEngine &diags) : lexer_(source, diags), diags_(diags) {}

  std::unique_ptr<Model> parseFile();

private:
  // Token stream with lookahead.
  const Token &peek(size_t ahead = 0);
  Token advance();
  bool consumeIf(TokenKind kind);
  bool expect(TokenKind kind, const std::string &what);
  bool expectClosing(TokenKind kind, const Token &open, const std::string &what);
  void error(SourceLocation loc, const std::string &message) { diags_.error(loc, message); }
  void errorAtNext(const std::string &expected) {
    error(peek().loc, "expected " + expected + ", got " + describeToken(peek()));
  }

  // Statements.
  bool parseItem(Model &model);
  bool expectStatementEnd();
  void synchronize(uint32_t statementStart);
  bool parseDim(Model &model);
  bool parseData(Model &model);
  bool parseParam(Model &model, bool frozen);
  bool parseParamInit(ParamInit &init);
  bool parseDefinitionOrInitial(Model &model, bool isOutput);
  bool parseGenerate(Model &model);
  bool parseLoss(Model &model);
  bool parseDeclName(std::string &name, SourceLocation &loc, const std::string &what);
  bool parseType(TypeSyntax &type);

  // Expressions.
  std::unique_ptr<Expr> parseExpr();
  std::unique_ptr<Expr> parseTerm();
  std::unique_ptr<Expr> parseUnary();
  std::unique_ptr<Expr> parsePostfix();
  std::unique_ptr<Expr> parsePrimary();
  std::unique_ptr<Expr> parseCall(const Token &name);
  bool parseTimeIndex(RefExpr &ref);
  std::unique_ptr<Expr> finish(std::unique_ptr<Expr> expr);

  // Dim expressions.
  std::unique_ptr<DimExpr> parseDimExpr();
  std::unique_ptr<DimExpr> parseDimProduct();
  std::unique_ptr<DimExpr> parseDimAtom();
  std::unique_ptr<DimExpr> makeDimBinary(DimExpr::Kind kind, SourceLocation loc,
                                         std::unique_ptr<DimExpr> lhs,
                                         std::unique_ptr<DimExpr> rhs);

  // Literals.
  std::optional<int64_t> integerValue(const Token &token);
  std::optional<double> realValue(const Token &token);

  /// Counts recursion through brackets, unary operators and time sums.
  class NestingGuard {
  public:
    NestingGuard(Parser &parser) : parser_(parser) {
      ok_ = ++parser_.nesting_ <= kMaxNestingDepth;
      if (!ok_)
        parser_.error(parser_.peek().loc, "nesting too deep (more than " +
                                              std::to_string(kMaxNestingDepth) + " levels)");
    }
    ~NestingGuard() { --parser_.nesting_; }
    bool ok() const { return ok_; }

  private:
    Parser &parser_;
    bool ok_;
  };

  Lexer lexer_;
  DiagnosticEngine &diags_;
  std::deque<Token> lookahead_;
  unsigned nesting_ = 0;
};

//===------------------------------------------------------------------------------------===//
// Token stream
//===------------------------------------------------------------------------------------===//

const Token &Parser::peek(size_t ahead) {
  while (lookahead_.size() <= ahead)
    lookahead_.push_back(lexer_.next());
  return lookahead_[ahead];
}

Token Parser::advance() {
  Token token = peek();
  if (!token.is(TokenKind::EndOfFile))
    lookahead_.pop_front();
  return token;
}

bool Parser::consumeIf(TokenKind kind) {
  if (!peek().is(kind))
    return false;
  advance();
  return true;
}

bool Parser::expect(TokenKind kind, const std::string &what) {
  if (consumeIf(kind))
    return true;
  errorAtNext(what);
  return false;
}

bool Parser::expectClosing(TokenKind kind, const Token &open, const std::string &what) {
  if (consumeIf(kind))
    return true;
  errorAtNext(what);
  diags_.note(open.loc, "to match this " + describeToken(open));
  return false;
}

std::optional<int64_t> Parser::integerValue(const Token &token) {
  int64_t value = 0;
  for (char digit : token.text) {
    if (digit < '0' || digit > '9')
      break; // a malformed number, already reported by the lexer
    if (value > (INT64_MAX - (digit - '0')) / 10) {
      error(token.loc, "integer literal " + quoteForMessage(token.text) + " is too large");
      return std::nullopt;
    }
    value = value * 10 + (digit - '0');
  }
  return value;
}

std::optional<double> Parser::realValue(const Token &token) {
  if (token.is(TokenKind::Integer)) {
    auto value = integerValue(token);
    if (!value)
      return std::nullopt;
    return static_cast<double>(*value);
  }
  std::string text(token.text);
  errno = 0;
  double value = std::strtod(text.c_str(), nullptr);
  // Values are computed in 32-bit floats: a literal beyond their range is an error.
  if (value > FLT_MAX) {
    error(token.loc,
          "real literal " + quoteForMessage(token.text) + " is out of range for 32-bit floats");
    return std::nullopt;
  }
  return value;
}

//===------------------------------------------------------------------------------------===//
// Statements
//===------------------------------------------------------------------------------------===//

std::unique_ptr<Model> Parser::parseFile() {
  const Token &first = peek();
  if (first.is(TokenKind::EndOfFile)) {
    error(first.loc, "empty model file: expected 'model NAME { ... }'");
    return nullptr;
  }
  if (!first.isIdentifier("model")) {
    errorAtNext("'model NAME { ... }' at the start of the file");
    return nullptr;
  }
  advance();
  if (!peek().is(TokenKind::Identifier)) {
    errorAtNext("a model name after 'model'");
    return nullptr;
  }
  Token name = advance();
  auto model = std::make_unique<Model>();
  model->name = std::string(name.text);
  model->loc = name.loc;
  while (consumeIf(TokenKind::Newline)) {
  }
  if (!peek().is(TokenKind::LeftBrace)) {
    errorAtNext("'{' after 'model " + model->name + "'");
    return nullptr;
  }
  Token open = advance();
  while (!diags_.limitReached()) {
    const Token &token = peek();
    if (token.is(TokenKind::Newline) || token.is(TokenKind::Semicolon)) {
      advance();
      continue;
    }
    if (token.is(TokenKind::RightBrace)) {
      advance();
      while (consumeIf(TokenKind::Newline) || consumeIf(TokenKind::Semicolon)) {
      }
      if (!peek().is(TokenKind::EndOfFile))
        error(peek().loc, "unexpected " + describeToken(peek()) + " after the end of model '" +
                              model->name + "'");
      return model;
    }
    if (token.is(TokenKind::EndOfFile)) {
      error(token.loc, "expected '}' at the end of model '" + model->name + "'");
      diags_.note(open.loc, "to match this '{'");
      return model;
    }
    uint32_t statementStart = token.loc.offset;
    if (!parseItem(*model) || !expectStatementEnd())
      synchronize(statementStart);
  }
  return model;
}

bool Parser::parseItem(Model &model) {
  const Token &token = peek();
  if (!token.is(TokenKind::Identifier)) {
    error(token.loc, "expected a statement, got " + describeToken(token));
    return false;
  }
  if (token.text == "dim")
    return parseDim(model);
  if (token.text == "input" || token.text == "target")
    return parseData(model);
  if (token.text == "param")
    return parseParam(model, /*frozen=*/false);
  // `frozen` is a keyword only before `param` (a definition may still be named frozen).
  if (token.text == "frozen" && peek(1).is(TokenKind::Identifier) && peek(1).text == "param") {
    advance();
    return parseParam(model, /*frozen=*/true);
  }
  if (token.text == "generate")
    return parseGenerate(model);
  if (token.text == "loss")
    return parseLoss(model);
  if (token.text == "output") {
    advance();
    return parseDefinitionOrInitial(model, /*isOutput=*/true);
  }
  return parseDefinitionOrInitial(model, /*isOutput=*/false);
}

bool Parser::expectStatementEnd() {
  const Token &token = peek();
  if (token.is(TokenKind::Newline) || token.is(TokenKind::Semicolon)) {
    advance();
    return true;
  }
  if (token.is(TokenKind::RightBrace) || token.is(TokenKind::EndOfFile))
    return true;
  errorAtNext("a newline or ';' at the end of the statement");
  return false;
}

void Parser::synchronize(uint32_t statementStart) {
  while (true) {
    const Token &token = peek();
    if (token.is(TokenKind::EndOfFile))
      break;
    // Always make progress past the first token of the failed statement.
    if (token.loc.offset != statementStart &&
        (token.is(TokenKind::RightBrace) || token.atLineStart))
      break;
    if (token.is(TokenKind::Newline) || token.is(TokenKind::Semicolon)) {
      advance();
      break;
    }
    advance();
  }
  lexer_.resetBrackets();
}

bool Parser::parseDeclName(std::string &name, SourceLocation &loc, const std::string &what) {
  if (!peek().is(TokenKind::Identifier)) {
    errorAtNext(what);
    return false;
  }
  Token token = advance();
  name = std::string(token.text);
  loc = token.loc;
  if (name.size() > 4 && name.compare(0, 4, "sum_") == 0) {
    error(loc, "'" + name + "' is reserved: names starting with 'sum_' are time sums");
    return false;
  }
  if (name == "zeros" || name == "ones") {
    error(loc, "'" + name + "' is reserved");
    return false;
  }
  return true;
}

bool Parser::parseDim(Model &model) {
  advance(); // dim
  std::string name;
  SourceLocation loc;
  if (!parseDeclName(name, loc, "a dim name after 'dim'") ||
      !expect(TokenKind::Equal, "'=' after 'dim " + name + "'"))
    return false;
  bool negative = consumeIf(TokenKind::Minus);
  if (!peek().is(TokenKind::Integer)) {
    errorAtNext("an integer value for dim '" + name + "'");
    return false;
  }
  Token value = advance();
  auto integer = integerValue(value);
  if (!integer)
    return false;
  auto dim = std::make_unique<DimDecl>(name, loc);
  dim->declaredValue = negative ? -*integer : *integer;
  dim->valueLoc = value.loc;
  model.dims.push_back(std::move(dim));
  return true;
}

bool Parser::parseData(Model &model) {
  Token keyword = advance();
  std::string kindName(keyword.text);
  std::string name;
  SourceLocation loc;
  if (!parseDeclName(name, loc, "a name after '" + kindName + "'"))
    return false;
  auto data = std::make_unique<DataDecl>(
      keyword.text == "input" ? DeclKind::Input : DeclKind::Target, name, loc);
  if (peek().is(TokenKind::LeftBracket)) {
    Token open = advance();
    if (!peek().is(TokenKind::Identifier)) {
      errorAtNext("a time axis name in '" + name + "[...]'");
      return false;
    }
    Token axis = advance();
    data->axis = std::string(axis.text);
    data->axisLoc = axis.loc;
    if (!expectClosing(TokenKind::RightBracket, open, "']' after the time axis"))
      return false;
  }
  if (!peek().is(TokenKind::Colon)) {
    error(peek().loc,
          "missing type for " + kindName + " '" + name + "' (write ': token<V>' or ': [N]')");
    return false;
  }
  advance();
  if (!parseType(data->typeSyntax))
    return false;
  (data->isInput() ? model.inputs : model.targets).push_back(std::move(data));
  return true;
}

bool Parser::parseParam(Model &model, bool frozen) {
  advance(); // param
  std::string name;
  SourceLocation loc;
  if (!parseDeclName(name, loc, "a parameter name after 'param'"))
    return false;
  if (!peek().is(TokenKind::Colon)) {
    error(peek().loc,
          "parameter '" + name + "' needs a shape (write 'param " + name + ": [M, N]')");
    return false;
  }
  advance();
  auto param = std::make_unique<ParamDecl>(name, loc);
  param->frozen = frozen;
  if (!parseType(param->typeSyntax))
    return false;
  param->init.loc = param->typeSyntax.loc;
  if (consumeIf(TokenKind::Equal) && !parseParamInit(param->init))
    return false;
  model.params.push_back(std::move(param));
  return true;
}

bool Parser::parseParamInit(ParamInit &init) {
  if (!peek().is(TokenKind::Identifier)) {
    errorAtNext("an initialiser (zeros, ones, glorot, orthogonal, normal(s) or uniform(a))");
    return false;
  }
  Token name = advance();
  init.isDefault = false;
  init.name = std::string(name.text);
  init.loc = name.loc;
  if (!peek().is(TokenKind::LeftParen))
    return true;
  Token open = advance();
  bool negative = consumeIf(TokenKind::Minus);
  if (!peek().is(TokenKind::Integer) && !peek().is(TokenKind::Real)) {
    errorAtNext("a number in '" + init.name + "(...)'");
    return false;
  }
  auto value = realValue(advance());
  if (!value)
    return false;
  init.hasArgument = true;
  init.scale = negative ? -*value : *value;
  return expectClosing(TokenKind::RightParen, open, "')' after the initialiser's argument");
}

bool Parser::parseType(TypeSyntax &type) {
  type.loc = peek().loc;
  if (peek().isIdentifier("token")) {
    advance();
    if (!expect(TokenKind::Less, "'<' after 'token'"))
      return false;
    auto vocabulary = parseDimExpr();
    if (!vocabulary)
      return false;
    type.isToken = true;
    type.dims.push_back(std::move(vocabulary));
    return expect(TokenKind::Greater, "'>' after the vocabulary size");
  }
  if (!peek().is(TokenKind::LeftBracket)) {
    errorAtNext("a type (token<V> or a shape such as [M, N])");
    return false;
  }
  Token open = advance();
  if (consumeIf(TokenKind::RightBracket))
    return true; // a scalar
  while (true) {
    auto dim = parseDimExpr();
    if (!dim)
      return false;
    type.dims.push_back(std::move(dim));
    if (!consumeIf(TokenKind::Comma))
      break;
  }
  return expectClosing(TokenKind::RightBracket, open, "',' or ']' in the shape");
}

bool Parser::parseDefinitionOrInitial(Model &model, bool isOutput) {
  std::string name;
  SourceLocation loc;
  if (!parseDeclName(name, loc, isOutput ? "a definition after 'output'" : "a statement"))
    return false;
  if (peek().is(TokenKind::Equal)) {
    advance();
    auto definition = std::make_unique<Definition>(name, loc);
    definition->isOutput = isOutput;
    definition->value = parseExpr();
    if (!definition->value)
      return false;
    model.definitions.push_back(std::move(definition));
    return true;
  }
  if (!peek().is(TokenKind::LeftBracket)) {
    errorAtNext("'=' or '[' after '" + name + "'");
    return false;
  }
  Token open = advance();
  Token index = peek();
  bool isInitial = index.is(TokenKind::Integer) || index.isIdentifier("last");
  if (isInitial && isOutput) {
    error(index.loc, "'output' marks a definition, not an initial value");
    return false;
  }
  if (index.is(TokenKind::Integer)) {
    Token step = advance();
    auto value = integerValue(step);
    if (!value)
      return false;
    if (*value != 0) {
      error(step.loc, "an initial value is given at [0] or [last+1], not at [" +
                          std::to_string(*value) + "]");
      return false;
    }
  } else if (index.isIdentifier("last")) {
    advance();
    if (!peek().is(TokenKind::Plus) || !peek(1).is(TokenKind::Integer) || peek(1).text != "1") {
      errorAtNext("'+1' after 'last' (only '" + name + "[last+1] = ...' can be given)");
      return false;
    }
    advance();
    advance();
  } else if (index.is(TokenKind::Identifier) && !index.isIdentifier("first")) {
    Token axis = advance();
    if (peek().is(TokenKind::Plus) || peek().is(TokenKind::Minus)) {
      std::string written = name + "[" + std::string(axis.text) + std::string(peek().text) +
                            (peek(1).is(TokenKind::Integer) ? std::string(peek(1).text) : "") + "]";
      error(peek().loc, "cannot define " + quoteForMessage(written) + ": only '" + name + "[" +
                            std::string(axis.text) + "] = ...' defines a per-step value");
      return false;
    }
    if (!expectClosing(TokenKind::RightBracket, open, "']' after the time axis") ||
        !expect(TokenKind::Equal, "'=' after '" + name + "[" + std::string(axis.text) + "]'"))
      return false;
    auto definition = std::make_unique<Definition>(name, loc);
    definition->axis = std::string(axis.text);
    definition->axisLoc = axis.loc;
    definition->isOutput = isOutput;
    definition->value = parseExpr();
    if (!definition->value)
      return false;
    model.definitions.push_back(std::move(definition));
    return true;
  } else {
    errorAtNext("a time axis, 0 or last+1 in '" + name + "[...]'");
    return false;
  }
  // An initial value: h[0] = ... or g[last+1] = ...
  if (!expectClosing(TokenKind::RightBracket, open, "']'") ||
      !expect(TokenKind::Equal, "'=' after the initial value's index"))
    return false;
  auto initial = std::make_unique<InitialValue>();
  initial->loc = loc;
  initial->name = name;
  initial->isAtEnd = !index.is(TokenKind::Integer);
  initial->value = parseExpr();
  if (!initial->value)
    return false;
  model.initials.push_back(std::move(initial));
  return true;
}

bool Parser::parseGenerate(Model &model) {
  Token keyword = advance();
  auto clause = std::make_unique<GenerateClause>();
  clause->loc = keyword.loc;
  if (!peek().is(TokenKind::Identifier)) {
    errorAtNext("a name after 'generate'");
    return false;
  }
  clause->name = std::string(advance().text);
  if (!peek().is(TokenKind::LeftBracket)) {
    errorAtNext("'[' after 'generate " + clause->name + "' (generate " + clause->name + "[t] or " +
                clause->name + "[t+1])");
    return false;
  }
  Token open = advance();
  if (!peek().is(TokenKind::Identifier) || peek().isIdentifier("last") ||
      peek().isIdentifier("first")) {
    errorAtNext("a time axis in 'generate " + clause->name + "[...]'");
    return false;
  }
  clause->indexAxis = std::string(advance().text);
  if (peek().is(TokenKind::Plus) || peek().is(TokenKind::Minus)) {
    bool plusOne =
        peek().is(TokenKind::Plus) && peek(1).is(TokenKind::Integer) && peek(1).text == "1";
    if (!plusOne) {
      error(peek().loc, "generate can only produce " + clause->name + "[" + clause->indexAxis +
                            "] or " + clause->name + "[" + clause->indexAxis + "+1]");
      return false;
    }
    advance();
    advance();
    clause->isNextStep = true;
  }
  if (!expectClosing(TokenKind::RightBracket, open, "']'"))
    return false;
  if (consumeIf(TokenKind::Tilde)) {
    clause->mode = GenerateClause::Mode::Sample;
  } else if (consumeIf(TokenKind::Equal)) {
    clause->mode = GenerateClause::Mode::Assign;
  } else {
    errorAtNext("'~' (sample) or '=' (assign) in the generate clause");
    return false;
  }
  clause->value = parseExpr();
  if (!clause->value)
    return false;
  model.generates.push_back(std::move(clause));
  return true;
}

bool Parser::parseLoss(Model &model) {
  Token keyword = advance();
  if (!expect(TokenKind::Equal, "'=' after 'loss'"))
    return false;
  auto loss = std::make_unique<Loss>();
  loss->loc = keyword.loc;
  loss->value = parseExpr();
  if (!loss->value)
    return false;
  if (model.loss) {
    error(keyword.loc, "a model has one loss; it is already defined");
    diags_.note(model.loss->loc, "previous definition of the loss is here");
    return false;
  }
  model.loss = std::move(loss);
  return true;
}

//===------------------------------------------------------------------------------------===//
// Expressions
//===------------------------------------------------------------------------------------===//

std::unique_ptr<Expr> Parser::finish(std::unique_ptr<Expr> expr) {
  unsigned height = 0;
  forEachChild(*expr, [&](const Expr &child) { height = std::max(height, child.height); });
  expr->height = height + 1;
  if (expr->height > kMaxExprHeight) {
    error(expr->loc, "expression is too large (more than " + std::to_string(kMaxExprHeight) +
                         " nested operations)");
    return nullptr;
  }
  return expr;
}

std::unique_ptr<Expr> Parser::parseExpr() {
  NestingGuard guard(*this);
  if (!guard.ok())
    return nullptr;
  auto lhs = parseTerm();
  while (lhs && (peek().is(TokenKind::Plus) || peek().is(TokenKind::Minus))) {
    Token op = advance();
    auto rhs = parseTerm();
    if (!rhs)
      return nullptr;
    lhs = finish(
        std::make_unique<BinaryExpr>(op.loc, op.is(TokenKind::Plus) ? BinaryOp::Add : BinaryOp::Sub,
                                     std::move(lhs), std::move(rhs)));
  }
  return lhs;
}

std::unique_ptr<Expr> Parser::parseTerm() {
  auto lhs = parseUnary();
  while (lhs &&
         (peek().is(TokenKind::Star) || peek().is(TokenKind::Slash) || peek().is(TokenKind::At))) {
    Token op = advance();
    BinaryOp kind = op.is(TokenKind::Star)    ? BinaryOp::Mul
                    : op.is(TokenKind::Slash) ? BinaryOp::Div
                                              : BinaryOp::MatMul;
    auto rhs = parseUnary();
    if (!rhs)
      return nullptr;
    lhs = finish(std::make_unique<BinaryExpr>(op.loc, kind, std::move(lhs), std::move(rhs)));
  }
  return lhs;
}

std::unique_ptr<Expr> Parser::parseUnary() {
  NestingGuard guard(*this);
  if (!guard.ok())
    return nullptr;
  const Token &token = peek();
  if (token.is(TokenKind::Minus)) {
    Token minus = advance();
    auto operand = parseUnary();
    if (!operand)
      return nullptr;
    return finish(std::make_unique<NegateExpr>(minus.loc, std::move(operand)));
  }
  if (token.is(TokenKind::Identifier) && token.text.size() > 4 &&
      token.text.substr(0, 4) == "sum_") {
    Token sum = advance();
    auto operand = parseUnary();
    if (!operand)
      return nullptr;
    return finish(std::make_unique<TimeSumExpr>(sum.loc, std::string(sum.text.substr(4)),
                                                std::move(operand)));
  }
  return parsePostfix();
}

std::unique_ptr<Expr> Parser::parsePostfix() {
  auto primary = parsePrimary();
  if (!primary || !peek().is(TokenKind::LeftBracket))
    return primary;
  if (primary->kind != ExprKind::Ref) {
    error(peek().loc, "only a named value can be read at a time index");
    return nullptr;
  }
  if (!parseTimeIndex(primary->as<RefExpr>()))
    return nullptr;
  return primary;
}

bool Parser::parseTimeIndex(RefExpr &ref) {
  Token open = advance();
  const Token &index = peek();
  ref.indexLoc = index.loc;
  const std::string expected = "a time index (t, t-1, t+1, first or last)";
  if (!index.is(TokenKind::Identifier)) {
    errorAtNext(expected);
    return false;
  }
  Token name = advance();
  if (name.text == "last" || name.text == "first") {
    ref.index = name.text == "last" ? TimeIndex::Last : TimeIndex::First;
    if (peek().is(TokenKind::Plus) || peek().is(TokenKind::Minus)) {
      error(peek().loc, "'" + ref.name + "[" + std::string(name.text) +
                            "...]' cannot be read; only '" + ref.name + "[last+1] = ...' " +
                            "can be given, as an initial value");
      return false;
    }
  } else {
    ref.index = TimeIndex::Current;
    ref.indexAxis = std::string(name.text);
    if (peek().is(TokenKind::Plus) || peek().is(TokenKind::Minus)) {
      Token sign = advance();
      if (!peek().is(TokenKind::Integer)) {
        errorAtNext("1 after '" + ref.indexAxis + std::string(sign.text) + "'");
        return false;
      }
      Token offset = advance();
      if (offset.text != "1") {
        std::string written = ref.name + "[" + ref.indexAxis + std::string(sign.text) +
                              std::string(offset.text.substr(0, 20)) + "]";
        error(offset.loc, "'" + written + "' reaches too far: only " + ref.name + "[" +
                              ref.indexAxis + "-1], " + ref.name + "[" + ref.indexAxis + "] and " +
                              ref.name + "[" + ref.indexAxis + "+1] can be read");
        return false;
      }
      ref.index = sign.is(TokenKind::Plus) ? TimeIndex::Next : TimeIndex::Previous;
    }
  }
  return expectClosing(TokenKind::RightBracket, open, "']' after the time index");
}

std::unique_ptr<Expr> Parser::parsePrimary() {
  const Token &token = peek();
  if (token.is(TokenKind::Integer) || token.is(TokenKind::Real)) {
    Token literal = advance();
    auto value = realValue(literal);
    if (!value)
      return nullptr;
    return std::make_unique<NumberExpr>(literal.loc, *value, literal.is(TokenKind::Integer));
  }
  if (token.is(TokenKind::Identifier)) {
    Token name = advance();
    if (peek().is(TokenKind::LeftParen))
      return parseCall(name);
    if (name.text == "zeros" || name.text == "ones") {
      auto fill = std::make_unique<CallExpr>(name.loc, std::string(name.text));
      fill->builtin = lookupBuiltin(name.text);
      fill->isBareFill = true;
      return fill;
    }
    return std::make_unique<RefExpr>(name.loc, std::string(name.text));
  }
  if (token.is(TokenKind::LeftParen)) {
    Token open = advance();
    auto inner = parseExpr();
    if (!inner || !expectClosing(TokenKind::RightParen, open, "')'"))
      return nullptr;
    return inner;
  }
  errorAtNext("an expression");
  return nullptr;
}

std::unique_ptr<Expr> Parser::parseCall(const Token &name) {
  Token open = advance();
  auto call = std::make_unique<CallExpr>(name.loc, std::string(name.text));
  call->builtin = lookupBuiltin(name.text);
  // Shapes and slice bounds are dim expressions, not values.
  bool allDims = call->builtin == Builtin::Zeros || call->builtin == Builtin::Ones;
  bool dimsAfterFirst = call->builtin == Builtin::Slice;
  if (!peek().is(TokenKind::RightParen)) {
    for (size_t position = 0;; ++position) {
      if (allDims || (dimsAfterFirst && position > 0)) {
        auto dim = parseDimExpr();
        if (!dim)
          return nullptr;
        call->dimArgs.push_back(std::move(dim));
      } else {
        auto arg = parseExpr();
        if (!arg)
          return nullptr;
        call->args.push_back(std::move(arg));
      }
      if (!consumeIf(TokenKind::Comma))
        break;
    }
  }
  if (!expectClosing(TokenKind::RightParen, open,
                     "',' or ')' in the call to '" + call->callee + "'"))
    return nullptr;
  return finish(std::move(call));
}

//===------------------------------------------------------------------------------------===//
// Dim expressions
//===------------------------------------------------------------------------------------===//

std::unique_ptr<DimExpr> Parser::makeDimBinary(DimExpr::Kind kind, SourceLocation loc,
                                               std::unique_ptr<DimExpr> lhs,
                                               std::unique_ptr<DimExpr> rhs) {
  auto expr = std::make_unique<DimExpr>();
  expr->kind = kind;
  expr->loc = loc;
  expr->height = std::max(lhs->height, rhs->height) + 1;
  expr->lhs = std::move(lhs);
  expr->rhs = std::move(rhs);
  if (expr->height > kMaxExprHeight) {
    error(loc, "dim expression is too large (more than " + std::to_string(kMaxExprHeight) +
                   " nested operations)");
    return nullptr;
  }
  return expr;
}

std::unique_ptr<DimExpr> Parser::parseDimExpr() {
  NestingGuard guard(*this);
  if (!guard.ok())
    return nullptr;
  auto lhs = parseDimProduct();
  while (lhs && (peek().is(TokenKind::Plus) || peek().is(TokenKind::Minus))) {
    Token op = advance();
    auto rhs = parseDimProduct();
    if (!rhs)
      return nullptr;
    lhs = makeDimBinary(op.is(TokenKind::Plus) ? DimExpr::Kind::Add : DimExpr::Kind::Sub, op.loc,
                        std::move(lhs), std::move(rhs));
  }
  return lhs;
}

std::unique_ptr<DimExpr> Parser::parseDimProduct() {
  auto lhs = parseDimAtom();
  while (lhs && peek().is(TokenKind::Star)) {
    Token op = advance();
    auto rhs = parseDimAtom();
    if (!rhs)
      return nullptr;
    lhs = makeDimBinary(DimExpr::Kind::Mul, op.loc, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

std::unique_ptr<DimExpr> Parser::parseDimAtom() {
  const Token &token = peek();
  if (token.is(TokenKind::LeftParen)) {
    Token open = advance();
    auto inner = parseDimExpr();
    if (!inner || !expectClosing(TokenKind::RightParen, open, "')'"))
      return nullptr;
    return inner;
  }
  auto atom = std::make_unique<DimExpr>();
  atom->loc = token.loc;
  if (token.is(TokenKind::Integer)) {
    auto value = integerValue(advance());
    if (!value)
      return nullptr;
    atom->kind = DimExpr::Kind::Integer;
    atom->integer = *value;
    return atom;
  }
  if (token.is(TokenKind::Identifier)) {
    atom->kind = DimExpr::Kind::Name;
    atom->name = std::string(advance().text);
    return atom;
  }
  errorAtNext("a dim (an integer, a dim name or a dim expression)");
  return nullptr;
}

} // namespace

std::unique_ptr<Model> parseModel(std::string_view source, DiagnosticEngine &diags) {
  return Parser(source, diags).parseFile();
}

} // namespace rnnc::frontend
