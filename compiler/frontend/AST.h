// The AST of a model file, as produced by the parser and completed by sema.
//
// After parseAndCheckModel (Frontend.h) succeeds, the tree is fully checked and every field
// marked "(sema)" below is filled in. A lowering pass can then rely on:
//
//  * Model::dims            final dim values (after -D overrides), all in 1 .. 2^31-1.
//  * Model::axes            the time axes, each with the inputs/targets that run over it.
//  * Model::inputs/targets  DataDecl: name, axis ("" = static, one value per sequence), type,
//                           initial values when read at t-1 / t+1 (teacher forcing), and the
//                           generate clause that produces it in generation, if any.
//  * Model::params          ParamDecl: shape (a real ValueType) and initialiser.
//  * Model::definitions     Definition: axis ("" = static), value expression, type, isOutput,
//                           initial values, and its Recurrence (null when it is not part of one).
//  * Model::recurrences     one Recurrence per cycle of definitions through t-1 (or t+1): the
//                           scan to build, with its axis, direction, the members in the order one
//                           step evaluates them, and the states (members read at t-1 / t+1).
//  * Model::evaluationOrder every definition, each after everything it reads (the members of
//                           one recurrence are contiguous, in step order).
//  * Model::generates       generate clauses; Model::loss the loss (may be null: no training).
//  * every Expr             its ValueType (`type`) and whether it is static or per-step (`axis`).
//
// Expressions form a tree (Expr::kind says which subclass; use as<T>()); every node owns its
// children. A RefExpr points at the declaration it reads and says at which time index. Trees are
// at most kMaxExprHeight deep, so recursive walks are safe; shared values (a state read by many
// definitions) appear by name, never as shared subtrees, so a walk over Model::evaluationOrder
// visits each definition once.
#pragma once

#include "compiler/frontend/SourceLocation.h"

#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rnnc::ast {

/// Dims, vocabulary sizes and element counts fit in a signed 32-bit integer.
inline constexpr int64_t kMaxDimValue = 2147483647;
/// Expression trees (and dim expressions) are never deeper than this.
inline constexpr unsigned kMaxExprHeight = 1000;

//===------------------------------------------------------------------------------------===//
// Types
//===------------------------------------------------------------------------------------===//

/// The type of a value: a real tensor of rank 0..2, or a token (an int32 id in 0 .. V-1).
struct ValueType {
  enum class Kind { Unknown, Real, Token };
  Kind kind = Kind::Unknown;
  std::vector<int64_t> shape; ///< Real: {} scalar, {n} vector, {m, n} matrix. Token: {}.
  int64_t vocabulary = 0;     ///< Token only: V of token<V>.

  static ValueType real(std::vector<int64_t> shape) { return {Kind::Real, std::move(shape), 0}; }
  static ValueType token(int64_t vocabulary) { return {Kind::Token, {}, vocabulary}; }

  bool isKnown() const { return kind != Kind::Unknown; }
  bool isReal() const { return kind == Kind::Real; }
  bool isToken() const { return kind == Kind::Token; }
  bool isScalar() const { return isReal() && shape.empty(); }
  bool isVector() const { return isReal() && shape.size() == 1; }
  bool isMatrix() const { return isReal() && shape.size() == 2; }
  bool operator==(const ValueType &other) const = default;

  /// "[128, 64]", "[]", "token<65>", or "<unknown>".
  std::string str() const;
};

/// A dim expression as written in a type or a slice()/zeros() argument: `2*H + 1`.
struct DimExpr {
  enum class Kind { Integer, Name, Add, Sub, Mul };
  Kind kind = Kind::Integer;
  SourceLocation loc;
  int64_t integer = 0;               ///< Integer.
  std::string name;                  ///< Name: a dim.
  std::unique_ptr<DimExpr> lhs, rhs; ///< Add, Sub, Mul.
  unsigned height = 1;               ///< Height of this tree (a leaf is 1).
  int64_t value = 0;                 ///< (sema) The evaluated value.
};

/// A type as written: `token<V>` or `[H, 2*H]`.
struct TypeSyntax {
  SourceLocation loc;
  bool isToken = false;
  std::vector<std::unique_ptr<DimExpr>> dims; ///< The vocabulary for a token; else the shape.
};

//===------------------------------------------------------------------------------------===//
// Expressions
//===------------------------------------------------------------------------------------===//

enum class ExprKind { Number, Ref, Negate, Binary, Call, TimeSum };

struct ValueDecl;

struct Expr {
  const ExprKind kind;
  SourceLocation loc;
  unsigned height = 1; ///< Height of this tree (a leaf is 1); at most kMaxExprHeight.
  ValueType type;      ///< (sema)
  /// (sema) "" for a static value (one per sequence); else the axis it varies over. Inside a
  /// per-step definition over t every per-step subexpression is over t (sema rejects mixing).
  std::string axis;

  bool isPerStep() const { return !axis.empty(); }

  template <typename T> T &as() {
    assert(kind == T::kKind && "wrong expression kind");
    return static_cast<T &>(*this);
  }
  template <typename T> const T &as() const {
    assert(kind == T::kKind && "wrong expression kind");
    return static_cast<const T &>(*this);
  }
  virtual ~Expr() = default;

protected:
  Expr(ExprKind kind, SourceLocation loc) : kind(kind), loc(loc) {}
};

/// A literal: `2`, `0.5`. Real scalars, except a whole initial value of a token (`y[0] = 0`),
/// which is a token id.
struct NumberExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Number;
  NumberExpr(SourceLocation loc, double value, bool isInteger)
      : Expr(kKind, loc), value(value), isInteger(isInteger) {}
  double value;
  bool isInteger; ///< Written without '.' or exponent (then `value` is exact up to 2^53).
};

/// Where a per-step value is read. None: a static value (`W`, `ctx`, `C`).
enum class TimeIndex { None, Current, Previous, Next, First, Last };

/// A read of a named value: `W`, `h[t]`, `h[t-1]`, `g[t+1]`, `e[last]`, `e[first]`.
/// Reads at First/Last are static (the value at each sequence's own first/last step).
struct RefExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Ref;
  RefExpr(SourceLocation loc, std::string name) : Expr(kKind, loc), name(std::move(name)) {}
  std::string name;
  TimeIndex index = TimeIndex::None;
  std::string indexAxis;     ///< The axis written in the index (Current/Previous/Next).
  SourceLocation indexLoc;   ///< Location of the index, when there is one.
  ValueDecl *decl = nullptr; ///< (sema) The input, target, param or definition read.
};

struct NegateExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Negate;
  NegateExpr(SourceLocation loc, std::unique_ptr<Expr> operand)
      : Expr(kKind, loc), operand(std::move(operand)) {}
  std::unique_ptr<Expr> operand;
};

/// Add, Sub, Mul, Div are elementwise (equal shapes, or one side a scalar); MatMul is `@`.
enum class BinaryOp { Add, Sub, Mul, Div, MatMul };
/// "+", "-", "*", "/", "@".
const char *binaryOpSpelling(BinaryOp op);

struct BinaryExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Binary;
  BinaryExpr(SourceLocation loc, BinaryOp op, std::unique_ptr<Expr> lhs, std::unique_ptr<Expr> rhs)
      : Expr(kKind, loc), op(op), lhs(std::move(lhs)), rhs(std::move(rhs)) {}
  BinaryOp op;
  std::unique_ptr<Expr> lhs, rhs;
};

/// The built-in functions (docs/language.md, "Operators and functions").
enum class Builtin {
  Tanh,
  Sigmoid,
  Relu,
  Exp,
  Log,
  Abs,
  Sqrt,
  Max,       ///< max(a, b), min(a, b): elementwise, equal shapes or a scalar side.
  Min,
  Clamp,     ///< clamp(a, lo, hi) = min(max(a, lo), hi).
  Square,    ///< The functions from here to Layernorm are lowered to other ops (Lower.cpp).
  Rsqrt,
  Softplus,
  Elu,
  LeakyRelu, ///< leaky_relu(a, slope): slope a scalar.
  Pow,       ///< pow(a, c): c a number (constantNumber).
  Var,
  Layernorm,
  Softmax,
  LogSoftmax,
  Onehot,
  Nll,
  Sqerr,
  Sum,
  Mean,
  Concat,
  Slice,  ///< slice(v, start, len): args = {v}, dimArgs = {start, len}.
  Argmax, ///< Only in generate clauses.
  Zeros,  ///< zeros(M, N): the shape is in dimArgs (and in `type`).
  Ones,
};
std::optional<Builtin> lookupBuiltin(std::string_view name);
/// The value of a number written as a literal, possibly negated (`2`, `-0.5`); else empty.
std::optional<double> constantNumber(const Expr &expr);

struct CallExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::Call;
  CallExpr(SourceLocation loc, std::string callee) : Expr(kKind, loc), callee(std::move(callee)) {}
  std::string callee;
  std::optional<Builtin> builtin;                ///< Empty only for an unknown function (an error).
  std::vector<std::unique_ptr<Expr>> args;       ///< Value arguments.
  std::vector<std::unique_ptr<DimExpr>> dimArgs; ///< slice's start and length; zeros/ones shape.
  /// `zeros` / `ones` written without parentheses: allowed only as a whole initial value,
  /// where it means "of the state's shape" (`type` then holds that shape).
  bool isBareFill = false;
};

/// `sum_t e`: the sum of the per-step value `e` over the valid steps of `timeAxis`; static.
struct TimeSumExpr : Expr {
  static constexpr ExprKind kKind = ExprKind::TimeSum;
  TimeSumExpr(SourceLocation loc, std::string timeAxis, std::unique_ptr<Expr> operand)
      : Expr(kKind, loc), timeAxis(std::move(timeAxis)), operand(std::move(operand)) {}
  std::string timeAxis;
  std::unique_ptr<Expr> operand;
};

/// Calls `fn(child)` for each direct child expression (not dim expressions), left to right.
template <typename ExprT, typename Fn> void forEachChild(ExprT &expr, Fn &&fn) {
  switch (expr.kind) {
  case ExprKind::Number:
  case ExprKind::Ref:
    return;
  case ExprKind::Negate:
    fn(*expr.template as<NegateExpr>().operand);
    return;
  case ExprKind::Binary:
    fn(*expr.template as<BinaryExpr>().lhs);
    fn(*expr.template as<BinaryExpr>().rhs);
    return;
  case ExprKind::Call:
    for (auto &arg : expr.template as<CallExpr>().args)
      fn(*arg);
    return;
  case ExprKind::TimeSum:
    fn(*expr.template as<TimeSumExpr>().operand);
    return;
  }
}

/// The expression in source syntax (`tanh(W @ h[t-1])`), shortened past `maxLength` characters;
/// used in messages.
std::string formatExpr(const Expr &expr, size_t maxLength = 60);
std::string formatDimExpr(const DimExpr &expr);
/// How a read is written: `h[t-1]`, `e[last]`, `W`.
std::string formatRef(const RefExpr &ref);

//===------------------------------------------------------------------------------------===//
// Declarations
//===------------------------------------------------------------------------------------===//

enum class DeclKind { Dim, Input, Target, Param, Definition };

struct Decl {
  const DeclKind kind;
  std::string name;
  SourceLocation loc; ///< Location of the name.
  virtual ~Decl() = default;

protected:
  Decl(DeclKind kind, std::string name, SourceLocation loc)
      : kind(kind), name(std::move(name)), loc(loc) {}
};

/// `dim H = 128`.
struct DimDecl : Decl {
  DimDecl(std::string name, SourceLocation loc) : Decl(DeclKind::Dim, std::move(name), loc) {}
  int64_t declaredValue = 0; ///< As written (may be out of range: sema reports it).
  SourceLocation valueLoc;
  bool isOverridden = false; ///< (sema) Set by -D.
  int64_t value = 0;         ///< (sema) The final value.
};

struct InitialValue;
struct GenerateClause;
struct Recurrence;

/// Anything an expression can read: inputs, targets, params and definitions.
struct ValueDecl : Decl {
  std::string axis;       ///< "" = static (one value per sequence); else the time axis.
  SourceLocation axisLoc; ///< Location of the axis name, when there is one.
  ValueType type;         ///< (sema for definitions and after dim resolution for the others)
  /// (sema) Initial values: `h[0] = ...` (read at t-1) and `g[last+1] = ...` (read at t+1).
  InitialValue *initialStart = nullptr;
  InitialValue *initialEnd = nullptr;
  bool readAtPrevious = false; ///< (sema) Some expression reads it at t-1.
  bool readAtNext = false;     ///< (sema) Some expression reads it at t+1.

  bool isPerStep() const { return !axis.empty(); }

protected:
  using Decl::Decl;
};

/// `input x[t]: token<K>`, `target label: token<C>`, `input ctx: [C]`.
struct DataDecl : ValueDecl {
  DataDecl(DeclKind kind, std::string name, SourceLocation loc)
      : ValueDecl(kind, std::move(name), loc) {
    assert(kind == DeclKind::Input || kind == DeclKind::Target);
  }
  bool isInput() const { return kind == DeclKind::Input; }
  TypeSyntax typeSyntax;
  GenerateClause *generatedBy = nullptr; ///< (sema)
};

/// How a parameter is initialised.
struct ParamInit {
  enum class Kind { Zeros, Ones, Glorot, Orthogonal, Normal, Uniform };
  Kind kind = Kind::Zeros;
  /// normal(s): standard deviation s; uniform(a): the range [-a, a]. Unused otherwise.
  double scale = 0;
  bool isDefault = true; ///< No `= init` written: zeros below rank 2, glorot for matrices.
  std::string name;      ///< As written (sema checks it).
  bool hasArgument = false;
  SourceLocation loc;
};

/// `param W: [H, H] = orthogonal`. Always real, rank 0..2, static.
struct ParamDecl : ValueDecl {
  ParamDecl(std::string name, SourceLocation loc)
      : ValueDecl(DeclKind::Param, std::move(name), loc) {}
  TypeSyntax typeSyntax;
  ParamInit init;
  bool frozen = false; ///< `frozen param …`: initialised and saved, never trained.
};

enum class Direction { Forward, Backward };

/// `h[t] = expr` (per step) or `C = expr` (static); `output` marks a model output.
struct Definition : ValueDecl {
  Definition(std::string name, SourceLocation loc)
      : ValueDecl(DeclKind::Definition, std::move(name), loc) {}
  std::unique_ptr<Expr> value;
  bool isOutput = false;
  Recurrence *recurrence = nullptr; ///< (sema) The recurrence this belongs to, if any.
  bool isState = false; ///< (sema) Carried from step to step: read at t-1/t+1 in its recurrence.
};

/// A cycle of per-step definitions through t-1 (forward) or t+1 (backward): one scan.
struct Recurrence {
  std::string axis;
  Direction direction = Direction::Forward;
  std::vector<Definition *> members; ///< All definitions of the cycle, in step order.
  std::vector<Definition *> states;  ///< Members read at t-1 (t+1); each has an initial value.
};

/// `h[0] = expr` (isAtEnd false) or `g[last+1] = expr` (isAtEnd true). The expression is static.
struct InitialValue {
  SourceLocation loc;
  std::string name;
  bool isAtEnd = false;
  std::unique_ptr<Expr> value;
  ValueDecl *target = nullptr; ///< (sema)
};

/// `generate x[t+1] ~ softmax(o[t])`, `generate y[t] = argmax(o[t])`.
struct GenerateClause {
  enum class Mode { Sample, Assign };
  SourceLocation loc;
  std::string name;
  std::string indexAxis;
  bool isNextStep = false; ///< x[t+1]: the value at step t produces the data of step t+1.
  Mode mode = Mode::Sample;
  std::unique_ptr<Expr> value; ///< Sample: a probability vector [V]. Assign: the data's type.
  DataDecl *target = nullptr;  ///< (sema)
};

struct Loss {
  SourceLocation loc;
  std::unique_ptr<Expr> value; ///< A static real scalar.
};

/// A time axis, declared by the index of an input or target (`input x[t]`).
struct Axis {
  std::string name;
  SourceLocation loc;           ///< Where it is first declared.
  std::vector<DataDecl *> data; ///< Inputs and targets over this axis, in source order.
};

struct Model {
  std::string name;
  SourceLocation loc;
  std::vector<std::unique_ptr<DimDecl>> dims;
  std::vector<std::unique_ptr<DataDecl>> inputs;
  std::vector<std::unique_ptr<DataDecl>> targets;
  std::vector<std::unique_ptr<ParamDecl>> params;
  std::vector<std::unique_ptr<Definition>> definitions; ///< Source order.
  std::vector<std::unique_ptr<InitialValue>> initials;
  std::vector<std::unique_ptr<GenerateClause>> generates;
  std::unique_ptr<Loss> loss; ///< Null when the model has no loss.

  std::vector<Axis> axes;                               ///< (sema)
  std::vector<std::unique_ptr<Recurrence>> recurrences; ///< (sema)
  std::vector<Definition *> evaluationOrder;            ///< (sema)
};

} // namespace rnnc::ast
