#include "compiler/passes/CheckpointedScanGradient.h"

#include "compiler/passes/ScanGradientSupport.h"

namespace rnnc::passes {

using ir::Block;
using ir::Op;
using ir::OpKind;
using ir::Type;
using ir::Value;

namespace {

/// Builds the segment gradient scan of one forward scan (see the header for the schedule).
class CheckpointedScanDifferentiator {
public:
  CheckpointedScanDifferentiator(Op &scan, const std::vector<bool> &operandNeedsGradient,
                                 ir::Builder &outer, const AutodiffOptions &options,
                                 ScanGradientReport &report)
      : scan_(scan), forwardBody_(*scan.body()), needs_(operandNeedsGradient), outer_(outer),
        options_(options), report_(report), factor_(options.checkpoint),
        carries_(scan.numCarries()), steps_(scan.numSteps()), statics_(scan.numStatics()),
        direction_(scan.directionAttr()), axis_(scan.axisAttr()),
        segmentAxis_(ir::segmentAxisName(axis_, factor_)) {}

  Expected<std::vector<Value *>> run(const std::vector<Value *> &resultGradients) {
    report_.location = scan_.location();
    report_.axis = axis_;
    report_.reverse = scan_.isReverse();
    std::vector<Value *> checkpoints = saveCheckpoints();
    Op *gradientScan = beginGradientScan(checkpoints, resultGradients);
    Block &body = *gradientScan->body();
    ir::Builder inner(body);
    inner.setLocation(scan_.location());
    recomputeSegment(body);
    if (Status status = walkSegmentBackwards(inner); !status)
      return status.takeError();
    yieldGradients(inner, *gradientScan);
    if (Status status = inner.status(); !status)
      return status.takeError();
    std::vector<Value *> gradients = operandGradients(*gradientScan);
    if (Status status = outer_.status(); !status)
      return status.takeError();
    return gradients;
  }

private:
  /// The gradient scan's body arguments, by role.
  struct Arguments {
    std::vector<Value *> carriedGradients;             ///< Per carry; nullptr for a token carry.
    Value *stepsRun = nullptr;                         ///< The truncation counter.
    std::vector<Value *> checkpoints;                  ///< Per carry: c at the segment's start.
    std::vector<std::vector<Value *>> stepInputs;      ///< [phase][step operand]
    std::vector<std::vector<Value *>> outputGradients; ///< [phase][result]; nullptr: none
    std::vector<Value *> valid;   ///< [phase]: 1 within the example, 0 past it (truncate).
    std::vector<Value *> statics; ///< Per static operand.
  };

  // 1. The forward scan keeps its carried state c(t−1) at the first step of every segment: one
  // result per carry over the segment axis.
  std::vector<Value *> saveCheckpoints() {
    Op *yield = forwardBody_.terminator();
    std::vector<Value *> yielded = yield->operands();
    for (size_t i = 0; i < carries_; ++i)
      yielded.push_back(forwardBody_.argument(i));
    auto extended =
        std::make_unique<Op>(OpKind::Yield, std::move(yielded), yield->attrs(), yield->location());
    forwardBody_.erase(yield);
    forwardBody_.append(std::move(extended));
    std::vector<Value *> checkpoints;
    for (size_t i = 0; i < carries_; ++i) {
      const Value *carry = forwardBody_.argument(i);
      Value *checkpoint = scan_.addResult(carry->type().sequenceOver(segmentAxis_));
      checkpoint->setNameHint(carry->nameHint().empty() ? "" : carry->nameHint() + "_ck");
      checkpoints.push_back(checkpoint);
      report_.residuals.push_back({carry->nameHint(), carry->type(), false, factor_});
      if (carry->type().isReal())
        report_.carriedBytes += carry->type().numElements() * 4;
    }
    return checkpoints;
  }

  /// Phase `phase` of every segment of `sequence`, in the forward scan's order.
  Value *segmentOf(Value *sequence, int64_t phase) {
    Value *segments =
        outer_.create(OpKind::Segment, {sequence},
                      {{"factor", factor_}, {"phase", phase}, {"direction", direction_}});
    if (!sequence->nameHint().empty())
      segments->setNameHint(sequence->nameHint() + "_" + std::to_string(phase));
    return segments;
  }

  // 2. The gradient scan over the segments, its operands grouped as described by Arguments.
  Op *beginGradientScan(const std::vector<Value *> &checkpoints,
                        const std::vector<Value *> &resultGradients) {
    std::vector<Value *> carryInits, stepSequences = checkpoints, statics;
    for (size_t i = 0; i < carries_; ++i)
      if (const Type &type = forwardBody_.argument(i)->type(); type.isReal())
        carryInits.push_back(outer_.constant(0.0, type));
    if (options_.truncate > 0)
      carryInits.push_back(outer_.constant(0.0, Type::scalar()));
    Value *ones = nullptr;
    if (options_.truncate > 0)
      ones =
          outer_.create(OpKind::Repeat, {outer_.constant(1.0, Type::scalar())}, {{"axis", axis_}});
    for (int64_t phase = 1; phase <= factor_; ++phase) {
      for (size_t k = 0; k < steps_; ++k)
        stepSequences.push_back(segmentOf(scan_.operand(carries_ + k), phase));
      for (Value *gradient : resultGradients)
        if (gradient)
          stepSequences.push_back(segmentOf(gradient, phase));
      if (ones)
        stepSequences.push_back(segmentOf(ones, phase));
    }
    for (Value *value : scan_.staticOperands())
      statics.push_back(value);
    Op *gradientScan =
        outer_.beginScan(segmentAxis_, /*reverse=*/true, carryInits, stepSequences, statics);

    // Name the arguments and remember their roles.
    const Block &body = *gradientScan->body();
    size_t position = 0;
    auto next = [&](const std::string &name) {
      Value *argument = body.argument(position++);
      argument->setNameHint(name);
      return argument;
    };
    for (size_t i = 0; i < carries_; ++i) {
      const Value *carry = forwardBody_.argument(i);
      std::string name = gradientName(carry);
      args_.carriedGradients.push_back(
          carry->type().isReal() ? next(name.empty() ? name : name + "_next") : nullptr);
    }
    if (options_.truncate > 0)
      args_.stepsRun = next("steps_run");
    for (size_t i = 0; i < carries_; ++i)
      args_.checkpoints.push_back(next(forwardBody_.argument(i)->nameHint()));
    for (int64_t phase = 1; phase <= factor_; ++phase) {
      std::string suffix = "_" + std::to_string(phase);
      auto named = [&](const Value *value) {
        return value->nameHint().empty() ? "" : value->nameHint() + suffix;
      };
      args_.stepInputs.emplace_back();
      for (size_t k = 0; k < steps_; ++k)
        args_.stepInputs.back().push_back(next(named(forwardBody_.argument(carries_ + k))));
      args_.outputGradients.emplace_back();
      for (size_t m = 0; m < resultGradients.size(); ++m)
        args_.outputGradients.back().push_back(resultGradients[m] ? next(named(resultGradients[m]))
                                                                  : nullptr);
      if (options_.truncate > 0)
        args_.valid.push_back(next("valid" + suffix));
    }
    for (size_t s = 0; s < statics_; ++s)
      args_.statics.push_back(next(forwardBody_.argument(carries_ + steps_ + s)->nameHint()));
    return gradientScan;
  }

  // 3. The recomputed segment: K copies of the forward body, the carries of each feeding the
  // next, starting from the checkpoints.
  void recomputeSegment(Block &body) {
    const Op &yield = *forwardBody_.terminator();
    carryIn_.assign(1, args_.checkpoints);
    for (int64_t phase = 0; phase < factor_; ++phase) {
      ir::ValueMapping mapping;
      for (size_t i = 0; i < carries_; ++i)
        mapping[forwardBody_.argument(i)] = carryIn_[phase][i];
      for (size_t k = 0; k < steps_; ++k)
        mapping[forwardBody_.argument(carries_ + k)] = args_.stepInputs[phase][k];
      for (size_t s = 0; s < statics_; ++s)
        mapping[forwardBody_.argument(carries_ + steps_ + s)] = args_.statics[s];
      size_t first = body.ops().size();
      cloneOpsInto(forwardBody_, body, mapping);
      body.erase(body.terminator());
      phaseOps_.emplace_back();
      for (size_t k = first; k < body.ops().size(); ++k)
        phaseOps_.back().push_back(body.ops()[k].get());
      std::vector<Value *> carryOut, outputs;
      for (size_t i = 0; i < carries_; ++i)
        carryOut.push_back(mapping.at(yield.operand(i)));
      // The forward's own per-step outputs (the checkpoint results come after them).
      for (size_t m = 0; m < args_.outputGradients[phase].size(); ++m)
        outputs.push_back(mapping.at(yield.operand(carries_ + m)));
      carryIn_.push_back(std::move(carryOut));
      phaseOutputs_.push_back(std::move(outputs));
    }
  }

  // 4. The reverse walks, phase K first: each seeded by the carried gradient from the phase after
  // it and the phase's output gradients; truncation cuts the carried gradient between phases.
  Status walkSegmentBackwards(ir::Builder &inner) {
    std::vector<Value *> carried = args_.carriedGradients;
    Value *stepsRun = args_.stepsRun;
    stepGradients_.assign(factor_, std::vector<Value *>(steps_, nullptr));
    staticGradients_.assign(statics_, nullptr);
    for (int64_t phase = factor_ - 1; phase >= 0; --phase) {
      std::unordered_set<const Value *> sources(carryIn_[phase].begin(), carryIn_[phase].end());
      for (size_t k = 0; k < steps_; ++k)
        if (needs_[carries_ + k])
          sources.insert(args_.stepInputs[phase][k]);
      for (size_t s = 0; s < statics_; ++s)
        if (needs_[carries_ + steps_ + s])
          sources.insert(args_.statics[s]);
      GradientWalk walk(inner, phaseOps_[phase], sources, rejectNestedScan);
      for (size_t i = 0; i < carries_; ++i)
        if (carried[i])
          walk.accumulate(carryIn_[phase + 1][i], carried[i]);
      for (size_t m = 0; m < phaseOutputs_[phase].size(); ++m)
        if (Value *gradient = args_.outputGradients[phase][m])
          walk.accumulate(phaseOutputs_[phase][m], gradient);
      if (Status status = walk.run(); !status)
        return status;
      inner.setLocation(scan_.location());

      for (size_t k = 0; k < steps_; ++k)
        if (needs_[carries_ + k])
          stepGradients_[phase][k] = walk.gradientOf(args_.stepInputs[phase][k]);
      for (size_t s = 0; s < statics_; ++s)
        if (needs_[carries_ + steps_ + s])
          if (Value *gradient = walk.gradientOf(args_.statics[s]))
            staticGradients_[s] = staticGradients_[s]
                                      ? inner.create(OpKind::Add, {staticGradients_[s], gradient})
                                      : gradient;
      for (size_t i = 0; i < carries_; ++i) {
        if (!args_.carriedGradients[i])
          continue;
        carried[i] = walk.gradientOf(carryIn_[phase][i]);
        if (!carried[i])
          carried[i] = inner.constant(0.0, args_.carriedGradients[i]->type());
      }
      if (phase == 0)
        initGradients_ = carried; // the initial state belongs to the earliest chunk
      if (stepsRun)               // a padded phase (valid = 0) does not count
        stepsRun =
            cutCarriedGradients(inner, carried, stepsRun, args_.valid[phase], options_.truncate);
    }
    nextCarried_ = carried;
    nextStepsRun_ = stepsRun;
    return Status::ok();
  }

  /// What a per-segment output of the gradient scan becomes outside.
  enum class Use { StepInput, Static, CarryInit };
  struct GradientOutput {
    Use use;
    size_t operandIndex;
    size_t firstResult; ///< For StepInput: the first of K results (one per phase).
  };

  // 5. The yield: carried gradients (and counter), then per segment the phases' step-input
  // gradients, the statics' segment sums and the carries' gradients at the segment's start.
  void yieldGradients(ir::Builder &inner, Op &gradientScan) {
    std::vector<Value *> yielded;
    for (Value *gradient : nextCarried_)
      if (gradient)
        yielded.push_back(gradient);
    if (nextStepsRun_)
      yielded.push_back(nextStepsRun_);
    int64_t carried = static_cast<int64_t>(yielded.size());
    size_t results = 0;
    for (size_t k = 0; k < steps_; ++k) {
      bool any = false;
      for (int64_t phase = 0; phase < factor_; ++phase)
        any = any || stepGradients_[phase][k];
      if (!any)
        continue;
      outputs_.push_back({Use::StepInput, carries_ + k, results});
      for (int64_t phase = 0; phase < factor_; ++phase) {
        Value *gradient = stepGradients_[phase][k];
        yielded.push_back(gradient ? gradient
                                   : inner.constant(0.0, args_.stepInputs[phase][k]->type()));
      }
      results += static_cast<size_t>(factor_);
    }
    for (size_t s = 0; s < statics_; ++s)
      if (staticGradients_[s]) {
        if (staticGradients_[s]->nameHint().empty())
          staticGradients_[s]->setNameHint(gradientName(args_.statics[s]));
        outputs_.push_back({Use::Static, carries_ + steps_ + s, results++});
        yielded.push_back(staticGradients_[s]);
      }
    for (size_t i = 0; i < carries_; ++i)
      if (needs_[i] && initGradients_[i]) {
        outputs_.push_back({Use::CarryInit, i, results++});
        yielded.push_back(initGradients_[i]);
      }
    inner.createSink(OpKind::Yield, yielded, {{"carries", carried}});
    for (size_t r = static_cast<size_t>(carried); r < yielded.size(); ++r)
      gradientScan.addResult(yielded[r]->type().sequenceOver(segmentAxis_))
          ->setNameHint(yielded[r]->nameHint());
  }

  // 6. The operand gradients, outside the gradient scan.
  std::vector<Value *> operandGradients(Op &gradientScan) {
    std::vector<Value *> gradients(scan_.numOperands(), nullptr);
    for (const GradientOutput &output : outputs_) {
      Value *&gradient = gradients[output.operandIndex];
      switch (output.use) {
      case Use::StepInput: {
        std::vector<Value *> phases;
        for (int64_t phase = 0; phase < factor_; ++phase)
          phases.push_back(gradientScan.result(output.firstResult + static_cast<size_t>(phase)));
        gradient = outer_.create(OpKind::Unsegment, phases,
                                 {{"factor", factor_}, {"direction", direction_}});
        break;
      }
      case Use::Static:
        gradient = outer_.create(OpKind::SumTime, {gradientScan.result(output.firstResult)});
        break;
      case Use::CarryInit: // after segment 1, where the forward scan started
        gradient = outer_.create(OpKind::First, {gradientScan.result(output.firstResult)});
        break;
      }
    }
    return gradients;
  }

  Op &scan_;
  Block &forwardBody_;
  const std::vector<bool> &needs_;
  ir::Builder &outer_;
  const AutodiffOptions &options_;
  ScanGradientReport &report_;
  const int64_t factor_;
  const size_t carries_, steps_, statics_;
  const std::string direction_, axis_, segmentAxis_;

  Arguments args_;
  std::vector<std::vector<Value *>> carryIn_;      ///< [phase 0 … K][carry]: c entering a phase
  std::vector<std::vector<Op *>> phaseOps_;        ///< [phase]: the ops of its body copy
  std::vector<std::vector<Value *>> phaseOutputs_; ///< [phase][result]: its per-step outputs
  std::vector<std::vector<Value *>> stepGradients_;
  std::vector<Value *> staticGradients_, initGradients_, nextCarried_;
  Value *nextStepsRun_ = nullptr;
  std::vector<GradientOutput> outputs_;
};

} // namespace

Expected<std::vector<Value *>>
differentiateScanCheckpointed(Op &scan, const std::vector<Value *> &resultGradients,
                              const std::vector<bool> &operandNeedsGradient, ir::Builder &builder,
                              const AutodiffOptions &options, ScanGradientReport &report) {
  return CheckpointedScanDifferentiator(scan, operandNeedsGradient, builder, options, report)
      .run(resultGradients);
}

} // namespace rnnc::passes
