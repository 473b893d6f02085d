#include "compiler/passes/Autodiff.h"

#include "compiler/passes/CheckpointedScanGradient.h"
#include "compiler/passes/GradientWalk.h"
#include "compiler/passes/ScanGradient.h"

#include <sstream>

namespace rnnc::passes {

using ir::Op;
using ir::OpKind;
using ir::Value;

double ScanGradientReport::bytesPerStep() const {
  double bytes = 0;
  for (const Residual &residual : residuals)
    bytes += residual.bytesPerStep();
  return bytes;
}

double ScanGradientReport::extraBytesPerStep() const {
  double bytes = 0;
  for (const Residual &residual : residuals)
    bytes += residual.reused ? 0 : residual.bytesPerStep();
  return bytes;
}

int64_t ScanGradientReport::bytesFor(int64_t steps) const {
  int64_t bytes = 0;
  for (const Residual &residual : residuals)
    bytes += residual.bytesFor(steps);
  return bytes;
}

double AutodiffReport::bytesPerStep() const {
  double bytes = 0;
  for (const ScanGradientReport &scan : scans)
    bytes += scan.bytesPerStep();
  return bytes;
}

double AutodiffReport::extraBytesPerStep() const {
  double bytes = 0;
  for (const ScanGradientReport &scan : scans)
    bytes += scan.extraBytesPerStep();
  return bytes;
}

int64_t AutodiffReport::bytesForBatch(int64_t steps, int64_t batch) const {
  int64_t bytes = 0;
  for (const ScanGradientReport &scan : scans)
    bytes += scan.bytesFor(steps) * batch;
  return bytes;
}

namespace {

/// "every 3rd step" for a checkpoint stride; empty for 1.
std::string strideText(int64_t stride) {
  if (stride == 1)
    return "";
  int64_t lastTwo = stride % 100;
  const char *suffix = lastTwo >= 11 && lastTwo <= 13 ? "th"
                       : stride % 10 == 1             ? "st"
                       : stride % 10 == 2             ? "nd"
                       : stride % 10 == 3             ? "rd"
                                                      : "th";
  return " every " + std::to_string(stride) + suffix + " step";
}

} // namespace

std::string AutodiffReport::summary() const {
  std::ostringstream out;
  for (const ScanGradientReport &scan : scans) {
    out << "scan at " << scan.location.str() << " (" << (scan.reverse ? "reverse" : "forward")
        << " over " << scan.axis << "): keeps " << scan.bytesPerStep()
        << " bytes per step and example for the backward (" << scan.extraBytesPerStep()
        << " beyond its outputs)";
    const char *separator = ": ";
    for (const Residual &residual : scan.residuals) {
      out << separator << (residual.name.empty() ? "(unnamed)" : residual.name) << " "
          << residual.type.str() << strideText(residual.stride)
          << (residual.reused ? " (also an output)" : "");
      separator = ", ";
    }
    out << " (carried state: " << scan.carriedBytes << " bytes per step)\n";
  }
  out << "total: " << bytesPerStep() << " bytes per step and example (" << extraBytesPerStep()
      << " beyond the outputs)\n";
  return out.str();
}

namespace {

Status checkOptions(const AutodiffOptions &options) {
  if (options.truncate < 0)
    return Error::user("truncate needs a number of steps >= 1, got " +
                       std::to_string(options.truncate));
  if (options.checkpoint < 0)
    return Error::user("checkpoint needs a number of steps >= 1, got " +
                       std::to_string(options.checkpoint));
  if (options.checkpoint > maxCheckpointSegment)
    return Error::user("checkpoint " + std::to_string(options.checkpoint) +
                       " is too long: the backward recomputes a segment with one copy of the "
                       "step body per step, so K is at most " +
                       std::to_string(maxCheckpointSegment));
  return Status::ok();
}

/// Trained parameters (not frozen) and real-valued inputs, in graph order: the values that get
/// `grad.<name>`.
std::vector<Op *> differentiableLeaves(const ir::Graph &graph) {
  std::vector<Op *> leaves;
  for (const auto &op : graph.body().ops())
    if ((op->kind() == OpKind::Param && op->frozenAttr() == 0) ||
        (op->kind() == OpKind::Input && op->result()->type().isReal()))
      leaves.push_back(op.get());
  return leaves;
}

} // namespace

Expected<AutodiffReport> differentiate(ir::Module &module, const AutodiffOptions &options) {
  if (Status status = checkOptions(options); !status)
    return status.takeError();
  const ir::Graph *forward = module.findGraph("forward");
  if (!forward)
    return Error::user("module '" + module.name() + "' has no 'forward' graph to differentiate");
  const Op *forwardLoss = forward->findOutput("loss");
  if (!forwardLoss)
    return Error::user("model '" + module.name() + "' has no loss: nothing to differentiate");
  if (!forwardLoss->operand(0)->type().isScalar() || forwardLoss->operand(0)->type().isSequence())
    return Error::user(forwardLoss->location().str() +
                       ": error: the loss must be a real scalar, "
                       "got " +
                       forwardLoss->operand(0)->type().str());

  module.removeGraph("backward");
  ir::Graph &backward = module.addGraph("backward");
  ir::ValueMapping mapping;
  cloneOpsInto(forward->body(), backward.body(), mapping);
  Value *loss = mapping.at(forwardLoss->operand(0));

  std::vector<Op *> primal;
  for (const auto &op : backward.body().ops())
    primal.push_back(op.get());
  std::vector<Op *> leaves = differentiableLeaves(backward);
  std::unordered_set<const Value *> sources;
  for (Op *leaf : leaves)
    sources.insert(leaf->result());

  AutodiffReport report;
  ir::Builder builder(backward.body());
  auto scanGradient = [&](Op &scan, const std::vector<Value *> &resultGradients,
                          const std::vector<bool> &needs, ir::Builder &outer) {
    report.scans.emplace_back();
    // A scan without carried state has nothing to checkpoint: it recomputes every step anyway.
    if (options.checkpoint > 1 && scan.numCarries() > 0)
      return differentiateScanCheckpointed(scan, resultGradients, needs, outer, options,
                                           report.scans.back());
    return differentiateScan(scan, resultGradients, needs, outer, options, report.scans.back());
  };
  GradientWalk walk(builder, primal, sources, scanGradient);
  builder.setLocation(forwardLoss->location());
  walk.accumulate(loss, builder.constant(1.0, ir::Type::scalar()));
  if (Status status = walk.run(); !status)
    return status.takeError();

  for (Op *leaf : leaves) {
    Value *value = leaf->result();
    builder.setLocation(leaf->location());
    Value *gradient = walk.gradientOf(value);
    if (!gradient) { // the loss does not depend on it
      const ir::Type &type = value->type();
      gradient = builder.constant(0.0, type.stepType());
      if (type.isSequence())
        gradient = builder.create(OpKind::Repeat, {gradient}, {{"axis", type.axis}});
    }
    std::string name = "grad." + leaf->nameAttr();
    builder.output(name, gradient);
    report.gradientOutputs.push_back(name);
  }
  if (Status status = builder.status(); !status)
    return status.takeError();
  return report;
}

} // namespace rnnc::passes
