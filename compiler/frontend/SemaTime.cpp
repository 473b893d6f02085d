// Sema phase 2: names and time. Resolves every name read by an expression, checks its time
// index against the value's axis and the context (a static context reads per-step values only
// at [last]/[first] or under sum_t; a per-step context over t reads nothing per-step over another
// axis), sets Expr::axis (static or per-step), and records every read as an edge of the reads
// graph used by the recurrence analysis.
#include "compiler/frontend/SemaState.h"

namespace rnnc::frontend {
namespace {

using namespace ast;

/// Where an expression is evaluated.
struct TimeContext {
  std::string axis; ///< "" in a static context.
  std::string what; ///< The context in messages: "static definition 'C'", "'d[t]'", ...
  std::vector<Read> *reads = nullptr; ///< Where reads are recorded (null: nowhere).
  bool inTimeSum = false;
  bool allowsArgmax = false;
};

class TimeChecker {
public:
  explicit TimeChecker(SemaState &state) : state_(state) {}

  void check(Expr &expr, const TimeContext &context);

private:
  void checkRef(RefExpr &ref, const TimeContext &context);
  void record(RefExpr &ref, ValueDecl &target, const TimeContext &context);
  void error(SourceLocation loc, const std::string &message) { state_.diags.error(loc, message); }

  SemaState &state_;
};

void TimeChecker::check(Expr &expr, const TimeContext &context) {
  switch (expr.kind) {
  case ExprKind::Number:
    expr.axis.clear();
    return;
  case ExprKind::Ref:
    checkRef(expr.as<RefExpr>(), context);
    return;
  case ExprKind::TimeSum: {
    auto &sum = expr.as<TimeSumExpr>();
    sum.axis.clear();
    if (!state_.findAxis(sum.timeAxis)) {
      error(sum.loc, "unknown time axis '" + sum.timeAxis + "' in 'sum_" + sum.timeAxis + "'");
      return;
    }
    TimeContext inner = context;
    inner.axis = sum.timeAxis;
    inner.inTimeSum = true;
    unsigned errorsBefore = state_.diags.errorCount();
    check(*sum.operand, inner);
    if (!sum.operand->isPerStep() && state_.diags.errorCount() == errorsBefore)
      error(sum.loc, "'sum_" + sum.timeAxis + "' of a static value: '" + formatExpr(*sum.operand) +
                         "' does not vary over '" + sum.timeAxis + "'");
    return;
  }
  case ExprKind::Call: {
    auto &call = expr.as<CallExpr>();
    if (!call.builtin)
      error(call.loc, "unknown function '" + call.callee + "'");
    else if (call.builtin == Builtin::Argmax && !context.allowsArgmax)
      error(call.loc, "argmax is only allowed in a generate clause");
    break;
  }
  case ExprKind::Negate:
  case ExprKind::Binary:
    break;
  }
  // Every per-step read in this context is over context.axis, so the node is per-step over it
  // as soon as one child is.
  bool perStep = false;
  forEachChild(expr, [&](Expr &child) {
    check(child, context);
    perStep = perStep || child.isPerStep();
  });
  expr.axis = perStep ? context.axis : "";
}

void TimeChecker::checkRef(RefExpr &ref, const TimeContext &context) {
  ref.axis.clear();
  auto symbol = state_.symbols.find(ref.name);
  if (symbol == state_.symbols.end()) {
    if (lookupBuiltin(ref.name))
      error(ref.loc, "'" + ref.name + "' is a function; call it as " + ref.name + "(...)");
    else
      error(ref.loc, "undefined name '" + ref.name + "'");
    return;
  }
  if (symbol->second->kind == DeclKind::Dim) {
    error(ref.loc, "'" + ref.name + "' is a dim, not a value (dims are used in shapes, " +
                       "slice() and zeros())");
    return;
  }
  auto &target = *static_cast<ValueDecl *>(symbol->second);
  std::string written = formatRef(ref);
  if (!target.isPerStep()) {
    if (ref.index != TimeIndex::None) {
      error(ref.indexLoc, "'" + ref.name + "' is static (one value per sequence) and cannot " +
                              "be read at a time index");
      return;
    }
    ref.decl = &target;
    record(ref, target, context);
    return;
  }
  switch (ref.index) {
  case TimeIndex::None:
    error(ref.loc, "'" + ref.name + "' is per-step over axis '" + target.axis +
                       "' and needs a time index (" + ref.name + "[" + target.axis + "], " +
                       ref.name + "[" + target.axis + "-1], " + ref.name + "[last], ...)");
    return;
  case TimeIndex::First:
  case TimeIndex::Last:
    ref.decl = &target;
    record(ref, target, context);
    return;
  case TimeIndex::Current:
  case TimeIndex::Previous:
  case TimeIndex::Next:
    break;
  }
  if (!state_.findAxis(ref.indexAxis)) {
    error(ref.indexLoc, "unknown time axis '" + ref.indexAxis + "'");
    return;
  }
  if (ref.indexAxis != target.axis) {
    error(ref.indexLoc,
          "'" + ref.name + "' is over axis '" + target.axis + "', not '" + ref.indexAxis + "'");
    return;
  }
  std::string bridges = ref.name + "[last], " + ref.name + "[first] or sum_" + target.axis;
  if (context.axis.empty()) {
    error(ref.loc, context.what + " reads the per-step value '" + written + "'; use " + bridges);
    return;
  }
  if (context.axis != target.axis) {
    error(ref.loc, "'" + written + "' is over axis '" + target.axis + "' but " + context.what +
                       " is over axis '" + context.axis + "'; bridge the axes with " + bridges);
    return;
  }
  ref.decl = &target;
  ref.axis = target.axis;
  record(ref, target, context);
}

void TimeChecker::record(RefExpr &ref, ValueDecl &target, const TimeContext &context) {
  if (ref.index == TimeIndex::Previous) {
    target.readAtPrevious = true;
    state_.firstPreviousRead.emplace(&target, &ref);
  } else if (ref.index == TimeIndex::Next) {
    target.readAtNext = true;
    state_.firstNextRead.emplace(&target, &ref);
  }
  if (!context.reads)
    return;
  ReadKind kind = ReadKind::Whole;
  if (!context.inTimeSum && ref.index == TimeIndex::Current)
    kind = ReadKind::SameStep;
  else if (!context.inTimeSum && ref.index == TimeIndex::Previous)
    kind = ReadKind::Previous;
  else if (!context.inTimeSum && ref.index == TimeIndex::Next)
    kind = ReadKind::Next;
  context.reads->push_back({&target, kind, &ref});
}

} // namespace

void checkNamesAndTime(SemaState &state) {
  TimeChecker checker(state);
  Model &model = state.model;
  for (auto &definition : model.definitions) {
    if (definition->isPerStep() && !state.findAxis(definition->axis))
      continue; // its axis is undeclared (reported): every per-step read would be an error
    TimeContext context;
    context.axis = definition->axis;
    context.what = definition->isPerStep() ? "'" + definition->name + "[" + definition->axis + "]'"
                                           : "static definition '" + definition->name + "'";
    context.reads = &state.reads[definition.get()];
    checker.check(*definition->value, context);
  }
  for (auto &initial : model.initials) {
    TimeContext context;
    context.what = "initial value '" + initial->name + (initial->isAtEnd ? "[last+1]'" : "[0]'");
    // An initial value is part of its state's computation: its reads are the state's.
    if (initial->target)
      context.reads = &state.reads[initial->target];
    checker.check(*initial->value, context);
  }
  for (auto &clause : model.generates) {
    TimeContext context;
    context.axis = state.findAxis(clause->indexAxis) ? clause->indexAxis : "";
    context.what = "generate '" + clause->name + "[" + clause->indexAxis +
                   (clause->isNextStep ? "+1]'" : "]'");
    context.reads = &state.generateReads[clause.get()];
    context.allowsArgmax = true;
    checker.check(*clause->value, context);
  }
  if (model.loss) {
    TimeContext context;
    context.what = "the loss";
    checker.check(*model.loss->value, context);
  }
}

} // namespace rnnc::frontend
