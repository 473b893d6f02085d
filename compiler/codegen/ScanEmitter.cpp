// Scans: one loop over the batch's longest length on the scan's axis, forward (t = 0 … T−1) or
// reverse (t = T−1 … 0), in which every example runs the steps it has (t < its length): a reverse
// scan so starts each example at its own last step, and an example past its length keeps its
// carried state. The carried state lives in two per-example slots per carry (current and next);
// the body's arguments are bound to the current state, to step t of each step sequence (read in
// place) and to the statics; the body's ops are emitted once, inside the loop, into their own
// per-example slots (EmitContext::forEachExample skips the examples without step t). After the
// body, each example's per-step outputs are copied to step t of the results (or, for a result
// over a segment axis `axis/K`, to segment k / K when the example's k-th visited step has
// k % K == 0: the checkpoints), and the yielded carries become the current state.
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
  if (context.scanStep)
    return Error::internal(describeOp(scan) + ": a scan inside a scan");
  const std::string &axis = scan.axisAttr();
  const std::vector<size_t> &carrySlots = context.plan.carrySlots.at(&scan);

  std::vector<Storage> current, next;
  for (size_t i = 0; i < carries; ++i) {
    llvm::Value *rowStride = context.index(body.argument(i)->type().numElements());
    current.push_back({context.slotPointers[carrySlots[i]], nullptr, rowStride});
    next.push_back({context.slotPointers[carrySlots[carries + i]], nullptr, rowStride});
  }
  context.forEachExample([&] {
    for (size_t i = 0; i < carries; ++i) {
      llvm::Type *element = context.elementType(body.argument(i)->type());
      copyValue(context, body.argument(i)->type(),
                context.stepPointer(current[i], element, context.index(0)),
                context.stepPointer(scan.operand(i), context.index(0)));
    }
  });
  std::vector<Storage> results;
  for (size_t i = 0; i < scan.numResults(); ++i) {
    results.push_back(context.slotStorage(scan.result(i)));
    context.storage[scan.result(i)] = results.back();
  }
  // Copying the yielded carries straight into the current state is safe only when each has a
  // slot of its own; a carried argument (a swap, a state passed through) could be overwritten
  // before it is read, so those go through the next-state slots.
  bool throughNext = false;
  for (size_t i = 0; i < carries; ++i)
    if (!context.plan.valueSlots.count(yield->operand(i)))
      throughNext = true;

  llvm::Value *longest = context.longestLength(axis);
  Status status = Status::ok();
  context.emitLoop(
      context.index(0), longest,
      [&](llvm::Value *k) {
        llvm::Value *t = scan.isReverse()
                             ? builder.CreateSub(builder.CreateSub(longest, context.index(1)), k)
                             : k;
        for (size_t i = 0; i < scan.numOperands(); ++i) {
          const ir::Value *argument = body.argument(i);
          llvm::Type *element = context.elementType(argument->type());
          context.storage[argument] =
              i < carries ? current[i]
              : i < carries + steps
                  ? context.stepStorage(context.storageOf(scan.operand(i)), element, t)
                  : context.stepStorage(context.storageOf(scan.operand(i)), element,
                                        context.index(0));
        }
        context.scanStep = t;
        context.scanAxis = axis;
        StepPosition position{builder.CreateAdd(t, context.index(1)), axis};
        if (status)
          status = emitBlock(context, body, position);
        if (!status) {
          context.scanStep = nullptr;
          return;
        }
        context.forEachExample([&] {
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
            // The example's visit number: reverse scans start at the example's last step.
            llvm::Value *visit =
                scan.isReverse()
                    ? builder.CreateSub(builder.CreateSub(context.axisLength(axis),
                                                          context.index(1)),
                                        t)
                    : t;
            llvm::Value *factor = context.index(segments->factor);
            context.emitIf(
                builder.CreateICmpEQ(builder.CreateURem(visit, factor), context.index(0)), [&] {
                  copyValue(context, type,
                            context.stepPointer(results[i], element,
                                                builder.CreateUDiv(visit, factor)),
                            from);
                });
          }
          for (size_t i = 0; i < carries; ++i) {
            llvm::Type *element = context.elementType(body.argument(i)->type());
            copyValue(context, body.argument(i)->type(),
                      context.stepPointer(throughNext ? next[i] : current[i], element,
                                          context.index(0)),
                      context.stepPointer(yield->operand(i), context.index(0)));
          }
          if (throughNext)
            for (size_t i = 0; i < carries; ++i) {
              llvm::Type *element = context.elementType(body.argument(i)->type());
              copyValue(context, body.argument(i)->type(),
                        context.stepPointer(current[i], element, context.index(0)),
                        context.stepPointer(next[i], element, context.index(0)));
            }
        });
        context.scanStep = nullptr;
      },
      "scan.step");
  return status;
}

} // namespace rnnc::codegen
