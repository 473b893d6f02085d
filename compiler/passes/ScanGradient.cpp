#include "compiler/passes/ScanGradient.h"

#include "compiler/passes/DCE.h"
#include "compiler/passes/GradientWalk.h"

#include <unordered_map>
#include <unordered_set>

namespace rnnc::passes {

using ir::Block;
using ir::Op;
using ir::OpKind;
using ir::Type;
using ir::Value;

namespace {

/// The gradient body while it is being built: a detached block whose arguments are created as
/// they are discovered, each with the outer value that will feed it. It becomes the body of the
/// gradient scan once every argument is known.
struct StagingBody {
  Block block;
  // One entry per staging argument, in creation order.
  struct Argument {
    Value *value;
    enum class Group { Carry, Step, Static } group;
    Value *outer; ///< The outer operand (carries: the initial value).
  };
  std::vector<Argument> arguments;

  Value *add(Type type, Argument::Group group, Value *outer, const std::string &name) {
    Value *value = block.addArgument(std::move(type));
    value->setNameHint(name);
    arguments.push_back({value, group, outer});
    return value;
  }
};

bool isUsedIn(const Block &block, const Value *value) {
  bool used = false;
  block.walk([&](Op &op) {
    for (Value *operand : op.operands())
      used = used || operand == value;
  });
  return used;
}

/// Values of `primal` that depend only on `invariantArgs` and constants: the gradient body
/// recomputes them instead of saving them per step.
std::unordered_set<const Value *>
invariantValues(const std::vector<Op *> &primal,
                const std::unordered_set<const Value *> &invariantArgs) {
  std::unordered_set<const Value *> invariant = invariantArgs;
  for (Op *op : primal) {
    bool all = true;
    for (Value *operand : op->operands())
      all = all && invariant.count(operand);
    if (all)
      for (size_t i = 0; i < op->numResults(); ++i)
        invariant.insert(op->result(i));
  }
  return invariant;
}

/// Adds per-step outputs to a forward scan (rebuilding its yield) and returns, for each value of
/// its body, the result sequence that carries it, reusing existing outputs.
class ScanOutputs {
public:
  explicit ScanOutputs(Op &scan) : scan_(scan) {}

  /// The per-step sequence of body value `value`; `reused` says whether it already existed.
  Value *sequenceOf(Value *value, bool &reused) {
    Op *yield = scan_.body()->terminator();
    for (size_t i = scan_.numCarries(); i < yield->numOperands(); ++i)
      if (yield->operand(i) == value) {
        reused = true;
        return scan_.result(i - scan_.numCarries());
      }
    reused = false;
    std::vector<Value *> operands = yield->operands();
    operands.push_back(value);
    auto newYield = std::make_unique<Op>(OpKind::Yield, std::move(operands), yield->attrs(),
                                         yield->location());
    scan_.body()->erase(yield);
    scan_.body()->append(std::move(newYield));
    Value *sequence = scan_.addResult(value->type().sequenceOver(scan_.stringAttr("axis")));
    sequence->setNameHint(value->nameHint());
    return sequence;
  }

private:
  Op &scan_;
};

} // namespace

Expected<std::vector<Value *>>
differentiateScan(Op &scan, const std::vector<Value *> &resultGradients,
                  const std::vector<bool> &operandNeedsGradient, ir::Builder &builder,
                  const AutodiffOptions &options, ScanGradientReport &report) {
  using Group = StagingBody::Argument::Group;
  const Block &body = *scan.body();
  const Op &yield = *body.terminator();
  const size_t carries = scan.numCarries(), steps = scan.numSteps();
  const std::string axis = scan.stringAttr("axis");
  const bool reverse = scan.isReverse();
  report.location = scan.location();
  report.axis = axis;
  report.reverse = reverse;

  // 1. Staging arguments for what the backward body may read, and the primal clone.
  StagingBody staging;
  ir::ValueMapping primalOf;
  std::vector<Value *> carryGradients(carries, nullptr);
  std::unordered_set<const Value *> sources, invariantArgs;
  for (size_t i = 0; i < carries; ++i) {
    const Value *carry = body.argument(i);
    if (carry->type().isReal()) {
      carryGradients[i] = staging.add(carry->type(), Group::Carry,
                                      builder.constant(0.0, carry->type()), gradientName(carry));
      report.carriedBytes += carry->type().numElements() * 4;
    }
  }
  Value *counter = nullptr;
  if (options.truncate > 0)
    counter = staging.add(Type::scalar(), Group::Carry, builder.constant(0.0, Type::scalar()),
                          "steps_run");
  std::vector<Value *> outputGradients;
  for (size_t m = 0; m < resultGradients.size(); ++m) {
    Value *gradient = resultGradients[m];
    outputGradients.push_back(gradient ? staging.add(gradient->type().stepType(), Group::Step,
                                                     gradient, gradientName(scan.result(m)))
                                       : nullptr);
  }
  // Primal arguments: carries are fed later (by residuals), steps and statics directly.
  std::vector<Value *> carryIns;
  for (size_t i = 0; i < body.numArguments(); ++i) {
    const Value *argument = body.argument(i);
    Value *staged;
    if (i < carries) {
      staged = staging.block.addArgument(argument->type()); // replaced by a residual below
      staged->setNameHint(argument->nameHint());
      carryIns.push_back(staged);
      sources.insert(staged);
    } else {
      bool isStep = i < carries + steps;
      staged = staging.add(argument->type(), isStep ? Group::Step : Group::Static,
                           scan.operand(i), argument->nameHint());
      if (operandNeedsGradient[i])
        sources.insert(staged);
      if (!isStep)
        invariantArgs.insert(staged);
    }
    primalOf[argument] = staged;
  }
  cloneOpsInto(body, staging.block, primalOf);
  staging.block.erase(staging.block.terminator());
  std::vector<Op *> primal;
  for (const auto &op : staging.block.ops())
    primal.push_back(op.get());

  // 2. The reverse walk over the primal clone, seeded by the carried and per-step gradients.
  ir::Builder body_builder(staging.block);
  body_builder.setLocation(scan.location());
  GradientWalk walk(body_builder, primal, sources,
                    [](Op &nested, auto &, auto &, ir::Builder &) -> Expected<std::vector<Value *>> {
                      return Error::user(nested.location().str() +
                                         ": error: a scan inside a scan body has no gradient");
                    });
  for (size_t i = 0; i < carries; ++i)
    walk.accumulate(primalOf.at(yield.operand(i)), carryGradients[i]);
  for (size_t m = 0; m < outputGradients.size(); ++m)
    walk.accumulate(primalOf.at(yield.operand(carries + m)), outputGradients[m]);
  if (Status status = walk.run(); !status)
    return status.takeError();

  body_builder.setLocation(scan.location());
  std::vector<Value *> carryInGradients;
  for (Value *carryIn : carryIns)
    carryInGradients.push_back(walk.gradientOf(carryIn));

  // 3. Truncation: after the K-th step run since the last reset, the carried gradients restart
  // from zero (counts are small integers, exact in f32).
  std::vector<Value *> nextCarries;
  if (counter) {
    Value *count = body_builder.create(OpKind::Add, {counter, body_builder.constant(1.0, Type::scalar())});
    Value *threshold = body_builder.constant(static_cast<double>(options.truncate) - 0.5, Type::scalar());
    Value *reset = body_builder.create(OpKind::Step, {body_builder.create(OpKind::Sub, {count, threshold})});
    Value *keep = body_builder.create(OpKind::Sub, {body_builder.constant(1.0, Type::scalar()), reset});
    for (Value *&gradient : carryInGradients)
      if (gradient)
        gradient = body_builder.create(OpKind::Mul, {gradient, keep});
    for (size_t i = 0; i < carries; ++i)
      if (carryGradients[i])
        nextCarries.push_back(carryInGradients[i] ? carryInGradients[i]
                                                  : body_builder.constant(0.0, carryGradients[i]->type()));
    nextCarries.push_back(body_builder.create(OpKind::Mul, {count, keep}));
  } else {
    for (size_t i = 0; i < carries; ++i)
      if (carryGradients[i])
        nextCarries.push_back(carryInGradients[i] ? carryInGradients[i]
                                                  : body_builder.constant(0.0, carryGradients[i]->type()));
  }

  // Per-step outputs: step-input gradients, static contributions, carry-init gradients.
  enum class Use { StepInput, Static, CarryInit };
  struct StepOutput {
    Use use;
    size_t operandIndex;
    Value *value;
  };
  std::vector<StepOutput> stepOutputs;
  for (size_t i = carries; i < scan.numOperands(); ++i)
    if (operandNeedsGradient[i])
      if (Value *gradient = walk.gradientOf(primalOf.at(body.argument(i))))
        stepOutputs.push_back({i < carries + steps ? Use::StepInput : Use::Static, i, gradient});
  for (size_t i = 0; i < carries; ++i)
    if (operandNeedsGradient[i] && carryInGradients[i])
      stepOutputs.push_back({Use::CarryInit, i, carryInGradients[i]});
  std::vector<Value *> yielded = nextCarries;
  for (const StepOutput &output : stepOutputs)
    yielded.push_back(output.value);
  body_builder.createSink(OpKind::Yield, yielded,
                          {{"carries", static_cast<int64_t>(nextCarries.size())}});
  if (Status status = body_builder.status(); !status)
    return status.takeError();

  // 4. Residuals: primal values the gradient ops read become per-step inputs, except values
  // recomputed from statics (and, with checkpointing, everything but the carried state).
  std::unordered_set<const Value *> primalValues(sources.begin(), sources.end());
  for (Op *op : primal)
    for (size_t i = 0; i < op->numResults(); ++i)
      primalValues.insert(op->result(i));
  for (Value *carryIn : carryIns)
    primalValues.insert(carryIn);
  auto invariant = invariantValues(primal, invariantArgs);
  std::unordered_map<const Value *, const Value *> forwardOf;
  for (const auto &[forward, staged] : primalOf)
    forwardOf[staged] = forward;
  std::unordered_set<const Op *> primalOps(primal.begin(), primal.end());
  std::unordered_map<Value *, Value *> residualArgs; // primal value -> staging argument
  ScanOutputs forwardOutputs(scan);
  std::vector<Value *> carryInSequences(carries, nullptr);
  auto residualFor = [&](Value *value) -> Value * {
    auto found = residualArgs.find(value);
    if (found != residualArgs.end())
      return found->second;
    const Value *forward = forwardOf.at(value);
    Value *sequence = nullptr;
    bool reused = false;
    for (size_t i = 0; i < carries; ++i)
      if (value == carryIns[i]) {
        // c(t−1) is the shift of the per-step c(t), initialised by the carry's initial value.
        Value *next = sequenceOf(forwardOutputs, yield.operand(i), reused);
        sequence = builder.create(OpKind::Shift, {next, scan.operand(i)},
                                  {{"direction", std::string(reverse ? "reverse" : "forward")}});
        sequence->setNameHint(forward->nameHint());
        report.residuals.push_back({forward->nameHint(), forward->type(), reused});
      }
    if (!sequence) {
      sequence = forwardOutputs.sequenceOf(const_cast<Value *>(forward), reused);
      report.residuals.push_back({forward->nameHint(), forward->type(), reused});
    }
    Value *argument = staging.add(value->type(), Group::Step, sequence, value->nameHint());
    residualArgs[value] = argument;
    return argument;
  };
  (void)carryInSequences;
  for (const auto &op : staging.block.ops()) {
    if (primalOps.count(op.get()))
      continue;
    for (size_t i = 0; i < op->numOperands(); ++i) {
      Value *operand = op->operand(i);
      if (!primalValues.count(operand) || invariant.count(operand) ||
          operand->isBlockArgument() && std::find(carryIns.begin(), carryIns.end(), operand) == carryIns.end())
        continue;
      bool isCarry = std::find(carryIns.begin(), carryIns.end(), operand) != carryIns.end();
      if (options.checkpoint > 0 && !isCarry)
        continue; // rematerialised from the carried state
      op->setOperand(i, residualFor(operand));
    }
  }
  // With checkpointing, the primal clone reads the carried state from a residual too.
  if (options.checkpoint > 0)
    for (Value *carryIn : carryIns)
      if (isUsedIn(staging.block, carryIn))
        staging.block.replaceAllUsesWith(carryIn, residualFor(carryIn));
  removeDeadOps(staging.block);

  // 5. The gradient scan: every staging argument that is read (carries always) in group order.
  std::vector<Value *> groups[3];
  std::vector<const Value *> order[3];
  for (const auto &argument : staging.arguments) {
    if (argument.group != Group::Carry && !isUsedIn(staging.block, argument.value))
      continue;
    groups[static_cast<int>(argument.group)].push_back(argument.outer);
    order[static_cast<int>(argument.group)].push_back(argument.value);
  }
  Op *gradientScan = builder.beginScan(axis, !reverse, groups[0], groups[1], groups[2]);
  ir::ValueMapping toScan;
  size_t position = 0;
  for (const auto &group : order)
    for (const Value *staged : group) {
      Value *argument = gradientScan->body()->argument(position++);
      argument->setNameHint(staged->nameHint());
      toScan[staged] = argument;
    }
  for (Value *carryIn : carryIns)
    if (isUsedIn(staging.block, carryIn))
      return Error::internal("scan gradient reads a carried state that has no residual");
  cloneOpsInto(staging.block, *gradientScan->body(), toScan);
  const Op &gradientYield = *gradientScan->body()->terminator();
  for (size_t i = gradientYield.intAttr("carries"); i < gradientYield.numOperands(); ++i) {
    Value *output = gradientYield.operand(i);
    gradientScan->addResult(output->type().sequenceOver(axis))->setNameHint(output->nameHint());
  }

  // 6. Operand gradients outside the gradient scan.
  std::vector<Value *> operandGradients(scan.numOperands(), nullptr);
  for (size_t k = 0; k < stepOutputs.size(); ++k) {
    Value *sequence = gradientScan->result(k);
    const StepOutput &output = stepOutputs[k];
    switch (output.use) {
    case Use::StepInput:
      operandGradients[output.operandIndex] = sequence;
      break;
    case Use::Static:
      operandGradients[output.operandIndex] = builder.create(OpKind::SumTime, {sequence});
      break;
    case Use::CarryInit:
      operandGradients[output.operandIndex] =
          builder.create(reverse ? OpKind::Last : OpKind::First, {sequence});
      break;
    }
  }
  if (Status status = builder.status(); !status)
    return status.takeError();
  return operandGradients;
}

} // namespace rnnc::passes
