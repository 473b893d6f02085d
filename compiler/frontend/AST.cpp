#include "compiler/frontend/AST.h"

#include <array>
#include <cstdio>
#include <utility>

namespace rnnc::ast {
namespace {

constexpr std::array<std::pair<const char *, Builtin>, 30> kBuiltins = {{
    {"tanh", Builtin::Tanh},
    {"sigmoid", Builtin::Sigmoid},
    {"relu", Builtin::Relu},
    {"exp", Builtin::Exp},
    {"log", Builtin::Log},
    {"abs", Builtin::Abs},
    {"sqrt", Builtin::Sqrt},
    {"max", Builtin::Max},
    {"min", Builtin::Min},
    {"clamp", Builtin::Clamp},
    {"square", Builtin::Square},
    {"rsqrt", Builtin::Rsqrt},
    {"softplus", Builtin::Softplus},
    {"elu", Builtin::Elu},
    {"leaky_relu", Builtin::LeakyRelu},
    {"pow", Builtin::Pow},
    {"var", Builtin::Var},
    {"layernorm", Builtin::Layernorm},
    {"softmax", Builtin::Softmax},
    {"log_softmax", Builtin::LogSoftmax},
    {"onehot", Builtin::Onehot},
    {"nll", Builtin::Nll},
    {"sqerr", Builtin::Sqerr},
    {"sum", Builtin::Sum},
    {"mean", Builtin::Mean},
    {"concat", Builtin::Concat},
    {"slice", Builtin::Slice},
    {"argmax", Builtin::Argmax},
    {"zeros", Builtin::Zeros},
    {"ones", Builtin::Ones},
}};

int precedence(const Expr &expr) {
  if (expr.kind == ExprKind::Binary) {
    BinaryOp op = expr.as<BinaryExpr>().op;
    return op == BinaryOp::Add || op == BinaryOp::Sub ? 1 : 2;
  }
  if (expr.kind == ExprKind::Negate || expr.kind == ExprKind::TimeSum)
    return 3;
  return 4;
}

void appendExpr(const Expr &expr, std::string &out);

void appendOperand(const Expr &operand, int minPrecedence, std::string &out) {
  bool parens = precedence(operand) < minPrecedence;
  if (parens)
    out += '(';
  appendExpr(operand, out);
  if (parens)
    out += ')';
}

void appendExpr(const Expr &expr, std::string &out) {
  switch (expr.kind) {
  case ExprKind::Number: {
    const auto &number = expr.as<NumberExpr>();
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, number.isInteger ? "%.0f" : "%g", number.value);
    out += buffer;
    return;
  }
  case ExprKind::Ref:
    out += formatRef(expr.as<RefExpr>());
    return;
  case ExprKind::Negate:
    out += '-';
    appendOperand(*expr.as<NegateExpr>().operand, 3, out);
    return;
  case ExprKind::Binary: {
    const auto &binary = expr.as<BinaryExpr>();
    int own = precedence(expr);
    appendOperand(*binary.lhs, own, out);
    out += std::string(" ") + binaryOpSpelling(binary.op) + " ";
    appendOperand(*binary.rhs, own + 1, out);
    return;
  }
  case ExprKind::Call: {
    const auto &call = expr.as<CallExpr>();
    out += call.callee;
    if (call.isBareFill)
      return;
    out += '(';
    bool first = true;
    for (const auto &arg : call.args) {
      out += first ? "" : ", ";
      first = false;
      appendExpr(*arg, out);
    }
    for (const auto &dim : call.dimArgs) {
      out += first ? "" : ", ";
      first = false;
      out += formatDimExpr(*dim);
    }
    out += ')';
    return;
  }
  case ExprKind::TimeSum: {
    const auto &sum = expr.as<TimeSumExpr>();
    out += "sum_" + sum.timeAxis + " ";
    appendOperand(*sum.operand, 3, out);
    return;
  }
  }
}

} // namespace

std::string ValueType::str() const {
  switch (kind) {
  case Kind::Unknown:
    return "<unknown>";
  case Kind::Token:
    return "token<" + std::to_string(vocabulary) + ">";
  case Kind::Real:
    break;
  }
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

const char *binaryOpSpelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::MatMul:
    return "@";
  }
  return "?";
}

std::optional<Builtin> lookupBuiltin(std::string_view name) {
  for (const auto &[spelling, builtin] : kBuiltins)
    if (name == spelling)
      return builtin;
  return std::nullopt;
}

std::optional<double> constantNumber(const Expr &expr) {
  if (expr.kind == ExprKind::Number)
    return expr.as<NumberExpr>().value;
  if (expr.kind == ExprKind::Negate)
    if (auto value = constantNumber(*expr.as<NegateExpr>().operand))
      return -*value;
  return std::nullopt;
}

std::string formatExpr(const Expr &expr, size_t maxLength) {
  std::string text;
  appendExpr(expr, text);
  if (text.size() > maxLength)
    text = text.substr(0, maxLength) + "...";
  return text;
}

std::string formatDimExpr(const DimExpr &expr) {
  switch (expr.kind) {
  case DimExpr::Kind::Integer:
    return std::to_string(expr.integer);
  case DimExpr::Kind::Name:
    return expr.name;
  case DimExpr::Kind::Add:
    return formatDimExpr(*expr.lhs) + " + " + formatDimExpr(*expr.rhs);
  case DimExpr::Kind::Sub: {
    std::string rhs = formatDimExpr(*expr.rhs);
    bool parens = expr.rhs->kind == DimExpr::Kind::Add || expr.rhs->kind == DimExpr::Kind::Sub;
    return formatDimExpr(*expr.lhs) + " - " + (parens ? "(" + rhs + ")" : rhs);
  }
  case DimExpr::Kind::Mul: {
    auto operand = [](const DimExpr &side) {
      bool parens = side.kind == DimExpr::Kind::Add || side.kind == DimExpr::Kind::Sub;
      return parens ? "(" + formatDimExpr(side) + ")" : formatDimExpr(side);
    };
    return operand(*expr.lhs) + "*" + operand(*expr.rhs);
  }
  }
  return "?";
}

std::string formatRef(const RefExpr &ref) {
  switch (ref.index) {
  case TimeIndex::None:
    return ref.name;
  case TimeIndex::Current:
    return ref.name + "[" + ref.indexAxis + "]";
  case TimeIndex::Previous:
    return ref.name + "[" + ref.indexAxis + "-1]";
  case TimeIndex::Next:
    return ref.name + "[" + ref.indexAxis + "+1]";
  case TimeIndex::First:
    return ref.name + "[first]";
  case TimeIndex::Last:
    return ref.name + "[last]";
  }
  return ref.name;
}

} // namespace rnnc::ast
