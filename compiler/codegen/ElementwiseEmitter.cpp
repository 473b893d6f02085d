// Elementwise ops (constant, add … abs, broadcast): one loop over the result's elements with a
// constant trip count, a scalar operand (the broadcast case of docs/ir.md) loaded once before
// it. An operand whose producer the plan inlined (KernelPlan::inlinedElementwise) is computed in
// the same loop from its own operands, recursively, instead of loaded. The loops are what the
// loop vectoriser turns into <8 x float> (or <16 x float>) code.
#include "compiler/codegen/EmitContext.h"

#include <llvm/IR/Intrinsics.h>

namespace rnnc::codegen {

using ir::OpKind;

namespace {

llvm::Value *unary(EmitContext &context, OpKind kind, llvm::Value *x) {
  llvm::IRBuilder<> &builder = context.builder;
  switch (kind) {
  case OpKind::Neg:
    return builder.CreateFNeg(x);
  case OpKind::Tanh:
    return emitTanh(context, x);
  case OpKind::Sigmoid:
    return emitSigmoid(context, x);
  case OpKind::Relu:
    return builder.CreateSelect(builder.CreateFCmpOGT(x, context.real(0)), x, context.real(0));
  case OpKind::Step:
    return builder.CreateSelect(builder.CreateFCmpOGT(x, context.real(0)), context.real(1),
                                context.real(0));
  case OpKind::Exp:
    return emitExp(context, x);
  case OpKind::Log:
    return emitLog(context, x);
  case OpKind::Abs: // llvm.fabs: one vandps per vector once vectorised
    return builder.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  case OpKind::Sqrt: // llvm.sqrt: vsqrtps, correctly rounded like the interpreter's std::sqrt
    return builder.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x);
  default:
    return nullptr;
  }
}

llvm::Value *binary(EmitContext &context, OpKind kind, llvm::Value *a, llvm::Value *b) {
  llvm::IRBuilder<> &builder = context.builder;
  switch (kind) {
  case OpKind::Add:
    return builder.CreateFAdd(a, b);
  case OpKind::Sub:
    return builder.CreateFSub(a, b);
  case OpKind::Mul:
    return builder.CreateFMul(a, b);
  case OpKind::Div:
    return builder.CreateFDiv(a, b);
  case OpKind::Max: // a select, as the interpreter computes it (a NaN a gives b)
    return builder.CreateSelect(builder.CreateFCmpOGT(a, b), a, b);
  case OpKind::Min:
    return builder.CreateSelect(builder.CreateFCmpOLT(a, b), a, b);
  default:
    return nullptr;
  }
}

/// Element i of elementwise `op`'s result from its operands' sources.
llvm::Value *elementValue(EmitContext &context, const ir::Op &op,
                          const std::vector<ElementSource> &operands, llvm::Value *i) {
  if (op.numOperands() == 1)
    return unary(context, op.kind(), operands[0](i));
  return binary(context, op.kind(), operands[0](i), operands[1](i));
}

} // namespace

std::vector<ElementSource> elementSources(EmitContext &context, const ir::Op &op,
                                          llvm::Value *step) {
  std::vector<ElementSource> sources;
  int64_t size = op.result()->type().numElements();
  for (const ir::Value *operand : op.operands()) {
    const ir::Op *producer = operand->definingOp();
    if (producer && context.plan.inlinedElementwise.count(producer)) {
      sources.push_back([&context, producer, inner = elementSources(context, *producer, step)](
                            llvm::Value *i) { return elementValue(context, *producer, inner, i); });
      continue;
    }
    llvm::Value *pointer = context.stepPointer(operand, step);
    if (operand->type().numElements() == 1 && size != 1) {
      // A scalar operand of a non-scalar result is broadcast: loaded once, before the loop.
      llvm::Value *scalar = context.loadReal(pointer, context.index(0));
      sources.push_back([scalar](llvm::Value *) { return scalar; });
      continue;
    }
    sources.push_back([&context, pointer](llvm::Value *i) { return context.loadReal(pointer, i); });
  }
  return sources;
}

Status emitElementwiseOp(EmitContext &context, const ir::Op &op, llvm::Value *result,
                         const std::vector<ElementSource> &operands) {
  int64_t size = op.result()->type().numElements();
  auto fill = [&](llvm::Value *value) {
    context.emitLoop(size, [&](llvm::Value *i) { context.storeReal(value, result, i); });
  };
  switch (op.kind()) {
  case OpKind::Constant:
    fill(context.real(op.valueAttr()));
    return Status::ok();
  case OpKind::Broadcast:
    fill(operands[0](context.index(0)));
    return Status::ok();
  default:
    if (!ir::isElementwiseOp(op.kind()))
      return Error::internal(describeOp(op) + ": not an elementwise op");
    context.emitLoop(size, [&](llvm::Value *i) {
      context.storeReal(elementValue(context, op, operands, i), result, i);
    });
    return Status::ok();
  }
}

} // namespace rnnc::codegen
