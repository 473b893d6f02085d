// addInferenceGraph and targetsAbsent (InferenceGraph.h): which values read a target, found by a
// forward walk that follows scans through their arguments, carries and yields.
#include "compiler/model/InferenceGraph.h"

#include "compiler/model/ModelData.h"
#include "compiler/passes/DCE.h"

#include <algorithm>
#include <unordered_set>

namespace rnnc::model {

namespace {

using ValueSet = std::unordered_set<const ir::Value *>;

bool readsAny(const ir::Op &op, const ValueSet &values) {
  return std::any_of(op.operands().begin(), op.operands().end(),
                     [&](const ir::Value *operand) { return values.count(operand) != 0; });
}

/// Adds to `dependent` every value of `block` (and of nested scan bodies) computed from a target.
/// A scan result depends on a target when its yielded value does; a carry, when its initial
/// value or the value yielded for it does (to a fixed point, since a carry feeds itself).
void markTargetDependent(const ir::Block &block, ValueSet &dependent) {
  for (const auto &op : block.ops()) {
    if (op->kind() == ir::OpKind::Target) {
      dependent.insert(op->result());
      continue;
    }
    const ir::Block *body = op->body();
    if (!body) {
      if (readsAny(*op, dependent))
        for (size_t i = 0; i < op->numResults(); ++i)
          dependent.insert(op->result(i));
      continue;
    }
    for (size_t i = 0; i < op->numOperands(); ++i)
      if (dependent.count(op->operand(i)))
        dependent.insert(body->argument(i));
    const ir::Op &yield = *body->terminator();
    size_t carries = op->numCarries();
    bool changed = true;
    while (changed) {
      markTargetDependent(*body, dependent);
      changed = false;
      for (size_t i = 0; i < carries; ++i)
        if (dependent.count(yield.operand(i)) && dependent.insert(body->argument(i)).second)
          changed = true;
    }
    for (size_t m = 0; m < op->numResults(); ++m)
      if (dependent.count(yield.operand(carries + m)))
        dependent.insert(op->result(m));
  }
}

} // namespace

bool targetsAbsent(const ir::Graph &forward, const TensorMap &data) {
  std::vector<ir::Op *> targets = forward.opsOfKind(ir::OpKind::Target);
  return !targets.empty() && std::none_of(targets.begin(), targets.end(), [&](const ir::Op *op) {
    return data.count(op->nameAttr()) != 0;
  });
}

Expected<const ir::Graph *> addInferenceGraph(ir::Module &module) {
  if (const ir::Graph *existing = module.findGraph(inferenceGraphName))
    return existing;
  auto forward = findGraph(module, "forward");
  if (!forward)
    return forward.takeError();
  ValueSet dependent;
  markTargetDependent((*forward)->body(), dependent);
  bool anyOutputLeft = false;
  for (const ir::Op *output : (*forward)->opsOfKind(ir::OpKind::Output))
    anyOutputLeft = anyOutputLeft || !readsAny(*output, dependent);
  if (!anyOutputLeft) {
    std::string targets;
    for (const ir::Op *target : (*forward)->opsOfKind(ir::OpKind::Target))
      targets += (targets.empty() ? "'" : ", '") + target->nameAttr() + "'";
    return Error::user("every output of model '" + module.name() + "' needs its targets (" +
                       targets + ")" +
                       (module.findGraph("generate") ? "; its generate clause predicts them" : ""));
  }
  ir::Graph &inference = module.addGraph(inferenceGraphName);
  ir::ValueMapping mapping;
  ir::cloneOpsInto((*forward)->body(), inference.body(), mapping);
  // Outputs of the copy that read a target, found through the mapping of the forward's values.
  ValueSet copiedDependent;
  for (const ir::Value *value : dependent)
    copiedDependent.insert(mapping.at(value));
  inference.body().eraseIf([&](const ir::Op &op) {
    return op.kind() == ir::OpKind::Output && readsAny(op, copiedDependent);
  });
  passes::eliminateDeadCode(inference);
  return &inference;
}

} // namespace rnnc::model
