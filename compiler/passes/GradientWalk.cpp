#include "compiler/passes/GradientWalk.h"

namespace rnnc::passes {

using ir::OpKind;
using ir::Value;

std::string gradientName(const Value *value) {
  return value->nameHint().empty() ? std::string() : "d" + value->nameHint();
}

GradientWalk::GradientWalk(ir::Builder &builder, std::vector<ir::Op *> primal,
                           const std::unordered_set<const Value *> &sources,
                           ScanGradientFn scanGradient)
    : builder_(builder), primal_(std::move(primal)), scanGradient_(std::move(scanGradient)) {
  // Activity: forward propagation from the sources; tokens are never active.
  for (const Value *source : sources)
    if (source->type().isReal())
      active_.insert(source);
  for (ir::Op *op : primal_) {
    bool anyActive = false;
    for (Value *operand : op->operands())
      anyActive = anyActive || isActive(operand);
    if (!anyActive)
      continue;
    for (size_t i = 0; i < op->numResults(); ++i)
      if (op->result(i)->type().isReal())
        active_.insert(op->result(i));
  }
}

Value *GradientWalk::reduceToType(Value *gradient, const ir::Type &type) {
  if (gradient->type().shape != type.shape && type.isScalar())
    gradient = builder_.create(OpKind::Sum, {gradient});
  if (gradient->type().isSequence() && !type.isSequence())
    gradient = builder_.create(OpKind::SumTime, {gradient});
  return gradient;
}

void GradientWalk::accumulate(Value *value, Value *gradient) {
  if (!gradient || !isActive(value))
    return;
  contributions_[value].push_back(reduceToType(gradient, value->type()));
}

Value *GradientWalk::gradientOf(const Value *value) {
  auto found = contributions_.find(value);
  if (found == contributions_.end() || found->second.empty())
    return nullptr;
  std::vector<Value *> &terms = found->second;
  Value *total = terms.front();
  for (size_t i = 1; i < terms.size(); ++i)
    total = builder_.create(OpKind::Add, {total, terms[i]});
  terms = {total}; // memoised: later calls return the same sum
  if (total->nameHint().empty())
    total->setNameHint(gradientName(value));
  return total;
}

Status GradientWalk::run() {
  for (auto op = primal_.rbegin(); op != primal_.rend(); ++op) {
    std::vector<Value *> resultGradients;
    bool anyGradient = false;
    for (size_t i = 0; i < (*op)->numResults(); ++i) {
      resultGradients.push_back(gradientOf((*op)->result(i)));
      anyGradient = anyGradient || resultGradients.back();
    }
    if (!anyGradient)
      continue;
    std::vector<bool> needs;
    bool anyNeeded = false;
    for (Value *operand : (*op)->operands()) {
      needs.push_back(isActive(operand));
      anyNeeded = anyNeeded || needs.back();
    }
    if (!anyNeeded)
      continue;

    builder_.setLocation((*op)->location());
    std::vector<Value *> operandGradients;
    if ((*op)->kind() == OpKind::Scan) {
      auto gradients = scanGradient_(**op, resultGradients, needs, builder_);
      if (!gradients)
        return gradients.takeError();
      operandGradients = gradients.take();
    } else if (GradRule rule = findGradRule((*op)->kind())) {
      operandGradients = rule(GradRuleInput{**op, resultGradients, needs}, builder_);
    } else {
      return Error::user((*op)->location().str() + ": error: no gradient rule for '" +
                         (*op)->mnemonic() + "'");
    }
    for (size_t i = 0; i < operandGradients.size(); ++i)
      if (needs[i])
        accumulate((*op)->operand(i), operandGradients[i]);
  }
  return builder_.status();
}

} // namespace rnnc::passes
