#include "compiler/frontend/Lower.h"

#include "ir/Builder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

namespace rnnc::frontend {

namespace {

using ast::TimeIndex;

/// Called on every expression node before it is lowered; returns the value to use for it, or
/// nullptr to lower the node normally.
using Intercept = std::function<ir::Value *(const ast::Expr &)>;

/// One generated name of a generation scan: `generate x[t+1] ~ …` or `generate y[t] ~ …`.
struct GeneratedName {
  const ast::GenerateClause *clause;
  const ast::DataDecl *data;
};

/// What one scan computes: the members in step order, the carried states, and (generation only)
/// the generated names it feeds back.
struct ScanPlan {
  std::string axis;
  bool reverse = false;
  std::vector<const ast::Definition *> members;
  std::vector<const ast::ValueDecl *> states;
  std::vector<GeneratedName> generated;

  bool isMember(const ast::ValueDecl *decl) const {
    return std::find(members.begin(), members.end(), decl) != members.end();
  }
  const GeneratedName *findGenerated(const ast::ValueDecl *decl) const {
    for (const GeneratedName &name : generated)
      if (name.data == decl)
        return &name;
    return nullptr;
  }
};

/// The `init` attribute of a param op: "glorot", "normal(0.01)"; the default (nothing written)
/// is glorot for matrices and zeros otherwise.
std::string initializerSpec(const ast::ParamDecl &param) {
  const ast::ParamInit &init = param.init;
  if (init.isDefault)
    return param.type.isMatrix() ? "glorot" : "zeros";
  auto withScale = [&](const char *name) {
    char text[64];
    std::snprintf(text, sizeof text, "%s(%.17g)", name, init.scale);
    return std::string(text);
  };
  switch (init.kind) {
  case ast::ParamInit::Kind::Zeros: return "zeros";
  case ast::ParamInit::Kind::Ones: return "ones";
  case ast::ParamInit::Kind::Glorot: return "glorot";
  case ast::ParamInit::Kind::Orthogonal: return "orthogonal";
  case ast::ParamInit::Kind::Normal: return withScale("normal");
  case ast::ParamInit::Kind::Uniform: return withScale("uniform");
  }
  return "zeros";
}

class GraphLowering {
public:
  GraphLowering(const ast::Model &model, ir::Graph &graph, std::string filename, bool generation)
      : model_(model), top_(graph.body()), graph_(graph), filename_(std::move(filename)),
        generation_(generation) {}

  Status run();

private:
  ir::SourceLocation location(const ast::SourceLocation &loc) const {
    return {filename_, static_cast<int>(loc.line), static_cast<int>(loc.column)};
  }
  Error errorAt(const ast::SourceLocation &loc, const std::string &message) const {
    return Error::user(location(loc).str() + ": error: " + message + "\n");
  }

  void createLeaves();
  Status lowerDefinition(const ast::Definition &definition);
  Status lowerScan(const ScanPlan &plan);
  Expected<ScanPlan> generationPlan(const std::string &axis) const;

  ir::Value *lowerExpr(const ast::Expr &expr, ir::Builder &builder, const Intercept &intercept);
  ir::Value *lowerTop(const ast::Expr &expr);
  ir::Value *readTop(const ast::RefExpr &ref);
  ir::Value *lowerInitial(const ast::ValueDecl &decl, bool atEnd);
  ir::Value *valueOf(const ast::ValueDecl *decl, const ast::SourceLocation &loc);
  void removeUnusedTargets();

  const ast::Model &model_;
  ir::Builder top_;
  ir::Graph &graph_;
  std::string filename_;
  bool generation_;
  std::optional<Error> error_;

  /// The top-level value of every input, target, param and lowered definition.
  std::map<const ast::ValueDecl *, ir::Value *> values_;
  /// Memoised top-level reads that need an op: shifted sequences, first and last steps.
  std::map<std::pair<const ast::ValueDecl *, TimeIndex>, ir::Value *> derivedReads_;
  /// Static subexpressions of scan bodies, computed once at the top level.
  std::map<const ast::Expr *, ir::Value *> hoisted_;
  std::set<const ast::Recurrence *> loweredRecurrences_;
  std::set<std::string> loweredGenerationAxes_;
};

ir::Value *GraphLowering::valueOf(const ast::ValueDecl *decl, const ast::SourceLocation &loc) {
  auto it = values_.find(decl);
  if (it != values_.end())
    return it->second;
  // Only reachable when generation reorders a model: a static value computed from the
  // generated recurrence is read inside it.
  if (!error_)
    error_ = errorAt(loc, "'" + decl->name +
                              "' cannot be used here in generation: it depends on the "
                              "recurrence that generates it");
  return top_.constant(0, ir::Type::real(decl->type.shape));
}

void GraphLowering::createLeaves() {
  for (const auto &param : model_.params) {
    top_.setLocation(location(param->loc));
    ir::Value *value =
        top_.param(param->name, ir::Type::real(param->type.shape), initializerSpec(*param));
    if (param->frozen)
      value->definingOp()->setAttr("frozen", int64_t(1));
    values_[param.get()] = value;
  }
  auto dataType = [](const ast::DataDecl &data) {
    return data.type.isToken() ? ir::Type::token(data.type.vocabulary, data.axis)
                               : ir::Type::real(data.type.shape, data.axis);
  };
  for (const auto &input : model_.inputs) {
    top_.setLocation(location(input->loc));
    values_[input.get()] = top_.input(input->name, dataType(*input));
  }
  for (const auto &target : model_.targets) {
    top_.setLocation(location(target->loc));
    // In generation a generated target is the prime: data the caller supplies, so an input.
    bool isPrime = generation_ && target->generatedBy;
    values_[target.get()] = isPrime ? top_.input(target->name, dataType(*target))
                                    : top_.target(target->name, dataType(*target));
  }
}

namespace {

/// a^c for a constant c: by squaring for an integer |c| <= 64 (exact for small powers, and
/// defined for negative a), sqrt for ±1/2, else exp(c log a) (a > 0).
ir::Value *lowerPower(ir::Value *a, double c, const std::vector<int64_t> &shape, ir::Builder &b) {
  auto op = [&](ir::OpKind kind, std::vector<ir::Value *> operands) {
    return b.create(kind, operands);
  };
  auto number = [&](double value) { return b.constant(value, ir::Type::scalar()); };
  double magnitude = std::fabs(c);
  ir::Value *power = nullptr;
  if (magnitude == std::floor(magnitude) && magnitude <= 64) {
    if (magnitude == 0)
      return b.constant(1.0, ir::Type::real(shape));
    ir::Value *square = a;
    for (auto exponent = static_cast<int64_t>(magnitude); exponent > 0; exponent >>= 1) {
      if (exponent & 1)
        power = power ? op(ir::OpKind::Mul, {power, square}) : square;
      if (exponent > 1)
        square = op(ir::OpKind::Mul, {square, square});
    }
  } else if (magnitude == 0.5) {
    power = op(ir::OpKind::Sqrt, {a});
  } else {
    return op(ir::OpKind::Exp, {op(ir::OpKind::Mul, {number(c), op(ir::OpKind::Log, {a})})});
  }
  return c < 0 ? op(ir::OpKind::Div, {number(1), power}) : power;
}

/// The functions of the language that are compositions of IR ops (clamp … layernorm), so their
/// gradients follow from the ops' rules; null for the others.
ir::Value *lowerComposedFunction(const ast::CallExpr &call, const std::vector<ir::Value *> &args,
                                 ir::Builder &b) {
  auto op = [&](ir::OpKind kind, std::vector<ir::Value *> operands) {
    return b.create(kind, operands);
  };
  auto number = [&](double value) { return b.constant(value, ir::Type::scalar()); };
  using ir::OpKind;
  switch (*call.builtin) {
  case ast::Builtin::Clamp:
    return op(OpKind::Min, {op(OpKind::Max, {args[0], args[1]}), args[2]});
  case ast::Builtin::Square:
    return op(OpKind::Mul, {args[0], args[0]});
  case ast::Builtin::Rsqrt:
    return op(OpKind::Div, {number(1), op(OpKind::Sqrt, {args[0]})});
  case ast::Builtin::Softplus: { // log(1 + e^a) = relu(a) + log(1 + e^-|a|): no overflow
    ir::Value *small = op(OpKind::Exp, {op(OpKind::Neg, {op(OpKind::Abs, {args[0]})})});
    return op(OpKind::Add, {op(OpKind::Relu, {args[0]}),
                            op(OpKind::Log, {op(OpKind::Add, {number(1), small})})});
  }
  case ast::Builtin::Elu: { // a where a > 0, else e^a - 1: relu(a) + e^-relu(-a) - 1
    ir::Value *negativePart = op(OpKind::Neg, {op(OpKind::Relu, {op(OpKind::Neg, {args[0]})})});
    return op(OpKind::Add, {op(OpKind::Relu, {args[0]}),
                            op(OpKind::Sub, {op(OpKind::Exp, {negativePart}), number(1)})});
  }
  case ast::Builtin::LeakyRelu: { // relu(a) - slope relu(-a): a, or slope a, exactly
    ir::Value *negativePart = op(OpKind::Relu, {op(OpKind::Neg, {args[0]})});
    return op(OpKind::Sub,
              {op(OpKind::Relu, {args[0]}), op(OpKind::Mul, {args[1], negativePart})});
  }
  case ast::Builtin::Pow:
    return lowerPower(args[0], *ast::constantNumber(*call.args[1]), call.type.shape, b);
  case ast::Builtin::Var:
  case ast::Builtin::Layernorm: {
    ir::Value *deviation = op(OpKind::Sub, {args[0], op(OpKind::Mean, {args[0]})});
    ir::Value *variance = op(OpKind::Mean, {op(OpKind::Mul, {deviation, deviation})});
    if (*call.builtin == ast::Builtin::Var)
      return variance;
    // (v - mean) / sqrt(var + 1e-5), as torch.nn.LayerNorm without its affine part
    return op(OpKind::Div,
              {deviation, op(OpKind::Sqrt, {op(OpKind::Add, {variance, number(1e-5)})})});
  }
  default:
    return nullptr;
  }
}

} // namespace

ir::Value *GraphLowering::lowerExpr(const ast::Expr &expr, ir::Builder &builder,
                                    const Intercept &intercept) {
  if (ir::Value *value = intercept(expr))
    return value;
  builder.setLocation(location(expr.loc));
  auto recurse = [&](const ast::Expr &child) { return lowerExpr(child, builder, intercept); };
  switch (expr.kind) {
  case ast::ExprKind::Number:
    return builder.constant(expr.as<ast::NumberExpr>().value, ir::Type::scalar());
  case ast::ExprKind::Ref:
    // Every read is resolved by the intercept of the context (top level or scan body).
    if (!error_)
      error_ = Error::internal("unresolved read of '" + expr.as<ast::RefExpr>().name + "'");
    return builder.constant(0, ir::Type::scalar());
  case ast::ExprKind::Negate: {
    ir::Value *operand = recurse(*expr.as<ast::NegateExpr>().operand);
    builder.setLocation(location(expr.loc));
    return builder.create(ir::OpKind::Neg, {operand});
  }
  case ast::ExprKind::Binary: {
    const auto &binary = expr.as<ast::BinaryExpr>();
    ir::Value *lhs = recurse(*binary.lhs);
    ir::Value *rhs = recurse(*binary.rhs);
    static const std::map<ast::BinaryOp, ir::OpKind> kinds = {
        {ast::BinaryOp::Add, ir::OpKind::Add}, {ast::BinaryOp::Sub, ir::OpKind::Sub},
        {ast::BinaryOp::Mul, ir::OpKind::Mul}, {ast::BinaryOp::Div, ir::OpKind::Div},
        {ast::BinaryOp::MatMul, ir::OpKind::MatMul}};
    builder.setLocation(location(expr.loc));
    return builder.create(kinds.at(binary.op), {lhs, rhs});
  }
  case ast::ExprKind::TimeSum: {
    ir::Value *perStep = recurse(*expr.as<ast::TimeSumExpr>().operand);
    builder.setLocation(location(expr.loc));
    return builder.create(ir::OpKind::SumTime, {perStep});
  }
  case ast::ExprKind::Call:
    break;
  }

  const auto &call = expr.as<ast::CallExpr>();
  if (!call.builtin) {
    if (!error_)
      error_ = Error::internal("unknown function '" + call.callee + "' survived sema");
    return builder.constant(0, ir::Type::scalar());
  }
  if (*call.builtin == ast::Builtin::Zeros || *call.builtin == ast::Builtin::Ones)
    return builder.constant(*call.builtin == ast::Builtin::Ones ? 1.0 : 0.0,
                            ir::Type::real(expr.type.shape));
  std::vector<ir::Value *> args;
  for (const auto &arg : call.args)
    args.push_back(recurse(*arg));
  builder.setLocation(location(expr.loc));
  if (ir::Value *lowered = lowerComposedFunction(call, args, builder))
    return lowered;
  switch (*call.builtin) {
  case ast::Builtin::Tanh: return builder.create(ir::OpKind::Tanh, args);
  case ast::Builtin::Sigmoid: return builder.create(ir::OpKind::Sigmoid, args);
  case ast::Builtin::Relu: return builder.create(ir::OpKind::Relu, args);
  case ast::Builtin::Exp: return builder.create(ir::OpKind::Exp, args);
  case ast::Builtin::Log: return builder.create(ir::OpKind::Log, args);
  case ast::Builtin::Abs: return builder.create(ir::OpKind::Abs, args);
  case ast::Builtin::Sqrt: return builder.create(ir::OpKind::Sqrt, args);
  case ast::Builtin::Max: return builder.create(ir::OpKind::Max, args);
  case ast::Builtin::Min: return builder.create(ir::OpKind::Min, args);
  case ast::Builtin::Softmax: return builder.create(ir::OpKind::Softmax, args);
  case ast::Builtin::LogSoftmax: return builder.create(ir::OpKind::LogSoftmax, args);
  case ast::Builtin::Onehot: return builder.create(ir::OpKind::OneHot, args);
  case ast::Builtin::Nll: return builder.create(ir::OpKind::Nll, args);
  case ast::Builtin::Sqerr: return builder.create(ir::OpKind::SqErr, args);
  case ast::Builtin::Sum: return builder.create(ir::OpKind::Sum, args);
  case ast::Builtin::Mean: return builder.create(ir::OpKind::Mean, args);
  case ast::Builtin::Concat: return builder.create(ir::OpKind::Concat, args);
  case ast::Builtin::Argmax: return builder.create(ir::OpKind::Argmax, args);
  case ast::Builtin::Slice:
    return builder.create(ir::OpKind::Slice, args,
                          {{"start", call.dimArgs.at(0)->value}, {"len", call.dimArgs.at(1)->value}});
  case ast::Builtin::Zeros:
  case ast::Builtin::Ones:
    break; // handled above
  default:
    break; // composed of other ops: lowerComposedFunction
  }
  return builder.constant(0, ir::Type::scalar());
}

ir::Value *GraphLowering::lowerTop(const ast::Expr &expr) {
  return lowerExpr(expr, top_, [this](const ast::Expr &node) -> ir::Value * {
    return node.kind == ast::ExprKind::Ref ? readTop(node.as<ast::RefExpr>()) : nullptr;
  });
}

ir::Value *GraphLowering::lowerInitial(const ast::ValueDecl &decl, bool atEnd) {
  const ast::InitialValue *initial = atEnd ? decl.initialEnd : decl.initialStart;
  const ast::Expr &expr = *initial->value;
  top_.setLocation(location(initial->loc));
  if (decl.type.isToken())
    return top_.tokenConstant(static_cast<int64_t>(expr.as<ast::NumberExpr>().value),
                              decl.type.vocabulary);
  if (expr.kind == ast::ExprKind::Call && expr.as<ast::CallExpr>().isBareFill) {
    bool ones = expr.as<ast::CallExpr>().builtin == ast::Builtin::Ones;
    return top_.constant(ones ? 1.0 : 0.0, ir::Type::real(decl.type.shape));
  }
  return lowerTop(expr);
}

ir::Value *GraphLowering::readTop(const ast::RefExpr &ref) {
  ir::Value *value = valueOf(ref.decl, ref.loc);
  if (ref.index == TimeIndex::None || ref.index == TimeIndex::Current)
    return value;
  auto key = std::make_pair(static_cast<const ast::ValueDecl *>(ref.decl), ref.index);
  if (auto it = derivedReads_.find(key); it != derivedReads_.end())
    return it->second;
  ir::Value *derived = nullptr;
  switch (ref.index) {
  case TimeIndex::Previous:
  case TimeIndex::Next: {
    bool reverse = ref.index == TimeIndex::Next;
    ir::Value *init = lowerInitial(*ref.decl, reverse);
    top_.setLocation(location(ref.loc));
    derived = top_.create(ir::OpKind::Shift, {value, init},
                          {{"direction", std::string(reverse ? "reverse" : "forward")}});
    break;
  }
  case TimeIndex::First:
  case TimeIndex::Last:
    top_.setLocation(location(ref.loc));
    derived = top_.create(ref.index == TimeIndex::Last ? ir::OpKind::Last : ir::OpKind::First,
                          {value});
    break;
  default:
    break;
  }
  derivedReads_[key] = derived;
  return derived;
}

Status GraphLowering::lowerScan(const ScanPlan &plan) {
  // Phase 1: everything the body needs from outside, computed at the top level: static
  // subexpressions (statics) and per-step values of non-members (step sequences).
  std::vector<ir::Value *> stepSequences, statics;
  auto addUnique = [](std::vector<ir::Value *> &list, ir::Value *value) {
    if (std::find(list.begin(), list.end(), value) == list.end())
      list.push_back(value);
  };
  auto isCarriedRead = [&](const ast::RefExpr &ref) {
    return plan.isMember(ref.decl) || plan.findGenerated(ref.decl);
  };
  std::function<void(const ast::Expr &)> collect = [&](const ast::Expr &expr) {
    if (expr.kind == ast::ExprKind::Number)
      return;
    if (!expr.isPerStep()) {
      if (!hoisted_.count(&expr))
        hoisted_[&expr] = lowerTop(expr);
      addUnique(statics, hoisted_[&expr]);
      return;
    }
    if (expr.kind == ast::ExprKind::Ref) {
      const auto &ref = expr.as<ast::RefExpr>();
      if (!isCarriedRead(ref))
        addUnique(stepSequences, readTop(ref));
      return;
    }
    ast::forEachChild(expr, collect);
  };
  for (const ast::Definition *member : plan.members)
    collect(*member->value);
  for (const GeneratedName &name : plan.generated)
    collect(*name.clause->value);

  // Carried values: the states, then one per generated name (x[t+1]: the next token, starting
  // from a zero placeholder the prime replaces; y[t]: the previous token, from y's initial value).
  std::vector<ir::Value *> carryInits;
  for (const ast::ValueDecl *state : plan.states)
    carryInits.push_back(lowerInitial(*state, plan.reverse));
  for (const GeneratedName &name : plan.generated) {
    top_.setLocation(location(name.clause->loc));
    if (!name.clause->isNextStep)
      carryInits.push_back(lowerInitial(*name.data, false));
    else if (name.data->type.isToken())
      carryInits.push_back(top_.tokenConstant(0, name.data->type.vocabulary));
    else
      carryInits.push_back(top_.constant(0, ir::Type::real(name.data->type.shape)));
  }
  std::vector<ir::Value *> primes;
  for (const GeneratedName &name : plan.generated)
    primes.push_back(values_.at(name.data));
  std::vector<ir::Value *> allSteps = primes;
  allSteps.insert(allSteps.end(), stepSequences.begin(), stepSequences.end());
  if (error_)
    return *error_;

  // Phase 2: the body.
  top_.setLocation(location(plan.members.empty() ? model_.loc : plan.members.front()->loc));
  ir::Op *scan = top_.beginScan(plan.axis, plan.reverse, carryInits, allSteps, statics);
  ir::Block &body = *scan->body();
  ir::Builder builder(body);
  builder.setLocation(top_.location());
  size_t argument = 0;
  std::map<const ast::ValueDecl *, ir::Value *> carried, current;
  // A carried argument is the state as the step receives it: named after the state (it prints
  // `%h`, and the state computed by the step `%h.1`).
  for (const ast::ValueDecl *state : plan.states) {
    carried[state] = body.argument(argument++);
    carried[state]->setNameHint(state->name);
  }
  for (const GeneratedName &name : plan.generated) {
    carried[name.data] = body.argument(argument++);
    carried[name.data]->setNameHint(name.data->name);
  }
  std::vector<ir::Value *> primeArguments;
  for (size_t i = 0; i < primes.size(); ++i)
    primeArguments.push_back(body.argument(argument++));
  std::map<ir::Value *, ir::Value *> outerToArgument;
  for (ir::Value *sequence : stepSequences)
    outerToArgument[sequence] = body.argument(argument++);
  for (ir::Value *value : statics)
    outerToArgument[value] = body.argument(argument++);

  // x[t+1]: this step's token is the prime's while it lasts, else last step's sample.
  for (size_t i = 0; i < plan.generated.size(); ++i)
    if (plan.generated[i].clause->isNextStep) {
      builder.setLocation(location(plan.generated[i].clause->loc));
      current[plan.generated[i].data] =
          builder.create(ir::OpKind::Feed, {primeArguments[i], carried[plan.generated[i].data]});
    }

  Intercept intercept = [&](const ast::Expr &expr) -> ir::Value * {
    if (expr.kind == ast::ExprKind::Number)
      return nullptr;
    if (!expr.isPerStep())
      return outerToArgument.at(hoisted_.at(&expr));
    if (expr.kind != ast::ExprKind::Ref)
      return nullptr;
    const auto &ref = expr.as<ast::RefExpr>();
    if (!isCarriedRead(ref))
      return outerToArgument.at(readTop(ref));
    if (ref.index == TimeIndex::Current) {
      if (auto it = current.find(ref.decl); it != current.end())
        return it->second;
      if (!error_)
        error_ = errorAt(ref.loc, "'" + ref.decl->name +
                                      "' is read at the step that generates it; a generated "
                                      "name can only be read at the previous step");
      return builder.constant(0, ir::Type::scalar());
    }
    if (auto it = carried.find(ref.decl); it != carried.end())
      return it->second;
    if (!error_)
      error_ = errorAt(ref.loc, "generation cannot read '" + ast::formatRef(ref) + "'");
    return builder.constant(0, ir::Type::scalar());
  };

  std::vector<ir::Value *> outputs;
  for (const ast::Definition *member : plan.members) {
    ir::Value *value = lowerExpr(*member->value, builder, intercept);
    value->setNameHint(member->name);
    current[member] = value;
    outputs.push_back(value);
  }
  std::vector<ir::Value *> nextCarries;
  for (const ast::ValueDecl *state : plan.states)
    nextCarries.push_back(current.at(state));
  for (size_t i = 0; i < plan.generated.size(); ++i) {
    const GeneratedName &name = plan.generated[i];
    ir::Value *produced = lowerExpr(*name.clause->value, builder, intercept);
    builder.setLocation(location(name.clause->loc));
    if (name.clause->mode == ast::GenerateClause::Mode::Sample)
      produced = builder.create(ir::OpKind::Sample, {produced});
    if (!name.clause->isNextStep)
      produced = builder.create(ir::OpKind::Feed, {primeArguments[i], produced});
    produced->setNameHint(name.data->name);
    nextCarries.push_back(produced);
    // The generated sequence is the token fed at each step.
    ir::Value *fed = name.clause->isNextStep ? current.at(name.data) : produced;
    outputs.push_back(fed);
  }
  builder.finishScan(scan, nextCarries, outputs);
  if (Status status = builder.status(); !status)
    return Error::internal("lowering built an ill-typed scan: " + status.error().message);

  for (size_t i = 0; i < plan.members.size(); ++i)
    values_[plan.members[i]] = scan->result(i);
  for (size_t i = 0; i < plan.generated.size(); ++i)
    top_.output(plan.generated[i].data->name, scan->result(plan.members.size() + i));
  return error_ ? Status(*error_) : Status::ok();
}

Expected<ScanPlan> GraphLowering::generationPlan(const std::string &axis) const {
  ScanPlan plan;
  plan.axis = axis;
  for (const ast::Definition *definition : model_.evaluationOrder) {
    if (definition->axis != axis)
      continue;
    if (definition->recurrence && definition->recurrence->direction == ast::Direction::Backward)
      return errorAt(definition->loc, "cannot generate over axis '" + axis + "': '" +
                                          definition->name +
                                          "' runs backward in time, so it needs the future");
    plan.members.push_back(definition);
    if (definition->isState)
      plan.states.push_back(definition);
  }
  for (const auto &clause : model_.generates)
    if (clause->target->axis == axis)
      plan.generated.push_back({clause.get(), clause->target});
  return plan;
}

Status GraphLowering::lowerDefinition(const ast::Definition &definition) {
  bool generatedAxis =
      generation_ && std::any_of(model_.generates.begin(), model_.generates.end(),
                                 [&](const auto &clause) {
                                   return clause->target->axis == definition.axis;
                                 });
  if (definition.isPerStep() && generatedAxis) {
    if (loweredGenerationAxes_.insert(definition.axis).second) {
      auto plan = generationPlan(definition.axis);
      if (!plan)
        return plan.takeError();
      if (Status status = lowerScan(*plan); !status)
        return status;
    }
  } else if (const ast::Recurrence *recurrence = definition.recurrence) {
    if (loweredRecurrences_.insert(recurrence).second) {
      ScanPlan plan;
      plan.axis = recurrence->axis;
      plan.reverse = recurrence->direction == ast::Direction::Backward;
      plan.members.assign(recurrence->members.begin(), recurrence->members.end());
      plan.states.assign(recurrence->states.begin(), recurrence->states.end());
      if (Status status = lowerScan(plan); !status)
        return status;
    }
  } else {
    ir::Value *value = lowerTop(*definition.value);
    if (definition.isPerStep() && !value->type().isSequence()) {
      top_.setLocation(location(definition.loc));
      value = top_.create(ir::OpKind::Repeat, {value}, {{"axis", definition.axis}});
    }
    value->setNameHint(definition.name);
    values_[&definition] = value;
  }
  if (definition.isOutput) {
    top_.setLocation(location(definition.loc));
    top_.output(definition.name, values_.at(&definition));
  }
  return error_ ? Status(*error_) : Status::ok();
}

void GraphLowering::removeUnusedTargets() {
  std::set<const ir::Value *> used;
  graph_.body().walk([&](ir::Op &op) {
    for (ir::Value *operand : op.operands())
      used.insert(operand);
  });
  graph_.body().eraseIf([&](const ir::Op &op) {
    return op.kind() == ir::OpKind::Target && !used.count(op.result());
  });
}

Status GraphLowering::run() {
  createLeaves();
  for (const ast::Definition *definition : model_.evaluationOrder)
    if (Status status = lowerDefinition(*definition); !status)
      return status;
  if (!generation_ && model_.loss) {
    ir::Value *loss = lowerTop(*model_.loss->value);
    top_.setLocation(location(model_.loss->loc));
    top_.output("loss", loss);
  }
  if (generation_)
    removeUnusedTargets();
  if (error_)
    return *error_;
  if (Status status = top_.status(); !status)
    return Error::internal("lowering built an ill-typed graph: " + status.error().message);
  return Status::ok();
}

} // namespace

Expected<std::unique_ptr<ir::Module>> lowerToIR(const ast::Model &model,
                                                const std::string &filename) {
  auto module = std::make_unique<ir::Module>(model.name);
  for (const auto &dim : model.dims)
    module->dims().emplace_back(dim->name, dim->value);
  if (Status status = GraphLowering(model, module->addGraph("forward"), filename, false).run();
      !status)
    return status.takeError();
  if (!model.generates.empty()) {
    if (Status status =
            GraphLowering(model, module->addGraph("generate"), filename, true).run();
        !status)
      return status.takeError();
  }
  return module;
}

} // namespace rnnc::frontend
