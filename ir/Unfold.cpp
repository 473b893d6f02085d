// Unrolls every time axis of a graph to a fixed number of steps; see Unfold.h.
#include "ir/Unfold.h"

#include "ir/Printer.h"

#include <map>
#include <optional>

namespace rnnc::ir {

namespace {

constexpr const char *feedProblem =
    "'feed' cannot be unfolded: the prime's length is a run-time value";

std::string stepHint(const std::string &hint, int64_t step) {
  return hint.empty() ? hint : hint + "_" + std::to_string(step);
}

class Unfolder {
public:
  Unfolder(int64_t steps, Block &out) : steps_(steps), out_(out) {}

  Status run(const Block &source) {
    for (const auto &op : source.ops())
      if (Status status = unfoldOp(*op); !status)
        return status;
    return Status::ok();
  }

private:
  static Error fail(const Op &op, const std::string &message) {
    return Error::user("unfold: " + op.location().str() + ": " + message +
                       "\n  in: " + printOp(op));
  }

  /// A value at a 1-based step: the step's copy for a sequence, the value itself otherwise.
  Value *at(const Value *value, int64_t step) const {
    if (value->type().isSequence())
      return stepsOf_.at(value)[static_cast<size_t>(step - 1)];
    return static_.at(value);
  }

  Op *emit(const Op &original, OpKind kind, std::vector<Value *> operands, Attributes attrs) {
    return out_.append(
        std::make_unique<Op>(kind, std::move(operands), std::move(attrs), original.location()));
  }

  Value *emitValue(const Op &original, OpKind kind, std::vector<Value *> operands, Attributes attrs,
                   Type type, const std::string &hint) {
    Value *result = emit(original, kind, std::move(operands), std::move(attrs))->addResult(type);
    result->setNameHint(hint);
    return result;
  }

  /// One `constant 0` per type, shared by every at_last/at_first of the graph.
  Value *zeros(const Op &original, const Type &type) {
    Value *&zero = zeros_[type.str()];
    if (!zero)
      zero = emitValue(original, OpKind::Constant, {}, {{"value", 0.0}}, type, "");
    return zero;
  }

  /// Records the N step values of a sequence result.
  void defineSteps(const Value *sequence, std::vector<Value *> values) {
    stepsOf_[sequence] = std::move(values);
  }

  /// Segment axes (checkpointing) would need a step count per axis; they are not unfolded yet.
  static bool usesSegmentAxis(const Op &op) {
    for (size_t i = 0; i < op.numResults(); ++i)
      if (parseSegmentAxis(op.result(i)->type().axis))
        return true;
    for (const Value *operand : op.operands()) // unsegment
      if (parseSegmentAxis(operand->type().axis))
        return true;
    return op.kind() == OpKind::Scan && parseSegmentAxis(op.axisAttr());
  }

  Status unfoldOp(const Op &op) {
    if (usesSegmentAxis(op))
      return fail(op, "a sequence over a segment axis (a checkpointed backward) cannot be "
                      "unfolded; unfold without --checkpoint");
    switch (op.kind()) {
    case OpKind::Input:
    case OpKind::Target:
      return unfoldLeaf(op);
    case OpKind::Scan:
      return unfoldScan(op);
    case OpKind::Feed:
      return fail(op, feedProblem);
    case OpKind::Output:
      return unfoldOutput(op);
    default:
      return isWholeSequenceOp(op.kind()) ? unfoldTimeOp(op) : unfoldPerStep(op);
    }
  }

  Status unfoldLeaf(const Op &op) {
    const Value *original = op.result();
    Value *leaf = emitValue(op, op.kind(), {}, op.attrs(), original->type(), original->nameHint());
    if (!original->type().isSequence()) {
      static_[original] = leaf;
      return Status::ok();
    }
    std::vector<Value *> values;
    for (int64_t step = 1; step <= steps_; ++step)
      values.push_back(emitValue(op, OpKind::AtStep, {leaf}, {{"index", step}},
                                 original->type().stepType(),
                                 stepHint(original->nameHint(), step)));
    defineSteps(original, std::move(values));
    return Status::ok();
  }

  /// Any op without time structure: copied once if static, once per step if its result is a
  /// sequence (sequence operands read at that step, static ones shared).
  Status unfoldPerStep(const Op &op) {
    const Value *original = op.result();
    auto operandsAt = [&](int64_t step) {
      std::vector<Value *> operands;
      for (const Value *operand : op.operands())
        operands.push_back(at(operand, step));
      return operands;
    };
    if (!original->type().isSequence()) {
      static_[original] = emitValue(op, op.kind(), operandsAt(1), op.attrs(), original->type(),
                                    original->nameHint());
      return Status::ok();
    }
    std::vector<Value *> values;
    for (int64_t step = 1; step <= steps_; ++step)
      values.push_back(emitValue(op, op.kind(), operandsAt(step), op.attrs(),
                                 original->type().stepType(),
                                 stepHint(original->nameHint(), step)));
    defineSteps(original, std::move(values));
    return Status::ok();
  }

  Status unfoldOutput(const Op &op) {
    const Value *operand = op.operand(0);
    Value *value = operand->type().isSequence() ? nullptr : static_.at(operand);
    if (!value)
      value = emitValue(op, OpKind::Stack, stepsOf_.at(operand), {{"axis", operand->type().axis}},
                        operand->type(), operand->nameHint());
    emit(op, OpKind::Output, {value}, op.attrs());
    return Status::ok();
  }

  Status unfoldTimeOp(const Op &op) {
    const Value *operand = op.operand(0), *result = op.result();
    auto stepOf = [&](int64_t step) { return stepsOf_.at(operand)[static_cast<size_t>(step - 1)]; };
    switch (op.kind()) {
    case OpKind::Last:
      static_[result] = stepOf(steps_);
      return Status::ok();
    case OpKind::First:
      static_[result] = stepOf(1);
      return Status::ok();
    case OpKind::AtStep: {
      int64_t index = op.indexAttr();
      if (index > steps_)
        return fail(op, "step " + std::to_string(index) + " is beyond the " +
                            std::to_string(steps_) + " unfolded steps");
      static_[result] = stepOf(index);
      return Status::ok();
    }
    case OpKind::SumTime: {
      Value *sum = stepOf(1);
      for (int64_t step = 2; step <= steps_; ++step)
        sum = emitValue(op, OpKind::Add, {sum, stepOf(step)}, {}, result->type(),
                        step == steps_ ? result->nameHint() : "");
      static_[result] = sum;
      return Status::ok();
    }
    case OpKind::SumOuter: {
      const std::vector<Value *> &right = stepsOf_.at(op.operand(1));
      Value *sum = nullptr;
      for (int64_t step = 1; step <= steps_; ++step) {
        Value *product =
            emitValue(op, OpKind::Outer, {stepOf(step), right[step - 1]}, {}, result->type(), "");
        sum = sum ? emitValue(op, OpKind::Add, {sum, product}, {}, result->type(),
                              step == steps_ ? result->nameHint() : "")
                  : product;
      }
      static_[result] = sum;
      return Status::ok();
    }
    case OpKind::Stack:
      if (static_cast<int64_t>(op.numOperands()) != steps_)
        return fail(op, "a stack of " + std::to_string(op.numOperands()) +
                            " steps cannot be unfolded to " + std::to_string(steps_));
      defineSteps(result, {});
      for (const Value *step : op.operands())
        stepsOf_[result].push_back(static_.at(step));
      return Status::ok();
    default:
      break;
    }
    // The rest build a sequence from one step of another or from a static value.
    std::vector<Value *> values;
    for (int64_t step = 1; step <= steps_; ++step) {
      switch (op.kind()) {
      case OpKind::Shift: {
        bool reverse = op.directionAttr() == "reverse";
        int64_t from = reverse ? step + 1 : step - 1;
        values.push_back(from < 1 || from > steps_ ? static_.at(op.operand(1)) : stepOf(from));
        break;
      }
      case OpKind::Repeat:
        values.push_back(static_.at(operand));
        break;
      default: { // at_last, at_first
        int64_t valueStep = op.kind() == OpKind::AtLast ? steps_ : 1;
        values.push_back(step == valueStep ? static_.at(operand)
                                           : zeros(op, result->type().stepType()));
        break;
      }
      }
    }
    defineSteps(result, std::move(values));
    return Status::ok();
  }

  /// Inlines the body once per step, threading the carries.
  Status unfoldScan(const Op &scan) {
    const Block &body = *scan.body();
    size_t carries = scan.numCarries();
    std::vector<Value *> carried;
    for (const Value *init : scan.carryInits())
      carried.push_back(static_.at(init));
    std::vector<std::vector<Value *>> outputs(scan.numResults(),
                                              std::vector<Value *>(static_cast<size_t>(steps_)));
    for (int64_t i = 0; i < steps_; ++i) {
      int64_t step = scan.isReverse() ? steps_ - i : i + 1;
      ValueMapping mapping;
      for (size_t a = 0; a < body.numArguments(); ++a) {
        const Value *operand = scan.operand(a);
        mapping[body.argument(a)] = a < carries ? carried[a] : at(operand, step);
      }
      for (const auto &bodyOp : body.ops()) {
        if (bodyOp->kind() == OpKind::Yield)
          break;
        if (bodyOp->kind() == OpKind::Scan)
          return fail(*bodyOp, "a scan nested in a scan body cannot be unfolded");
        if (bodyOp->kind() == OpKind::Feed)
          return fail(*bodyOp, feedProblem);
        std::vector<Value *> operands;
        for (const Value *operand : bodyOp->operands())
          operands.push_back(mapping.at(operand));
        const Value *original = bodyOp->result();
        mapping[original] = emitValue(*bodyOp, bodyOp->kind(), std::move(operands), bodyOp->attrs(),
                                      original->type(), stepHint(original->nameHint(), step));
      }
      const Op &yield = *body.terminator();
      for (size_t c = 0; c < carries; ++c)
        carried[c] = mapping.at(yield.operand(c));
      for (size_t r = 0; r < scan.numResults(); ++r) {
        const Value *yielded = yield.operand(carries + r);
        Value *value = mapping.at(yielded);
        // Name a step computed in this body after the scan's result (h_3, not hn_3).
        if (!yielded->isBlockArgument() && !scan.result(r)->nameHint().empty())
          value->setNameHint(stepHint(scan.result(r)->nameHint(), step));
        outputs[r][static_cast<size_t>(step - 1)] = value;
      }
    }
    for (size_t r = 0; r < scan.numResults(); ++r)
      defineSteps(scan.result(r), std::move(outputs[r]));
    return Status::ok();
  }

  int64_t steps_;
  Block &out_;
  /// The N step values of every sequence value of the source graph (memoised: each once).
  std::unordered_map<const Value *, std::vector<Value *>> stepsOf_;
  /// The copy of every static value of the source graph.
  ValueMapping static_;
  std::map<std::string, Value *> zeros_;
};

} // namespace

Status unfoldGraph(const Graph &source, int64_t steps, Graph &unfolded) {
  if (steps < 1)
    return Error::user("unfold: the number of steps must be >= 1, got " + std::to_string(steps));
  return Unfolder(steps, unfolded.body()).run(source.body());
}

Expected<std::unique_ptr<Module>> unfoldModule(const Module &module, int64_t steps,
                                               std::vector<SkippedGraph> *skipped) {
  auto unfolded = std::make_unique<Module>(module.name());
  unfolded->dims() = module.dims();
  std::optional<Error> firstError;
  for (const auto &graph : module.graphs()) {
    Status status = unfoldGraph(*graph, steps, unfolded->addGraph(graph->name()));
    if (status)
      continue;
    if (!skipped || status.error().kind != ErrorKind::User)
      return status.takeError();
    if (!firstError)
      firstError = status.error();
    unfolded->removeGraph(graph->name());
    skipped->push_back({graph->name(), status.error().message});
  }
  if (unfolded->graphs().empty() && firstError) // nothing left: the first graph's error
    return *firstError;
  return unfolded;
}

} // namespace rnnc::ir
