// Ops on whole vectors and tokens of one step: softmax and log_softmax (stable: the maximum is
// subtracted first, as in the interpreter), onehot, nll, sqerr, sum, mean, concat, slice, pad,
// argmax, token constants. Reductions keep their accumulator in a register and may be
// reassociated (EmitContext::reduceAdd).
#include "compiler/codegen/EmitContext.h"

namespace rnnc::codegen {

using ir::OpKind;

namespace {

llvm::Value *emitMaximum(EmitContext &context, llvm::Value *x, int64_t size) {
  llvm::IRBuilder<> &builder = context.builder;
  return context.emitReduction(
      size, context.loadReal(x, context.index(0)), [&](llvm::Value *i, llvm::Value *best) {
        llvm::Value *value = context.loadReal(x, i);
        return builder.CreateSelect(builder.CreateFCmpOGT(value, best), value, best);
      });
}

llvm::Value *emitSum(EmitContext &context, llvm::Value *x, int64_t size) {
  return context.emitReduction(size, context.real(0), [&](llvm::Value *i, llvm::Value *sum) {
    return context.reduceAdd(sum, context.loadReal(x, i));
  });
}

/// A token operand as an i64 index.
llvm::Value *loadToken(EmitContext &context, llvm::Value *pointer) {
  return context.builder.CreateSExt(context.builder.CreateLoad(context.tokenType, pointer),
                                    context.indexType);
}

} // namespace

Status emitVectorOp(EmitContext &context, const ir::Op &op, llvm::Value *result,
                    const std::vector<llvm::Value *> &operands) {
  llvm::IRBuilder<> &builder = context.builder;
  int64_t size = op.numOperands() > 0 ? op.operand(0)->type().numElements() : 0;
  switch (op.kind()) {
  case OpKind::TokenConstant:
    builder.CreateStore(builder.getInt32(static_cast<uint32_t>(op.tokenAttr())), result);
    return Status::ok();
  case OpKind::Softmax:
  case OpKind::LogSoftmax: {
    llvm::Value *maximum = emitMaximum(context, operands[0], size);
    // Softmax keeps exp(x - max) in the result and scales it; log_softmax only needs the sum.
    llvm::Value *total =
        context.emitReduction(size, context.real(0), [&](llvm::Value *i, llvm::Value *sum) {
          llvm::Value *exponential =
              emitExp(context, builder.CreateFSub(context.loadReal(operands[0], i), maximum));
          if (op.kind() == OpKind::Softmax)
            context.storeReal(exponential, result, i);
          return context.reduceAdd(sum, exponential);
        });
    if (op.kind() == OpKind::Softmax) {
      context.emitLoop(size, [&](llvm::Value *i) {
        context.storeReal(builder.CreateFDiv(context.loadReal(result, i), total), result, i);
      });
      return Status::ok();
    }
    llvm::Value *logTotal = emitLog(context, total);
    context.emitLoop(size, [&](llvm::Value *i) {
      llvm::Value *shifted = builder.CreateFSub(context.loadReal(operands[0], i), maximum);
      context.storeReal(builder.CreateFSub(shifted, logTotal), result, i);
    });
    return Status::ok();
  }
  case OpKind::OneHot: {
    int64_t vocab = op.operand(0)->type().vocab;
    context.zeroElements(context.realType, result, context.index(vocab));
    llvm::Value *id = loadToken(context, operands[0]);
    // Token ids were checked against the vocabulary before the run; the guard keeps a stray id
    // from writing outside the result.
    context.emitIf(builder.CreateICmpULT(id, context.index(vocab)),
                   [&] { context.storeReal(context.real(1), result, id); });
    return Status::ok();
  }
  case OpKind::Nll: {
    llvm::Value *id = loadToken(context, operands[1]);
    llvm::Value *probability = context.loadReal(operands[0], id);
    context.storeReal(builder.CreateFNeg(emitLog(context, probability)), result, context.index(0));
    return Status::ok();
  }
  case OpKind::SqErr: {
    llvm::Value *total =
        context.emitReduction(size, context.real(0), [&](llvm::Value *i, llvm::Value *sum) {
          llvm::Value *difference = builder.CreateFSub(context.loadReal(operands[0], i),
                                                       context.loadReal(operands[1], i));
          return context.multiplyAdd(difference, difference, sum);
        });
    context.storeReal(total, result, context.index(0));
    return Status::ok();
  }
  case OpKind::Sum:
  case OpKind::Mean: {
    llvm::Value *total = emitSum(context, operands[0], size);
    if (op.kind() == OpKind::Mean)
      total = builder.CreateFDiv(total, context.real(static_cast<double>(size)));
    context.storeReal(total, result, context.index(0));
    return Status::ok();
  }
  case OpKind::Concat: {
    int64_t offset = 0;
    for (size_t i = 0; i < operands.size(); ++i) {
      int64_t part = op.operand(i)->type().numElements();
      context.copyElements(context.realType,
                           context.elementPointer(context.realType, result, context.index(offset)),
                           operands[i], context.index(part));
      offset += part;
    }
    return Status::ok();
  }
  case OpKind::Slice:
    context.copyElements(
        context.realType, result,
        context.elementPointer(context.realType, operands[0], context.index(op.startAttr())),
        context.index(op.lenAttr()));
    return Status::ok();
  case OpKind::Pad:
    context.zeroElements(context.realType, result, context.index(op.sizeAttr()));
    context.copyElements(
        context.realType,
        context.elementPointer(context.realType, result, context.index(op.startAttr())),
        operands[0], context.index(size));
    return Status::ok();
  case OpKind::Argmax: {
    // The first index of the largest element (a NaN never compares larger).
    llvm::Value *best =
        context.emitReduction(size, context.index(0), [&](llvm::Value *i, llvm::Value *best) {
          llvm::Value *larger = builder.CreateFCmpOGT(context.loadReal(operands[0], i),
                                                      context.loadReal(operands[0], best));
          return builder.CreateSelect(larger, i, best);
        });
    builder.CreateStore(builder.CreateTrunc(best, context.tokenType), result);
    return Status::ok();
  }
  default:
    return Error::internal(describeOp(op) + ": not a vector op");
  }
}

} // namespace rnnc::codegen
