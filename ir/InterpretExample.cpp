// The reference interpreter's walk over a graph for one example (docs/ir.md, "Semantics"):
// ops run in block order; an op outside a scan whose operands include sequences runs once per
// step with its static operands broadcast (time broadcasting); a scan runs its body once per step
// of the example's own length, forward or reverse; the ops on whole sequences (shift, last,
// first, sum_time, sum_outer, repeat, at_last, at_first, at_step, stack) are written out here.
#include "ir/InterpretExample.h"

#include "ir/TypeInference.h"
#include "ir/Verifier.h"

namespace rnnc::ir::interpret {

namespace {

template <typename Real> using Environment = std::unordered_map<const Value *, ValuePtr<Real>>;

template <typename Real> class ExampleWalker {
public:
  explicit ExampleWalker(const Example<Real> &example) : example_(example) {}

  /// Evaluates a graph's top-level block, recording the value of every output op.
  Status evaluateGraph(const Block &block) {
    Environment<Real> environment;
    for (const auto &op : block.ops())
      if (Status status = evaluateOp(*op, environment, StepContext{}); !status)
        return status;
    return Status::ok();
  }

  std::unordered_map<const Op *, ValuePtr<Real>> takeOutputs() { return std::move(outputs_); }

private:
  /// Evaluates one op and binds its results in `environment`. `position` is the scan step being
  /// run when the op is in a scan body, else step 0.
  Status evaluateOp(const Op &op, Environment<Real> &environment, const StepContext &position) {
    std::vector<ValuePtr<Real>> operands;
    for (Value *operand : op.operands()) {
      auto found = environment.find(operand);
      if (found == environment.end())
        return Error::internal(describeOp(op) + ": operand used before it is defined");
      operands.push_back(found->second);
    }
    switch (op.kind()) {
    case OpKind::Param:
    case OpKind::Input:
    case OpKind::Target: {
      auto leaf = example_.leaves.find(&op);
      if (leaf == example_.leaves.end())
        return Error::internal(describeOp(op) + ": no value for a leaf");
      environment[op.result()] = leaf->second;
      return Status::ok();
    }
    case OpKind::Output:
      if (position.step != 0)
        return Error::internal(describeOp(op) + ": 'output' inside a scan body");
      outputs_[&op] = operands[0];
      return Status::ok();
    case OpKind::Yield:
      return Error::internal(describeOp(op) + ": 'yield' outside the end of a scan body");
    case OpKind::Scan: {
      auto results = evaluateScan(op, operands);
      if (!results)
        return results.takeError();
      for (size_t i = 0; i < op.numResults(); ++i)
        environment[op.result(i)] = (*results)[i];
      return Status::ok();
    }
    default:
      break;
    }
    auto result = isWholeSequenceOp(op.kind()) ? evaluateSequenceOp(op, operands)
                                               : evaluateByStep(op, operands, position);
    if (!result)
      return result.takeError();
    environment[op.result()] = share(result.take());
    return Status::ok();
  }

  Expected<int64_t> axisLength(const Op &op, const std::string &axis) const {
    if (auto segments = parseSegmentAxis(axis)) { // ceil(L / K) segments
      auto length = axisLength(op, segments->base);
      if (!length)
        return length.takeError();
      return (*length + segments->factor - 1) / segments->factor;
    }
    auto found = example_.axisLengths.find(axis);
    if (found == example_.axisLengths.end())
      return Error::internal(describeOp(op) + ": no length for axis '" + axis + "'");
    return found->second;
  }

  int64_t primeLength(const std::string &axis) const {
    auto found = example_.primeLengths.find(axis);
    return found == example_.primeLengths.end() ? 0 : found->second;
  }

  /// A per-step op: once when every operand is static, else once per step (time broadcasting).
  Expected<RuntimeValue<Real>> evaluateByStep(const Op &op,
                                              const std::vector<ValuePtr<Real>> &operands,
                                              const StepContext &position) {
    StepContext context = position;
    context.rng = example_.rng;
    context.greedy = example_.greedy;
    std::vector<const Element<Real> *> stepOperands(operands.size());
    size_t steps = 0;
    for (const ValuePtr<Real> &operand : operands) {
      if (!operand->isSequence)
        continue;
      if (steps != 0 && operand->steps.size() != steps)
        return Error::internal(describeOp(op) + ": sequence operands of different lengths");
      steps = operand->steps.size();
    }
    if (steps == 0) {
      for (size_t i = 0; i < operands.size(); ++i)
        stepOperands[i] = &operands[i]->at(0);
      auto element = evaluateStepOp(op, stepOperands, context);
      if (!element)
        return element.takeError();
      return RuntimeValue<Real>::single(element.take());
    }
    RuntimeValue<Real> sequence{true, {}};
    context.primeLength = primeLength(op.result()->type().axis);
    for (size_t t = 0; t < steps; ++t) {
      for (size_t i = 0; i < operands.size(); ++i)
        stepOperands[i] = &operands[i]->at(t);
      context.step = static_cast<int64_t>(t) + 1;
      auto element = evaluateStepOp(op, stepOperands, context);
      if (!element)
        return element.takeError();
      sequence.steps.push_back(element.take());
    }
    return sequence;
  }

  /// The ops that read or build a whole sequence.
  Expected<RuntimeValue<Real>> evaluateSequenceOp(const Op &op,
                                                  const std::vector<ValuePtr<Real>> &operands) {
    const Type &resultType = op.result()->type();
    const RuntimeValue<Real> &first = *operands[0];
    if ((first.isSequence && first.steps.empty()) ||
        first.isSequence != op.operand(0)->type().isSequence())
      return Error::internal(describeOp(op) + ": operand does not match its type");
    const std::vector<Element<Real>> &steps = first.steps;
    switch (op.kind()) {
    case OpKind::Shift: {
      // forward: out[1] = init, out[t] = x[t-1]; reverse: out[L] = init, out[t] = x[t+1].
      RuntimeValue<Real> shifted{true, {}};
      const Element<Real> &init = operands[1]->at(0);
      if (op.directionAttr() == "reverse") {
        shifted.steps.assign(steps.begin() + 1, steps.end());
        shifted.steps.push_back(init);
      } else {
        shifted.steps.push_back(init);
        shifted.steps.insert(shifted.steps.end(), steps.begin(), steps.end() - 1);
      }
      return shifted;
    }
    case OpKind::Last:
      return RuntimeValue<Real>::single(steps.back());
    case OpKind::First:
      return RuntimeValue<Real>::single(steps.front());
    case OpKind::SumTime: {
      Element<Real> total = steps.front();
      for (size_t t = 1; t < steps.size(); ++t)
        total.real += steps[t].real;
      return RuntimeValue<Real>::single(std::move(total));
    }
    case OpKind::SumOuter: {
      const std::vector<Element<Real>> &right = operands[1]->steps;
      if (!operands[1]->isSequence || right.size() != steps.size())
        return Error::internal(describeOp(op) + ": sequence operands of different lengths");
      Matrix<Real> total = Matrix<Real>::Zero(steps.front().real.rows(), right.front().real.rows());
      for (size_t t = 0; t < steps.size(); ++t)
        total += steps[t].real * right[t].real.transpose();
      return RuntimeValue<Real>::single({std::move(total), 0});
    }
    case OpKind::AtStep: {
      int64_t index = op.indexAttr();
      if (index < 1 || index > static_cast<int64_t>(steps.size()))
        return Error::user(describeOp(op) + " reads step " + std::to_string(index) + " of axis '" +
                           op.operand(0)->type().axis + "', but the example has " +
                           std::to_string(steps.size()) + " steps");
      return RuntimeValue<Real>::single(steps[index - 1]);
    }
    case OpKind::Repeat:
    case OpKind::AtLast:
    case OpKind::AtFirst: {
      auto length = axisLength(op, resultType.axis);
      if (!length)
        return length.takeError();
      RuntimeValue<Real> sequence{true, {}};
      if (op.kind() == OpKind::Repeat) {
        sequence.steps.assign(*length, first.at(0));
        return sequence;
      }
      sequence.steps.assign(*length, zeroElement<Real>(resultType.stepType()));
      sequence.steps[op.kind() == OpKind::AtLast ? *length - 1 : 0] = first.at(0);
      return sequence;
    }
    case OpKind::Segment: {
      // Step j of the result is the phase-th step of segment j in the direction's order.
      int64_t factor = op.factorAttr(), phase = op.phaseAttr();
      int64_t length = static_cast<int64_t>(steps.size());
      RuntimeValue<Real> segments{true, {}};
      for (int64_t segment = 0; segment * factor < length; ++segment) {
        int64_t visit = segment * factor + phase - 1; // 0-based position in the scan's order
        segments.steps.push_back(visit < length ? steps[stepOfVisit(op, visit, length)]
                                                : zeroElement<Real>(resultType.stepType()));
      }
      return segments;
    }
    case OpKind::Unsegment: {
      auto length = axisLength(op, resultType.axis);
      if (!length)
        return length.takeError();
      int64_t factor = op.factorAttr();
      RuntimeValue<Real> sequence{true, std::vector<Element<Real>>(*length)};
      for (int64_t visit = 0; visit < *length; ++visit) {
        const RuntimeValue<Real> &phase = *operands[visit % factor];
        if (!phase.isSequence || static_cast<int64_t>(phase.steps.size()) <= visit / factor)
          return Error::internal(describeOp(op) + ": operand does not have the segment count");
        sequence.steps[stepOfVisit(op, visit, *length)] = phase.steps[visit / factor];
      }
      return sequence;
    }
    case OpKind::Stack: {
      auto length = axisLength(op, resultType.axis);
      if (!length)
        return length.takeError();
      if (*length != static_cast<int64_t>(operands.size()))
        return Error::user(describeOp(op) + " stacks " + std::to_string(operands.size()) +
                           " steps on axis '" + resultType.axis + "', but the example has " +
                           std::to_string(*length) + " steps");
      RuntimeValue<Real> sequence{true, {}};
      for (const ValuePtr<Real> &operand : operands)
        sequence.steps.push_back(operand->at(0));
      return sequence;
    }
    default:
      return Error::internal(describeOp(op) + ": not an op on whole sequences");
    }
  }

  /// The 0-based step visited `visit`-th by a scan in the direction of `op` over `length` steps.
  static size_t stepOfVisit(const Op &op, int64_t visit, int64_t length) {
    bool reverse = op.directionAttr() == "reverse";
    return static_cast<size_t>(reverse ? length - 1 - visit : visit);
  }

  /// Runs a scan body once per step of the example's length on the scan's axis.
  Expected<std::vector<ValuePtr<Real>>> evaluateScan(const Op &scan,
                                                     const std::vector<ValuePtr<Real>> &operands) {
    const std::string &axis = scan.axisAttr();
    auto length = axisLength(scan, axis);
    if (!length)
      return length.takeError();
    const Block &body = *scan.body();
    const Op *yield = body.terminator();
    size_t carries = scan.numCarries(), stepCount = scan.numSteps();
    if (!yield || body.numArguments() != operands.size() ||
        yield->numOperands() != carries + scan.numResults())
      return Error::internal(describeOp(scan) + ": malformed scan body");
    for (size_t i = carries; i < carries + stepCount; ++i)
      if (!operands[i]->isSequence || static_cast<int64_t>(operands[i]->steps.size()) != *length)
        return Error::internal(describeOp(scan) + ": step sequence " + std::to_string(i) +
                               " does not have the axis length");

    std::vector<ValuePtr<Real>> state(operands.begin(), operands.begin() + carries);
    // A result over a segment axis `axis/K` keeps the value of the first step of each segment
    // (in the scan's order), so it holds ceil(L / K) values: the checkpoints.
    std::vector<RuntimeValue<Real>> results(scan.numResults(), RuntimeValue<Real>{true, {}});
    std::vector<int64_t> strides(scan.numResults(), 0);
    for (size_t i = 0; i < results.size(); ++i) {
      auto segments = parseSegmentAxis(scan.result(i)->type().axis);
      strides[i] = segments && segments->base == axis ? segments->factor : 0;
      results[i].steps.resize(strides[i] ? (*length + strides[i] - 1) / strides[i] : *length);
    }
    StepContext position;
    position.primeLength = primeLength(axis);
    for (int64_t k = 0; k < *length; ++k) {
      int64_t t = scan.isReverse() ? *length - 1 - k : k;
      position.step = t + 1;
      Environment<Real> environment;
      for (size_t i = 0; i < operands.size(); ++i) {
        if (i < carries)
          environment[body.argument(i)] = state[i];
        else if (i < carries + stepCount)
          environment[body.argument(i)] = share(RuntimeValue<Real>::single(operands[i]->at(t)));
        else
          environment[body.argument(i)] = operands[i];
      }
      for (const auto &op : body.ops()) {
        if (op.get() == yield)
          break;
        if (Status status = evaluateOp(*op, environment, position); !status)
          return status.takeError();
      }
      std::vector<ValuePtr<Real>> yielded;
      for (Value *value : yield->operands()) {
        auto found = environment.find(value);
        if (found == environment.end())
          return Error::internal(describeOp(scan) + ": yield of an undefined value");
        yielded.push_back(found->second);
      }
      std::copy(yielded.begin(), yielded.begin() + carries, state.begin());
      for (size_t i = 0; i < results.size(); ++i) {
        if (!strides[i])
          results[i].steps[t] = yielded[carries + i]->at(0);
        else if (k % strides[i] == 0)
          results[i].steps[k / strides[i]] = yielded[carries + i]->at(0);
      }
    }
    std::vector<ValuePtr<Real>> shared;
    for (RuntimeValue<Real> &result : results)
      shared.push_back(share(std::move(result)));
    return shared;
  }

  const Example<Real> &example_;
  std::unordered_map<const Op *, ValuePtr<Real>> outputs_;
};

} // namespace

namespace {

Error malformed(const Op &op, const std::string &problem) {
  return Error::internal(describeOp(op) + ": " + problem + " (run the verifier)");
}

/// Inputs and targets may be of any type; the other leaves are static, and only a token
/// constant is a token.
Status checkLeafType(const Op &op) {
  const Type &type = op.result()->type();
  if (op.kind() == OpKind::Input || op.kind() == OpKind::Target)
    return Status::ok();
  if (!type.isSequence() && type.isToken() == (op.kind() == OpKind::TokenConstant))
    return Status::ok();
  return malformed(op, "a leaf of type " + type.str());
}

Status checkScan(const Op &scan);

Status checkBlock(const Block &block) {
  for (const auto &owned : block.ops()) {
    const Op &op = *owned;
    std::vector<Type> operandTypes;
    for (Value *operand : op.operands())
      operandTypes.push_back(operand->type());
    if (!attributeProblem(op.kind(), op.attrs()).empty())
      return malformed(op, "missing or mistyped attributes");
    switch (op.kind()) {
    case OpKind::Param:
    case OpKind::Input:
    case OpKind::Target:
    case OpKind::Constant:
    case OpKind::TokenConstant:
      if (op.numOperands() != 0 || op.numResults() != 1)
        return malformed(op, "a leaf needs no operand and one result");
      if (Status status = checkLeafType(op); !status)
        return status;
      if (op.kind() == OpKind::TokenConstant &&
          (op.tokenAttr() < 0 || op.tokenAttr() >= op.result()->type().vocab))
        return malformed(op, "token id outside the vocabulary");
      break;
    case OpKind::Broadcast: {
      if (op.numOperands() != 1 || op.numResults() != 1 || !operandTypes[0].isScalar() ||
          !op.result()->type().isReal() || op.result()->type().axis != operandTypes[0].axis)
        return malformed(op, "'broadcast' needs a real scalar and a real result on its axis");
      break;
    }
    case OpKind::Output:
      if (op.numOperands() != 1 || op.numResults() != 0)
        return malformed(op, "'output' needs one operand and no result");
      break;
    case OpKind::Yield:
      if (&op != block.terminator() || !block.parentOp())
        return malformed(op, "'yield' must end a scan body");
      break;
    case OpKind::Scan:
      if (Status status = checkScan(op); !status)
        return status;
      break;
    default: {
      auto type = inferResultType(op.kind(), operandTypes, op.attrs());
      if (!type)
        return malformed(op, type.error().message);
      if (op.numResults() != 1 || op.result()->type() != *type)
        return malformed(op, "the result type is not " + type->str());
    }
    }
  }
  return Status::ok();
}

Status checkScan(const Op &scan) {
  const Block *body = scan.body();
  if (!body || !body->terminator() || body->numArguments() != scan.numOperands() ||
      scan.numCarries() + scan.numSteps() > scan.numOperands())
    return malformed(scan, "the body does not match the operands");
  const std::string &axis = scan.axisAttr();
  size_t carries = scan.numCarries(), steps = scan.numSteps();
  for (size_t i = 0; i < scan.numOperands(); ++i) {
    const Type &operand = scan.operand(i)->type();
    bool isStep = i >= carries && i < carries + steps;
    if (isStep ? operand.axis != axis : operand.isSequence())
      return malformed(scan, "operand " + std::to_string(i) + " has type " + operand.str());
    if (body->argument(i)->type() != operand.stepType())
      return malformed(scan, "body argument " + std::to_string(i) + " does not match its operand");
  }
  const Op &yield = *body->terminator();
  if (yield.numOperands() != carries + scan.numResults())
    return malformed(scan, "the yield does not match the carries and results");
  for (size_t i = 0; i < yield.numOperands(); ++i) {
    const Type &yielded = yield.operand(i)->type();
    const Type &expected =
        i < carries ? body->argument(i)->type() : scan.result(i - carries)->type().stepType();
    auto segments =
        i >= carries ? parseSegmentAxis(scan.result(i - carries)->type().axis) : std::nullopt;
    bool onAxis = i < carries || scan.result(i - carries)->type().axis == axis ||
                  (segments && segments->base == axis);
    if (yielded != expected || !onAxis)
      return malformed(scan, "yielded value " + std::to_string(i) + " has type " + yielded.str());
  }
  return checkBlock(*body);
}

} // namespace

Status checkInterpretable(const Graph &graph) { return checkBlock(graph.body()); }

template <typename Real>
Expected<std::unordered_map<const Op *, ValuePtr<Real>>>
evaluateExample(const Graph &graph, const Example<Real> &example) {
  ExampleWalker<Real> walker(example);
  if (Status status = walker.evaluateGraph(graph.body()); !status)
    return status.takeError();
  return walker.takeOutputs();
}

template Expected<std::unordered_map<const Op *, ValuePtr<float>>>
evaluateExample<float>(const Graph &, const Example<float> &);
template Expected<std::unordered_map<const Op *, ValuePtr<double>>>
evaluateExample<double>(const Graph &, const Example<double> &);

} // namespace rnnc::ir::interpret
