// Scans: a loop over the example's own length on the scan's axis, forward (t = 1 … L) or reverse
// (t = L … 1). The carried state lives in two static slots per carry (current and next); the
// body's arguments are bound to the current state, to step t of each step sequence (read in
// place) and to the statics; the body's ops are emitted once, inside the loop, into their own
// static slots. After the body, each per-step output is copied to step t of its result (or, for
// a result over a segment axis `axis/K`, to segment k / K when k % K == 0: the checkpoints), and
// the yielded carries become the current state.
#include "compiler/codegen/EmitContext.h"

namespace rnnc::codegen {

namespace {

void copyValue(EmitContext &context, const ir::Type &type, llvm::Value *to, llvm::Value *from) {
  context.copyElements(context.elementType(type), to, from,
                       context.index(type.stepType().numElements()));
}

} // namespace

Status emitScan(EmitContext &context, const ir::Op &scan) {
  llvm::IRBuilder<> &builder = context.builder;
  const ir::Block &body = *scan.body();
  const ir::Op *yield = body.terminator();
  size_t carries = scan.numCarries(), steps = scan.numSteps();
  if (!yield || yield->numOperands() != carries + scan.numResults() ||
      body.numArguments() != scan.numOperands())
    return Error::internal(describeOp(scan) + ": malformed scan body");
  const std::string &axis = scan.stringAttr("axis");
  const std::vector<size_t> &carrySlots = context.plan.carrySlots.at(&scan);

  std::vector<llvm::Value *> current, next;
  for (size_t i = 0; i < carries; ++i) {
    current.push_back(context.slotPointers[carrySlots[i]]);
    next.push_back(context.slotPointers[carrySlots[carries + i]]);
    copyValue(context, body.argument(i)->type(), current[i],
              context.stepPointer(scan.operand(i), context.index(0)));
  }
  std::vector<Storage> results;
  for (size_t i = 0; i < scan.numResults(); ++i) {
    results.push_back(context.slotStorage(scan.result(i)));
    context.storage[scan.result(i)] = results.back();
  }
  // Copying the yielded carries straight into the current state is safe only when each has a
  // slot of its own; a carried argument (a swap, a state passed through) or a view of one (feed)
  // could be overwritten before it is read, so those go through the next-state slots.
  bool throughNext = false;
  for (size_t i = 0; i < carries; ++i)
    if (!context.plan.valueSlots.count(yield->operand(i)))
      throughNext = true;

  llvm::Value *length = context.axisLength(axis);
  llvm::Value *prime = context.primeLength(axis);
  Status status = Status::ok();
  context.emitLoop(
      context.index(0), length,
      [&](llvm::Value *k) {
        llvm::Value *t = scan.isReverse()
                             ? builder.CreateSub(builder.CreateSub(length, context.index(1)), k)
                             : k;
        for (size_t i = 0; i < scan.numOperands(); ++i) {
          llvm::Value *pointer = i < carries ? current[i]
                                 : i < carries + steps
                                     ? context.stepPointer(scan.operand(i), t)
                                     : context.stepPointer(scan.operand(i), context.index(0));
          context.storage[body.argument(i)] = {pointer, nullptr};
        }
        StepPosition position{builder.CreateAdd(t, context.index(1)), prime};
        if (status)
          status = emitBlock(context, body, position);
        if (!status)
          return;
        for (size_t i = 0; i < scan.numResults(); ++i) {
          const ir::Value *yielded = yield->operand(carries + i);
          const ir::Type &type = scan.result(i)->type();
          llvm::Type *element = context.elementType(type);
          llvm::Value *from = context.stepPointer(yielded, context.index(0));
          auto segments = ir::parseSegmentAxis(type.axis);
          if (!segments || segments->base != axis) { // a result over the scan's own axis
            copyValue(context, type, context.stepPointer(results[i], element, t), from);
            continue;
          }
          llvm::Value *factor = context.index(segments->factor);
          context.emitIf(
              builder.CreateICmpEQ(builder.CreateURem(k, factor), context.index(0)), [&] {
                copyValue(context, type,
                          context.stepPointer(results[i], element, builder.CreateUDiv(k, factor)),
                          from);
              });
        }
        for (size_t i = 0; i < carries; ++i)
          copyValue(context, body.argument(i)->type(), throughNext ? next[i] : current[i],
                    context.stepPointer(yield->operand(i), context.index(0)));
        if (throughNext)
          for (size_t i = 0; i < carries; ++i)
            copyValue(context, body.argument(i)->type(), current[i], next[i]);
      },
      "scan.step");
  return status;
}

} // namespace rnnc::codegen
