// Sema phase 4: types and shapes. Gives every expression its ValueType and checks operator and
// function shapes (docs/language.md, "Operators and functions"). The type of a recurrent
// definition can depend on itself (h[t] = tanh(W @ h[t-1] + ...)), so definitions are first
// inferred silently, component by component in evaluation order, iterating within a recurrence
// until nothing changes (seeded by explicit initial values); then every expression is checked
// once more with errors reported. An expression with an error (here or in an earlier phase) is
// "poisoned": the definition it belongs to stays Unknown, and so does everything that reads it,
// without further errors.
#include "compiler/frontend/SemaState.h"

#include <algorithm>

namespace rnnc::frontend {
namespace {

using namespace ast;

class ShapeChecker {
public:
  ShapeChecker(SemaState &state, bool report) : state_(state), report_(report) {}

  /// Types a whole expression (a definition's value, an initial value, ...). Returns Unknown
  /// when the expression is poisoned: it has an error, or reads a poisoned definition.
  ValueType checkRoot(Expr &expr) {
    poisoned_ = false;
    guessed_ = false;
    ValueType type = check(expr);
    return poisoned_ ? ValueType{} : type;
  }
  bool lastWasPoisoned() const { return poisoned_; }
  /// Marks a definition whose value is poisoned.
  void poison(const Definition &definition) { poisonedDefinitions_.insert(&definition); }
  /// A bare `zeros`/`ones`, which takes the shape of what it initialises.
  static bool isBareFill(const Expr &expr) {
    return expr.kind == ExprKind::Call && expr.as<CallExpr>().isBareFill;
  }
  void error(SourceLocation loc, const std::string &message) {
    poisoned_ = true;
    if (report_)
      state_.diags.error(loc, message);
  }
  /// The type of a real operand, or Unknown after reporting a token used as a real value.
  ValueType real(const Expr &operand, const ValueType &type);

private:
  ValueType check(Expr &expr);
  ValueType checkBinary(BinaryExpr &binary);
  ValueType checkCall(CallExpr &call);
  ValueType checkFill(CallExpr &call);
  ValueType checkSlice(CallExpr &call, const ValueType &vector);

  SemaState &state_;
  bool report_;
  bool poisoned_ = false;
  /// The type of the expression just checked rests on a guess about a definition whose type is
  /// not inferred yet (W @ h taken as a vector), which a known shape may overrule.
  bool guessed_ = false;
  std::unordered_set<const ValueDecl *> poisonedDefinitions_;
};

ValueType ShapeChecker::real(const Expr &operand, const ValueType &type) {
  if (type.isToken()) {
    std::string text = formatExpr(operand);
    error(operand.loc,
          "'" + text + "' is a " + type.str() + "; use onehot(" + text + ") to use it as a vector");
    return {};
  }
  return type;
}

ValueType ShapeChecker::check(Expr &expr) {
  ValueType type;
  switch (expr.kind) {
  case ExprKind::Number:
    type = ValueType::real({});
    break;
  case ExprKind::Ref: {
    auto &ref = expr.as<RefExpr>();
    if (!ref.decl || poisonedDefinitions_.count(ref.decl))
      poisoned_ = true; // a name or time error, reported by the time checker
    else
      type = ref.decl->type;
    break;
  }
  case ExprKind::Negate: {
    auto &operand = *expr.as<NegateExpr>().operand;
    type = real(operand, check(operand));
    break;
  }
  case ExprKind::Binary:
    type = checkBinary(expr.as<BinaryExpr>());
    break;
  case ExprKind::Call:
    type = checkCall(expr.as<CallExpr>());
    break;
  case ExprKind::TimeSum: {
    auto &operand = *expr.as<TimeSumExpr>().operand;
    type = real(operand, check(operand));
    break;
  }
  }
  expr.type = type;
  return type;
}

ValueType ShapeChecker::checkBinary(BinaryExpr &binary) {
  // Each side is checked with its own poison flag: an Unknown side that is not poisoned is a
  // read of a definition whose type is not inferred yet, and the other side often fixes the
  // result (W @ h, h a state, so a vector, is [rows of W]; b + x has b's shape unless b is a
  // scalar). A poisoned side keeps the result Unknown, so no error follows from an earlier one.
  bool outerPoisoned = poisoned_, outerGuessed = guessed_;
  poisoned_ = guessed_ = false;
  ValueType lhs = real(*binary.lhs, check(*binary.lhs));
  bool guessable = !poisoned_, lhsGuessed = guessed_;
  poisoned_ = guessed_ = false;
  ValueType rhs = real(*binary.rhs, check(*binary.rhs));
  guessable = guessable && !poisoned_;
  bool rhsGuessed = guessed_;
  poisoned_ = poisoned_ || outerPoisoned || !guessable;
  guessed_ = outerGuessed || lhsGuessed || rhsGuessed;
  std::string op = binaryOpSpelling(binary.op);
  if (binary.op == BinaryOp::MatMul) {
    if (guessable && lhs.isMatrix() && !rhs.isKnown()) {
      guessed_ = true;
      return ValueType::real({lhs.shape[0]});
    }
    if (!lhs.isKnown() || !rhs.isKnown())
      return {};
    if (lhs.isMatrix() && rhs.isVector() && lhs.shape[1] == rhs.shape[0])
      return ValueType::real({lhs.shape[0]});
    if (lhs.isMatrix() && rhs.isMatrix() && lhs.shape[1] == rhs.shape[0])
      return ValueType::real({lhs.shape[0], rhs.shape[1]});
    error(binary.loc, "shape mismatch in '@': " + lhs.str() + " @ " + rhs.str());
    return {};
  }
  // Elementwise: equal shapes, or one side a scalar.
  if (!lhs.isKnown() || !rhs.isKnown()) {
    const ValueType &known = lhs.isKnown() ? lhs : rhs;
    return guessable && known.isKnown() && !known.isScalar() ? known : ValueType{};
  }
  if (lhs == rhs || rhs.isScalar())
    return lhs;
  if (lhs.isScalar())
    return rhs;
  // A guessed side gives way to a known one (Wl @ A[t-1] + X[t] @ Wr, A a matrix state).
  if (lhsGuessed != rhsGuessed)
    return lhsGuessed ? rhs : lhs;
  error(binary.loc, "shape mismatch in '" + op + "': " + lhs.str() + " " + op + " " + rhs.str());
  return {};
}

ValueType ShapeChecker::checkFill(CallExpr &call) {
  if (call.isBareFill) {
    error(call.loc, "'" + call.callee + "' without a shape is only allowed as a whole initial " +
                        "value; write " + call.callee + "(N) or " + call.callee + "(M, N)");
    return {};
  }
  if (call.dimArgs.size() > 2) {
    error(call.loc, "'" + call.callee + "' takes at most 2 dims (a matrix), got " +
                        std::to_string(call.dimArgs.size()));
    return {};
  }
  std::vector<int64_t> shape;
  for (auto &dim : call.dimArgs) {
    auto value = evaluateDimExpr(state_, *dim, report_);
    if (!value)
      return {};
    if (*value <= 0) {
      error(dim->loc, "dimension '" + formatDimExpr(*dim) + "' of '" + call.callee +
                          "' must be positive, got " + std::to_string(*value));
      return {};
    }
    shape.push_back(*value);
  }
  if (!checkElementCount(state_, shape, call.loc, "'" + call.callee + "'", report_))
    return {};
  return ValueType::real(std::move(shape));
}

ValueType ShapeChecker::checkSlice(CallExpr &call, const ValueType &vector) {
  auto start = evaluateDimExpr(state_, *call.dimArgs[0], report_);
  auto length = evaluateDimExpr(state_, *call.dimArgs[1], report_);
  if (!start || !length || !vector.isKnown())
    return {};
  if (!vector.isVector()) {
    error(call.args[0]->loc, "'slice' expects a vector, got " + vector.str());
    return {};
  }
  if (*start < 0 || *length <= 0 || *start + *length > vector.shape[0]) {
    error(call.loc, "slice(" + formatExpr(*call.args[0]) + ", " + std::to_string(*start) + ", " +
                        std::to_string(*length) + ") is out of range for " + vector.str());
    return {};
  }
  return ValueType::real({*length});
}

ValueType ShapeChecker::checkCall(CallExpr &call) {
  if (!call.builtin) {
    poisoned_ = true; // unknown function, reported by the time checker
    return {};
  }
  Builtin builtin = *call.builtin;
  if (builtin == Builtin::Zeros || builtin == Builtin::Ones)
    return checkFill(call);

  size_t given = call.args.size() + call.dimArgs.size();
  size_t expected = 1;
  switch (builtin) {
  case Builtin::Nll:
  case Builtin::Sqerr:
  case Builtin::Max:
  case Builtin::Min:
  case Builtin::LeakyRelu:
  case Builtin::Pow:
    expected = 2;
    break;
  case Builtin::Slice:
  case Builtin::Clamp:
    expected = 3;
    break;
  default:
    break;
  }
  std::string name = call.callee;
  if (builtin == Builtin::Concat ? given < 2 : given != expected) {
    std::string count = builtin == Builtin::Concat ? "at least 2 arguments"
                        : expected == 1            ? "1 argument"
                                                   : std::to_string(expected) + " arguments";
    error(call.loc, "'" + name + "' expects " + count + ", got " + std::to_string(given));
    for (auto &arg : call.args)
      check(*arg);
    return {};
  }
  std::vector<ValueType> args;
  for (auto &arg : call.args)
    args.push_back(check(*arg));
  for (const ValueType &arg : args)
    if (!arg.isKnown())
      return {};
  const ValueType &first = args.front();
  auto needReal = [&](size_t i) { return real(*call.args[i], args[i]).isKnown(); };

  switch (builtin) {
  case Builtin::Tanh:
  case Builtin::Sigmoid:
  case Builtin::Relu:
  case Builtin::Exp:
  case Builtin::Log:
  case Builtin::Abs:
  case Builtin::Sqrt:
  case Builtin::Square:
  case Builtin::Rsqrt:
  case Builtin::Softplus:
  case Builtin::Elu:
    return needReal(0) ? first : ValueType{};
  case Builtin::Max:
  case Builtin::Min:
  case Builtin::Clamp: { // elementwise: equal shapes, or scalars
    ValueType result = ValueType::real({});
    for (size_t i = 0; i < args.size(); ++i) {
      if (!needReal(i))
        return {};
      if (args[i].isScalar())
        continue;
      if (!result.isScalar() && args[i] != result) {
        error(call.loc, "shape mismatch in '" + name + "': " + result.str() + " and " +
                            args[i].str());
        return {};
      }
      result = args[i];
    }
    return result;
  }
  case Builtin::LeakyRelu:
    if (!needReal(0) || !needReal(1))
      return {};
    if (!args[1].isScalar()) {
      error(call.args[1]->loc, "'leaky_relu' expects a scalar slope, got " + args[1].str());
      return {};
    }
    return first;
  case Builtin::Pow:
    if (!needReal(0))
      return {};
    if (!constantNumber(*call.args[1])) {
      error(call.args[1]->loc, "'pow' expects a number as its exponent, got '" +
                                   formatExpr(*call.args[1]) + "'");
      return {};
    }
    return first;
  case Builtin::Var:
    return needReal(0) ? ValueType::real({}) : ValueType{};
  case Builtin::Layernorm:
    if (!needReal(0))
      return {};
    if (!first.isVector()) {
      error(call.args[0]->loc, "'layernorm' expects a vector, got " + first.str());
      return {};
    }
    return first;
  case Builtin::Softmax:
  case Builtin::LogSoftmax:
  case Builtin::Argmax:
    if (!needReal(0))
      return {};
    if (!first.isVector()) {
      error(call.args[0]->loc, "'" + name + "' expects a vector, got " + first.str());
      return {};
    }
    return builtin == Builtin::Argmax ? ValueType::token(first.shape[0]) : first;
  case Builtin::Onehot:
    if (!first.isToken()) {
      error(call.args[0]->loc, "'onehot' expects a token, got " + first.str());
      return {};
    }
    return ValueType::real({first.vocabulary});
  case Builtin::Nll: {
    const ValueType &target = args[1];
    if (!needReal(0))
      return {};
    if (!first.isVector()) {
      error(call.args[0]->loc, "'nll' expects a probability vector, got " + first.str());
      return {};
    }
    if (!target.isToken()) {
      error(call.args[1]->loc, "'nll' expects a token target, got " + target.str());
      return {};
    }
    if (target.vocabulary != first.shape[0]) {
      error(call.loc, "'nll' of a " + first.str() + " probability vector and a " + target.str() +
                          " target: the sizes differ");
      return {};
    }
    return ValueType::real({});
  }
  case Builtin::Sqerr:
    if (!needReal(0) || !needReal(1))
      return {};
    if (args[0] != args[1]) {
      error(call.loc, "shape mismatch in 'sqerr': " + args[0].str() + " and " + args[1].str());
      return {};
    }
    return ValueType::real({});
  case Builtin::Sum:
  case Builtin::Mean:
    return needReal(0) ? ValueType::real({}) : ValueType{};
  case Builtin::Concat: {
    int64_t total = 0;
    for (size_t i = 0; i < args.size(); ++i) {
      if (!needReal(i))
        return {};
      if (!args[i].isVector()) {
        error(call.args[i]->loc, "'concat' joins vectors; argument " + std::to_string(i + 1) +
                                     " has shape " + args[i].str());
        return {};
      }
      total += args[i].shape[0];
      if (total > kMaxDimValue) {
        error(call.loc,
              "the result of 'concat' has more than " + std::to_string(kMaxDimValue) + " elements");
        return {};
      }
    }
    return ValueType::real({total});
  }
  case Builtin::Slice: // the parser made the first argument a value and the bounds dims
    return needReal(0) ? checkSlice(call, first) : ValueType{};
  case Builtin::Zeros:
  case Builtin::Ones:
    break;
  }
  return {};
}

/// Whether `expr` reads a value of a known scalar type by name.
bool readsNamedScalar(const Expr &expr) {
  if (expr.kind == ExprKind::Ref) {
    const ValueDecl *decl = expr.as<RefExpr>().decl;
    return decl && decl->type.isKnown() && decl->type.isScalar() && !decl->type.isToken();
  }
  bool found = false;
  forEachChild(expr, [&](const Expr &child) { found = found || readsNamedScalar(child); });
  return found;
}

/// Infers the types of definitions silently, component by component.
void inferDefinitionTypes(SemaState &state) {
  ShapeChecker inference(state, /*report=*/false);
  auto iterate = [&](const std::vector<Definition *> &component) {
    // Each pass settles at least one more member while anything changes.
    for (size_t pass = 0; pass <= component.size(); ++pass) {
      bool changed = false;
      for (Definition *member : component) {
        ValueType type = inference.checkRoot(*member->value);
        if (type.isKnown() && type != member->type) {
          member->type = type;
          changed = true;
        }
      }
      if (!changed)
        return;
    }
  };
  for (auto &component : state.components) {
    iterate(component);
    // The values decide; an explicit initial value only helps where they leave a type open
    // (h[t] = h[t-1] * 2, h[0] = zeros(N)), so a mismatch is reported at the initial value.
    bool seeded = false;
    for (Definition *member : component)
      for (InitialValue *initial : {member->initialStart, member->initialEnd})
        if (initial && !member->type.isKnown() && !ShapeChecker::isBareFill(*initial->value)) {
          member->type = inference.checkRoot(*initial->value);
          seeded = seeded || member->type.isKnown();
        }
    if (seeded)
      iterate(component);
    // A bare `zeros`/`ones` takes the state's shape. When nothing else gives it and the
    // recurrence reads named scalars (s[t] = tanh(w * s[t-1] + x[t]), w and x scalars), the
    // state is a scalar if that is consistent, i.e. the values then come out scalar too. With
    // only number literals (h[t] = 2 * h[t-1]) any shape would do, and that stays an error.
    std::vector<Definition *> open;
    for (Definition *member : component)
      if (!member->type.isKnown())
        open.push_back(member);
    if (open.empty() || !std::any_of(open.begin(), open.end(), [](const Definition *member) {
          return readsNamedScalar(*member->value);
        }))
      continue;
    for (Definition *member : open)
      member->type = ValueType::real({});
    iterate(component);
    bool consistent = true;
    for (Definition *member : open)
      consistent = consistent && inference.checkRoot(*member->value) == ValueType::real({});
    if (!consistent)
      for (Definition *member : open)
        member->type = ValueType{};
  }
}

void checkInitialValue(SemaState &state, ShapeChecker &checker, InitialValue &initial) {
  ValueDecl *target = initial.target;
  std::string written = initial.name + (initial.isAtEnd ? "[last+1]" : "[0]");
  Expr &value = *initial.value;
  if (!target)
    return; // what it initialises is in error, and so would be most of what follows
  const ValueType &expected = target->type;
  if (expected.isToken()) {
    bool isTokenId = value.kind == ExprKind::Number && value.as<NumberExpr>().isInteger &&
                     value.as<NumberExpr>().value < static_cast<double>(expected.vocabulary);
    if (!isTokenId) {
      state.diags.error(value.loc, "initial value '" + written + "' of a " + expected.str() +
                                       " must be a token id (an integer in 0 .. " +
                                       std::to_string(expected.vocabulary - 1) + ")");
      return;
    }
    value.type = expected;
    return;
  }
  if (ShapeChecker::isBareFill(value)) {
    value.type = expected;
    return;
  }
  ValueType type = checker.checkRoot(value);
  if (type.isToken()) {
    checker.real(value, type);
    return;
  }
  if (type.isKnown() && expected.isKnown() && type != expected)
    state.diags.error(value.loc, "initial value '" + written + "' has shape " + type.str() +
                                     ", but '" + initial.name + "' has shape " + expected.str());
}

void checkGenerateClause(SemaState &state, ShapeChecker &checker, GenerateClause &clause) {
  ValueType type = checker.checkRoot(*clause.value);
  if (!clause.target || !type.isKnown() || !clause.target->type.isKnown())
    return;
  const ValueType &data = clause.target->type;
  if (clause.mode == GenerateClause::Mode::Sample) {
    if (!data.isToken()) {
      state.diags.error(clause.loc, "cannot sample '" + clause.name + "': it is not a token (" +
                                        data.str() + "); assign it with '=' instead");
      return;
    }
    if (!type.isVector() || type.shape[0] != data.vocabulary)
      state.diags.error(clause.value->loc, "sampling '" + clause.name + "' (" + data.str() +
                                               ") needs a probability vector [" +
                                               std::to_string(data.vocabulary) + "], got " +
                                               type.str());
    return;
  }
  if (type != data)
    state.diags.error(clause.value->loc, "generate '" + clause.name + "' needs a value of type " +
                                             data.str() + ", got " + type.str());
}

} // namespace

void checkShapes(SemaState &state) {
  inferDefinitionTypes(state);
  ShapeChecker checker(state, /*report=*/true);
  for (auto &component : state.components) {
    for (Definition *member : component) {
      ValueType type = checker.checkRoot(*member->value);
      member->type = type;
      if (type.isKnown())
        continue;
      checker.poison(*member);
      if (!checker.lastWasPoisoned())
        state.diags.error(member->loc, "cannot infer the shape of '" + member->name +
                                           "'; give it an initial value with an explicit " +
                                           "shape, e.g. '" + member->name +
                                           "[0] = zeros(N)', or '" + member->name +
                                           "[0] = 0' for a scalar");
    }
  }
  for (auto &initial : state.model.initials)
    checkInitialValue(state, checker, *initial);
  for (auto &clause : state.model.generates)
    checkGenerateClause(state, checker, *clause);
  if (Loss *loss = state.model.loss.get()) {
    ValueType type = checker.checkRoot(*loss->value);
    if (type.isKnown() && !type.isScalar())
      state.diags.error(loss->value->loc, "the loss must be a real scalar, got " + type.str());
  }
}

} // namespace rnnc::frontend
