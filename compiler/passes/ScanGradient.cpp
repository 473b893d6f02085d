#include "compiler/passes/ScanGradient.h"

#include "compiler/passes/DCE.h"
#include "compiler/passes/ScanGradientSupport.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace rnnc::passes {

using ir::Block;
using ir::Op;
using ir::OpKind;
using ir::Type;
using ir::Value;

namespace {

std::unordered_set<const Value *> usedValues(const Block &block) {
  std::unordered_set<const Value *> used;
  block.walk([&](Op &op) { used.insert(op.operands().begin(), op.operands().end()); });
  return used;
}

bool isProduct(OpKind kind) { return kind == OpKind::MatMul || kind == OpKind::Outer; }

/// Adds per-step outputs to a forward scan (rebuilding its yield) and returns the result
/// sequence of a body value, reusing an existing output when the scan already yields it.
Value *perStepSequenceOf(Op &scan, Value *value, bool &reused) {
  Op *yield = scan.body()->terminator();
  for (size_t i = scan.numCarries(); i < yield->numOperands(); ++i)
    if (yield->operand(i) == value) {
      reused = true;
      return scan.result(i - scan.numCarries());
    }
  reused = false;
  std::vector<Value *> operands = yield->operands();
  operands.push_back(value);
  auto extended =
      std::make_unique<Op>(OpKind::Yield, std::move(operands), yield->attrs(), yield->location());
  scan.body()->erase(yield);
  scan.body()->append(std::move(extended));
  Value *sequence = scan.addResult(value->type().sequenceOver(scan.axisAttr()));
  sequence->setNameHint(value->nameHint());
  return sequence;
}

/// Builds the gradient scan of one forward scan. The backward body is first built in a detached
/// staging block whose arguments are created as they are discovered, each remembering the outer
/// value that will feed it; it becomes the gradient scan's body once every argument is known.
class ScanDifferentiator {
public:
  ScanDifferentiator(Op &scan, const std::vector<bool> &operandNeedsGradient, ir::Builder &outer,
                     const AutodiffOptions &options, ScanGradientReport &report)
      : scan_(scan), body_(*scan.body()), needs_(operandNeedsGradient), outer_(outer),
        inner_(staging_), options_(options), report_(report), carries_(scan.numCarries()),
        steps_(scan.numSteps()), reverse_(scan.isReverse()) {}

  Expected<std::vector<Value *>> run(const std::vector<Value *> &resultGradients) {
    report_.location = scan_.location();
    report_.axis = scan_.axisAttr();
    report_.reverse = reverse_;
    inner_.setLocation(scan_.location());
    stageArguments(resultGradients);
    clonePrimal();
    if (Status status = reverseSweep(); !status)
      return status.takeError();
    yieldGradients();
    if (Status status = inner_.status(); !status)
      return status.takeError();
    if (Status status = replacePrimalByResiduals(); !status)
      return status.takeError();
    std::vector<Value *> gradients = emitGradientScan();
    if (Status status = outer_.status(); !status)
      return status.takeError();
    return gradients;
  }

private:
  enum class Group { Carry, Step, Static }; // operand groups of the gradient scan
  struct StagedArgument {
    Value *value;
    Group group;
    Value *outer; ///< What feeds it: a step sequence, a static, or a carry's initial value.
  };
  /// What a per-step output of the gradient scan becomes outside.
  enum class Use { StepInput, Static, CarryInit };
  struct GradientOutput {
    Use use;
    size_t operandIndex;
    Value *value;
  };

  Value *stage(Type type, Group group, Value *outer, const std::string &name) {
    Value *value = staging_.addArgument(std::move(type));
    value->setNameHint(name);
    staged_.push_back({value, group, outer});
    return value;
  }

  bool isCarryIn(const Value *value) const {
    return std::find(carryIns_.begin(), carryIns_.end(), value) != carryIns_.end();
  }

  // 1. Arguments of the backward body: carried gradients (and the truncation counter), the
  // per-step output gradients, the forward step inputs and statics. The forward carried state
  // c(t−1) gets a placeholder that residuals replace.
  void stageArguments(const std::vector<Value *> &resultGradients) {
    carryGradients_.assign(carries_, nullptr);
    for (size_t i = 0; i < carries_; ++i) {
      const Value *carry = body_.argument(i);
      if (!carry->type().isReal())
        continue;
      // Named after the state it is the gradient of, as it arrives from the step after.
      const Value *state = carry->nameHint().empty() ? body_.terminator()->operand(i) : carry;
      std::string name = gradientName(state);
      carryGradients_[i] = stage(carry->type(), Group::Carry, outer_.constant(0.0, carry->type()),
                                 name.empty() ? name : name + "_next");
      report_.carriedBytes += carry->type().numElements() * 4;
    }
    if (options_.truncate > 0)
      stepsRun_ =
          stage(Type::scalar(), Group::Carry, outer_.constant(0.0, Type::scalar()), "steps_run");
    for (size_t m = 0; m < resultGradients.size(); ++m) {
      Value *gradient = resultGradients[m];
      outputGradients_.push_back(gradient ? stage(gradient->type().stepType(), Group::Step,
                                                  gradient, gradientName(scan_.result(m)))
                                          : nullptr);
    }
    for (size_t i = 0; i < body_.numArguments(); ++i) {
      const Value *argument = body_.argument(i);
      Value *staged;
      if (i < carries_) {
        staged = staging_.addArgument(argument->type());
        staged->setNameHint(argument->nameHint());
        carryIns_.push_back(staged);
        sources_.insert(staged);
      } else {
        bool isStep = i < carries_ + steps_;
        staged = stage(argument->type(), isStep ? Group::Step : Group::Static, scan_.operand(i),
                       argument->nameHint());
        if (needs_[i])
          sources_.insert(staged);
        recomputable_.insert(staged);
      }
      primalOf_[argument] = staged;
    }
  }

  // The forward body, cloned without its yield: the values the gradient rules read. Values that
  // do not depend on the carried state are recomputed by the backward rather than saved, except
  // matrix products (JAX's "save dots" policy: recompute what is cheap).
  void clonePrimal() {
    cloneOpsInto(body_, staging_, primalOf_);
    staging_.erase(staging_.terminator());
    for (const auto &op : staging_.ops()) {
      primal_.push_back(op.get());
      bool recomputable =
          !isProduct(op->kind()) &&
          std::all_of(op->operands().begin(), op->operands().end(),
                      [&](const Value *operand) { return recomputable_.count(operand); });
      if (recomputable)
        for (size_t i = 0; i < op->numResults(); ++i)
          recomputable_.insert(op->result(i));
    }
  }

  // 2. The generic reverse walk over the primal clone, seeded by the carried gradients (on the
  // next-carry values) and the per-step output gradients.
  Status reverseSweep() {
    const Op &yield = *body_.terminator();
    walk_.emplace(inner_, primal_, sources_, rejectNestedScan);
    for (size_t i = 0; i < carries_; ++i)
      walk_->accumulate(primalOf_.at(yield.operand(i)), carryGradients_[i]);
    for (size_t m = 0; m < outputGradients_.size(); ++m)
      walk_->accumulate(primalOf_.at(yield.operand(carries_ + m)), outputGradients_[m]);
    Status status = walk_->run();
    inner_.setLocation(scan_.location());
    return status;
  }

  // 3. The yield of the backward body: the carried gradients dc(t−1) (reset by truncation),
  // then per step: step-input gradients, static contributions, carry-init gradients.
  void yieldGradients() {
    std::vector<Value *> carryInGradients, initGradients;
    for (Value *carryIn : carryIns_)
      carryInGradients.push_back(walk_->gradientOf(carryIn));
    initGradients = carryInGradients; // the initial state belongs to the earliest chunk
    Value *nextStepsRun = nullptr;
    if (stepsRun_)
      nextStepsRun = cutCarriedGradients(inner_, carryInGradients, stepsRun_,
                                         inner_.constant(1.0, Type::scalar()), options_.truncate);
    std::vector<Value *> yielded;
    for (size_t i = 0; i < carries_; ++i)
      if (carryGradients_[i])
        yielded.push_back(carryInGradients[i] ? carryInGradients[i]
                                              : inner_.constant(0.0, carryGradients_[i]->type()));
    if (nextStepsRun)
      yielded.push_back(nextStepsRun);
    int64_t carried = static_cast<int64_t>(yielded.size());

    for (size_t i = carries_; i < scan_.numOperands(); ++i)
      if (needs_[i])
        if (Value *gradient = walk_->gradientOf(primalOf_.at(body_.argument(i))))
          outputs_.push_back({i < carries_ + steps_ ? Use::StepInput : Use::Static, i, gradient});
    for (size_t i = 0; i < carries_; ++i)
      if (needs_[i] && initGradients[i])
        outputs_.push_back({Use::CarryInit, i, initGradients[i]});
    for (const GradientOutput &output : outputs_)
      yielded.push_back(output.value);
    inner_.createSink(OpKind::Yield, yielded, {{"carries", carried}});
  }

  // 4. Every primal value a gradient op reads becomes a residual (a per-step input saved by the
  // forward scan), except recomputable ones (see clonePrimal). With checkpointing only the carried
  // state is saved and the primal clone stays.
  Status replacePrimalByResiduals() {
    nextCarryValues_.assign(body_.terminator()->operands().begin(),
                            body_.terminator()->operands().begin() + carries_);
    for (const auto &[forward, staged] : primalOf_)
      forwardOf_[staged] = const_cast<Value *>(forward);
    if (options_.checkpoint > 0) {
      for (Value *carryIn : carryIns_)
        if (usedValues(staging_).count(carryIn))
          staging_.replaceAllUsesWith(carryIn, residualFor(carryIn));
    } else {
      std::unordered_set<const Op *> primalOps(primal_.begin(), primal_.end());
      for (const auto &op : staging_.ops()) {
        if (primalOps.count(op.get()))
          continue;
        for (size_t i = 0; i < op->numOperands(); ++i) {
          Value *operand = op->operand(i);
          bool primalResult = operand->definingOp() && primalOps.count(operand->definingOp());
          if ((primalResult || isCarryIn(operand)) && !recomputable_.count(operand))
            op->setOperand(i, residualFor(operand));
        }
      }
    }
    removeDeadOps(staging_);
    auto used = usedValues(staging_);
    for (Value *carryIn : carryIns_)
      if (used.count(carryIn))
        return Error::internal("scan gradient reads a carried state that has no residual");
    return Status::ok();
  }

  /// The staging argument that replaces primal value `value`, saving its sequence in the
  /// forward scan. The carried state c(t−1) is the shift of the per-step c(t), initialised by
  /// the carry's initial value, so a state that is also an output is stored once.
  Value *residualFor(Value *value) {
    if (auto found = residualArgs_.find(value); found != residualArgs_.end())
      return found->second;
    Value *sequence;
    auto carry = std::find(carryIns_.begin(), carryIns_.end(), value);
    if (carry != carryIns_.end()) {
      size_t i = static_cast<size_t>(carry - carryIns_.begin());
      sequence =
          outer_.create(OpKind::Shift, {saveSequenceOf(nextCarryValues_[i]), scan_.operand(i)},
                        {{"direction", std::string(reverse_ ? "reverse" : "forward")}});
      sequence->setNameHint(value->nameHint());
    } else {
      sequence = saveSequenceOf(forwardOf_.at(value));
    }
    Value *argument = stage(value->type(), Group::Step, sequence, value->nameHint());
    residualArgs_[value] = argument;
    return argument;
  }

  Value *saveSequenceOf(Value *forward) {
    bool reused = false;
    Value *sequence = perStepSequenceOf(scan_, forward, reused);
    if (reported_.insert(forward).second)
      report_.residuals.push_back({forward->nameHint(), forward->type(), reused});
    return sequence;
  }

  // 5. The gradient scan, opposite direction, same axis: the staged arguments that are read
  // (carries always), in operand-group order; then the operand gradients outside it.
  std::vector<Value *> emitGradientScan() {
    auto used = usedValues(staging_);
    std::vector<Value *> operands[3];
    std::vector<const Value *> arguments[3];
    for (const StagedArgument &argument : staged_) {
      if (argument.group != Group::Carry && !used.count(argument.value))
        continue;
      operands[static_cast<int>(argument.group)].push_back(argument.outer);
      arguments[static_cast<int>(argument.group)].push_back(argument.value);
    }
    const std::string &axis = scan_.axisAttr();
    Op *gradientScan = outer_.beginScan(axis, !reverse_, operands[0], operands[1], operands[2]);
    ir::ValueMapping toScan;
    size_t position = 0;
    for (const auto &group : arguments)
      for (const Value *argument : group) {
        Value *scanArgument = gradientScan->body()->argument(position++);
        scanArgument->setNameHint(argument->nameHint());
        toScan[argument] = scanArgument;
      }
    cloneOpsInto(staging_, *gradientScan->body(), toScan);
    const Op &yield = *gradientScan->body()->terminator();
    for (size_t i = static_cast<size_t>(yield.carriesAttr()); i < yield.numOperands(); ++i) {
      Value *output = yield.operand(i);
      gradientScan->addResult(output->type().sequenceOver(axis))->setNameHint(output->nameHint());
    }

    std::vector<Value *> gradients(scan_.numOperands(), nullptr);
    for (size_t k = 0; k < outputs_.size(); ++k) {
      Value *sequence = gradientScan->result(k);
      const GradientOutput &output = outputs_[k];
      Value *&gradient = gradients[output.operandIndex];
      switch (output.use) {
      case Use::StepInput:
        gradient = sequence;
        break;
      case Use::Static:
        gradient = outer_.create(OpKind::SumTime, {sequence});
        break;
      case Use::CarryInit: // the value after the last step the gradient scan runs
        gradient = outer_.create(reverse_ ? OpKind::Last : OpKind::First, {sequence});
        break;
      }
    }
    return gradients;
  }

  Op &scan_;
  const Block &body_;
  const std::vector<bool> &needs_;
  ir::Builder &outer_;
  Block staging_;
  ir::Builder inner_;
  const AutodiffOptions &options_;
  ScanGradientReport &report_;
  const size_t carries_, steps_;
  const bool reverse_;

  std::vector<StagedArgument> staged_;
  std::vector<Value *> carryGradients_, outputGradients_, carryIns_, nextCarryValues_;
  Value *stepsRun_ = nullptr;
  ir::ValueMapping primalOf_; ///< forward body value -> staging value
  std::unordered_map<const Value *, Value *> forwardOf_, residualArgs_;
  std::unordered_set<const Value *> sources_, recomputable_, reported_;
  std::vector<Op *> primal_;
  std::optional<GradientWalk> walk_;
  std::vector<GradientOutput> outputs_;
};

} // namespace

Expected<std::vector<Value *>>
differentiateScan(Op &scan, const std::vector<Value *> &resultGradients,
                  const std::vector<bool> &operandNeedsGradient, ir::Builder &builder,
                  const AutodiffOptions &options, ScanGradientReport &report) {
  return ScanDifferentiator(scan, operandNeedsGradient, builder, options, report)
      .run(resultGradients);
}

} // namespace rnnc::passes
