// Ops on whole sequences, outside scans (docs/ir.md): shift, last, first, sum_time, sum_outer,
// repeat, at_last, at_first, at_step, stack, and the segment/unsegment pair of checkpointing. Each
// runs for every example over the example's own length on the sequence's axis and fills a
// workspace slot, except repeat, a view (its operand with step stride 0), and a sum_outer summed
// over the batch, one GEMM (LinearAlgebraEmitter.cpp).
#include "compiler/codegen/EmitContext.h"

#include "runtime/KernelABI.h"

namespace rnnc::codegen {

using ir::OpKind;

namespace {

/// Copies one step's elements of `type`.
void copyStep(EmitContext &context, const ir::Type &type, llvm::Value *to, llvm::Value *from) {
  context.copyElements(context.elementType(type), to, from,
                       context.index(type.stepType().numElements()));
}

Status emitShift(EmitContext &context, const ir::Op &op, const Storage &result) {
  llvm::IRBuilder<> &builder = context.builder;
  const ir::Value *sequence = op.operand(0);
  const ir::Type &type = sequence->type();
  llvm::Type *element = context.elementType(type);
  llvm::Value *length = context.axisLength(type.axis);
  llvm::Value *init = context.stepPointer(op.operand(1), context.index(0));
  llvm::Value *one = context.index(1);
  if (op.directionAttr() == "reverse") {
    // out[t] = x[t+1]; out[L] = init.
    context.emitLoop(
        context.index(0), builder.CreateSub(length, one),
        [&](llvm::Value *t) {
          copyStep(context, type, context.stepPointer(result, element, t),
                   context.stepPointer(sequence, builder.CreateAdd(t, one)));
        },
        "t");
    copyStep(context, type, context.stepPointer(result, element, builder.CreateSub(length, one)),
             init);
    return Status::ok();
  }
  // out[1] = init; out[t] = x[t-1].
  copyStep(context, type, context.stepPointer(result, element, context.index(0)), init);
  context.emitLoop(
      one, length,
      [&](llvm::Value *t) {
        copyStep(context, type, context.stepPointer(result, element, t),
                 context.stepPointer(sequence, builder.CreateSub(t, one)));
      },
      "t");
  return Status::ok();
}

/// Σ_t x[t] (sum_time) or Σ_t a[t] b[t]ᵀ (sum_outer) over the example's steps.
void emitTimeSum(EmitContext &context, const ir::Op &op, llvm::Value *result) {
  llvm::IRBuilder<> &builder = context.builder;
  const ir::Value *first = op.operand(0);
  int64_t rows = first->type().numElements();
  int64_t columns = op.kind() == OpKind::SumOuter ? op.operand(1)->type().numElements() : 1;
  context.zeroElements(context.realType, result, context.index(rows * columns));
  context.emitLoop(
      context.index(0), context.axisLength(first->type().axis),
      [&](llvm::Value *t) {
        llvm::Value *a = context.stepPointer(first, t);
        if (op.kind() == OpKind::SumTime) {
          context.emitLoop(rows, [&](llvm::Value *i) {
            context.storeReal(
                builder.CreateFAdd(context.loadReal(result, i), context.loadReal(a, i)), result, i);
          });
          return;
        }
        llvm::Value *b = context.stepPointer(op.operand(1), t);
        context.emitLoop(rows, [&](llvm::Value *i) {
          llvm::Value *ai = context.loadReal(a, i);
          llvm::Value *row = context.elementPointer(context.realType, result,
                                                    builder.CreateMul(i, context.index(columns)));
          context.emitLoop(
              columns,
              [&](llvm::Value *j) {
                context.storeReal(
                    context.multiplyAdd(ai, context.loadReal(b, j), context.loadReal(row, j)), row,
                    j);
              },
              "j");
        });
      },
      "t");
}

/// The 0-based step a scan in `op`'s direction visits `visit`-th of `length` steps.
llvm::Value *stepOfVisit(EmitContext &context, const ir::Op &op, llvm::Value *visit,
                         llvm::Value *length) {
  if (op.directionAttr() != "reverse")
    return visit;
  llvm::IRBuilder<> &builder = context.builder;
  return builder.CreateSub(builder.CreateSub(length, context.index(1)), visit);
}

/// segment {factor K, phase p}: step j is the step visited (j K + p)-th, zeros past the length.
void emitSegment(EmitContext &context, const ir::Op &op, const Storage &result) {
  llvm::IRBuilder<> &builder = context.builder;
  const ir::Value *sequence = op.operand(0);
  const ir::Type &type = op.result()->type();
  llvm::Type *element = context.elementType(type);
  int64_t factor = op.factorAttr(), phase = op.phaseAttr();
  llvm::Value *length = context.axisLength(sequence->type().axis);
  context.emitLoop(
      context.index(0), context.axisLength(type.axis),
      [&](llvm::Value *j) {
        llvm::Value *visit = builder.CreateAdd(builder.CreateMul(j, context.index(factor)),
                                               context.index(phase - 1));
        llvm::Value *to = context.stepPointer(result, element, j);
        llvm::Value *visited = builder.CreateICmpSLT(visit, length);
        context.emitIf(visited, [&] {
          copyStep(context, type, to,
                   context.stepPointer(sequence, stepOfVisit(context, op, visit, length)));
        });
        context.emitIf(builder.CreateNot(visited), [&] {
          context.zeroElements(element, to, context.index(type.stepType().numElements()));
        });
      },
      "segment");
}

/// unsegment {factor K}: the step visited v-th is step v / K of operand v % K.
void emitUnsegment(EmitContext &context, const ir::Op &op, const Storage &result) {
  llvm::IRBuilder<> &builder = context.builder;
  const ir::Type &type = op.result()->type();
  llvm::Type *element = context.elementType(type);
  int64_t factor = op.factorAttr();
  llvm::Value *length = context.axisLength(type.axis);
  context.emitLoop(
      context.index(0), length,
      [&](llvm::Value *visit) {
        llvm::Value *to =
            context.stepPointer(result, element, stepOfVisit(context, op, visit, length));
        llvm::Value *segment = builder.CreateUDiv(visit, context.index(factor));
        llvm::Value *phase = builder.CreateURem(visit, context.index(factor));
        for (int64_t k = 0; k < factor; ++k)
          context.emitIf(builder.CreateICmpEQ(phase, context.index(k)), [&] {
            copyStep(context, type, to, context.stepPointer(op.operand(k), segment));
          });
      },
      "unsegment");
}

/// The op for the current example, into `storage`.
Status emitExampleTimeOp(EmitContext &context, const ir::Op &op, const Storage &storage) {
  llvm::IRBuilder<> &builder = context.builder;
  const ir::Type &resultType = op.result()->type();
  const ir::Value *operand = op.operand(0);
  llvm::Type *element = context.elementType(resultType);
  switch (op.kind()) {
  case OpKind::Last:
  case OpKind::First: {
    llvm::Value *step =
        op.kind() == OpKind::First
            ? context.index(0)
            : builder.CreateSub(context.axisLength(operand->type().axis), context.index(1));
    copyStep(context, resultType, context.stepPointer(storage, element, context.index(0)),
             context.stepPointer(operand, step));
    return Status::ok();
  }
  case OpKind::Shift:
    return emitShift(context, op, storage);
  case OpKind::Segment:
    emitSegment(context, op, storage);
    return Status::ok();
  case OpKind::Unsegment:
    emitUnsegment(context, op, storage);
    return Status::ok();
  case OpKind::SumTime:
  case OpKind::SumOuter:
    emitTimeSum(context, op, context.stepPointer(storage, element, context.index(0)));
    return Status::ok();
  case OpKind::AtLast:
  case OpKind::AtFirst: {
    llvm::Value *length = context.axisLength(resultType.axis);
    int64_t size = resultType.stepType().numElements();
    context.emitLoop(
        context.index(0), length,
        [&](llvm::Value *t) {
          context.zeroElements(element, context.stepPointer(storage, element, t),
                               context.index(size));
        },
        "t");
    llvm::Value *step = op.kind() == OpKind::AtFirst ? context.index(0)
                                                     : builder.CreateSub(length, context.index(1));
    copyStep(context, resultType, context.stepPointer(storage, element, step),
             context.stepPointer(operand, context.index(0)));
    return Status::ok();
  }
  case OpKind::AtStep: {
    int64_t step = op.indexAttr();
    llvm::Value *length = context.axisLength(operand->type().axis);
    llvm::Value *inRange = builder.CreateAnd(builder.getInt1(step >= 1),
                                             builder.CreateICmpSLE(context.index(step), length));
    llvm::Value *to = context.stepPointer(storage, element, context.index(0));
    context.emitIf(inRange, [&] {
      copyStep(context, resultType, to, context.stepPointer(operand, context.index(step - 1)));
    });
    context.emitIf(builder.CreateNot(inRange), [&] {
      emitFailure(context, op, static_cast<int32_t>(KernelErrorCode::StepOutOfRange),
                  context.index(step), length);
      context.zeroElements(element, to, context.index(resultType.stepType().numElements()));
    });
    return Status::ok();
  }
  case OpKind::Stack: {
    llvm::Value *length = context.axisLength(resultType.axis);
    int64_t count = static_cast<int64_t>(op.numOperands());
    context.emitIf(builder.CreateICmpNE(length, context.index(count)), [&] {
      emitFailure(context, op, static_cast<int32_t>(KernelErrorCode::StackLengthMismatch),
                  context.index(count), length);
    });
    for (int64_t i = 0; i < count; ++i)
      context.emitIf(builder.CreateICmpSLT(context.index(i), length), [&] {
        copyStep(context, resultType, context.stepPointer(storage, element, context.index(i)),
                 context.stepPointer(op.operand(i), context.index(0)));
      });
    return Status::ok();
  }
  default:
    return Error::internal(describeOp(op) + ": not an op on whole sequences");
  }
}

} // namespace

Status emitTimeOp(EmitContext &context, const ir::Op &op) {
  const ir::Value *result = op.result();
  if (op.kind() == OpKind::Repeat) {
    Storage operand = context.storageOf(op.operand(0));
    context.storage[result] = {operand.base, context.index(0), operand.rowStride};
    return Status::ok();
  }
  if (context.plan.prefixedShifts.count(&op)) {
    // A view one step back into the operand's slot, whose leading step gets the initial value.
    Storage sequence = context.storageOf(op.operand(0));
    llvm::Type *element = context.elementType(result->type());
    Storage shifted{context.elementPointer(element, sequence.base,
                                           context.builder.CreateNeg(sequence.stride)),
                    sequence.stride, sequence.rowStride};
    context.storage[result] = shifted;
    context.forEachExample([&] {
      copyStep(context, result->type(), context.stepPointer(shifted, element, context.index(0)),
               context.stepPointer(op.operand(1), context.index(0)));
    });
    return Status::ok();
  }
  Storage storage = context.slotStorage(result);
  context.storage[result] = storage;
  if (context.plan.batchSummedOuters.count(&op))
    return emitBatchSummedOuter(context, op);
  Status status = Status::ok();
  auto body = [&] {
    if (status)
      status = emitExampleTimeOp(context, op, storage);
  };
  if (!runsInParallel(context.plan, op)) {
    context.forEachExample(body);
    return status;
  }
  // About one unit of work per element read.
  const ir::Type &operand = op.operand(0)->type();
  llvm::Value *steps =
      operand.isSequence() ? context.longestLength(operand.axis) : context.index(1);
  context.forEachExampleInParallel(
      context.builder.CreateMul(context.builder.CreateMul(context.batchSize, steps),
                                context.index(std::max(operand.stepType().numElements(),
                                                       result->type().stepType().numElements()))),
      body);
  return status;
}

} // namespace rnnc::codegen
