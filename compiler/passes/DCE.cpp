#include "compiler/passes/DCE.h"

#include <unordered_set>

namespace rnnc::passes {

using ir::Block;
using ir::Op;
using ir::OpKind;
using ir::Value;

namespace {

/// Rebuilds the scan at `index` of `block` keeping only the per-step outputs and the step/static
/// operands in use; carries are kept. Returns true when it changed anything.
bool pruneScan(Block &block, size_t index, const std::unordered_set<const Value *> &usedOutside) {
  Op &scan = *block.ops()[index];
  Block &body = *scan.body();
  Op &yield = *body.terminator();
  size_t carries = scan.numCarries(), steps = scan.numSteps();
  std::unordered_set<const Value *> usedInBody;
  body.walk([&](Op &op) { usedInBody.insert(op.operands().begin(), op.operands().end()); });

  std::vector<bool> keepOperand(scan.numOperands(), true), keepResult(scan.numResults(), true);
  bool changed = false;
  for (size_t i = carries; i < scan.numOperands(); ++i)
    if (!usedInBody.count(body.argument(i)))
      keepOperand[i] = false, changed = true;
  for (size_t m = 0; m < scan.numResults(); ++m)
    if (!usedOutside.count(scan.result(m)))
      keepResult[m] = false, changed = true;
  if (!changed)
    return false;

  std::vector<Value *> operands;
  size_t keptSteps = 0;
  for (size_t i = 0; i < scan.numOperands(); ++i)
    if (keepOperand[i]) {
      operands.push_back(scan.operand(i));
      keptSteps += (i >= carries && i < carries + steps);
    }
  ir::Attributes attrs = scan.attrs();
  attrs["steps"] = static_cast<int64_t>(keptSteps);
  auto rebuilt = std::make_unique<Op>(OpKind::Scan, operands, attrs, scan.location());
  Block &newBody = rebuilt->createBody();
  ir::ValueMapping mapping;
  for (size_t i = 0; i < scan.numOperands(); ++i)
    if (keepOperand[i]) {
      Value *argument = newBody.addArgument(body.argument(i)->type());
      argument->setNameHint(body.argument(i)->nameHint());
      mapping[body.argument(i)] = argument;
    }
  // Body ops without the yield, then a yield of the carries and the kept outputs.
  cloneOpsInto(body, newBody, mapping);
  newBody.erase(newBody.terminator());
  std::vector<Value *> yielded;
  for (size_t i = 0; i < yield.numOperands(); ++i)
    if (i < carries || keepResult[i - carries])
      yielded.push_back(mapping.at(yield.operand(i)));
  newBody.append(std::make_unique<Op>(OpKind::Yield, yielded, yield.attrs(), yield.location()));
  for (size_t m = 0; m < scan.numResults(); ++m)
    if (keepResult[m]) {
      Value *result = rebuilt->addResult(scan.result(m)->type());
      result->setNameHint(scan.result(m)->nameHint());
      block.replaceAllUsesWith(scan.result(m), result);
    }
  block.insert(index, std::move(rebuilt));
  block.erase(&scan);
  removeDeadOps(newBody);
  return true;
}

} // namespace

size_t removeDeadOps(Block &block) {
  std::unordered_set<const Value *> used;
  std::unordered_set<const Op *> dead;
  const auto &ops = block.ops();
  for (auto op = ops.rbegin(); op != ops.rend(); ++op) {
    bool live = ir::hasTrait((*op)->kind(), ir::OpTrait::SideEffect);
    for (size_t i = 0; i < (*op)->numResults() && !live; ++i)
      live = used.count((*op)->result(i)) != 0;
    if (!live) {
      dead.insert(op->get());
      continue;
    }
    used.insert((*op)->operands().begin(), (*op)->operands().end());
  }
  size_t removed = dead.size();
  if (removed)
    block.eraseIf([&](const Op &op) { return dead.count(&op) != 0; });
  for (const auto &op : block.ops())
    if (op->body())
      removed += removeDeadOps(*op->body());
  return removed;
}

void eliminateDeadCode(ir::Graph &graph) {
  Block &block = graph.body();
  bool changed = true;
  while (changed) {
    changed = removeDeadOps(block) != 0;
    std::unordered_set<const Value *> used;
    block.walk([&](Op &op) { used.insert(op.operands().begin(), op.operands().end()); });
    // A rebuilt scan takes its old one's place, so positions stay valid.
    for (size_t index = 0; index < block.ops().size(); ++index)
      if (block.ops()[index]->kind() == OpKind::Scan)
        changed = pruneScan(block, index, used) || changed;
  }
}

void eliminateDeadCode(ir::Module &module) {
  for (const auto &graph : module.graphs())
    eliminateDeadCode(*graph);
}

} // namespace rnnc::passes
