// Elementwise ops (constant, add … log, broadcast): one loop over the result's elements with a
// constant trip count, a scalar operand (the broadcast case of docs/ir.md) loaded once before
// it. The loops are what the loop vectoriser turns into <8 x float> code.
#include "compiler/codegen/EmitContext.h"

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
  default:
    return nullptr;
  }
}

} // namespace

Status emitElementwiseOp(EmitContext &context, const ir::Op &op, llvm::Value *result,
                         const std::vector<llvm::Value *> &operands) {
  int64_t size = op.result()->type().numElements();
  auto fill = [&](llvm::Value *value) {
    context.emitLoop(size, [&](llvm::Value *i) { context.storeReal(value, result, i); });
  };
  switch (op.kind()) {
  case OpKind::Constant:
    fill(context.real(op.realAttr("value")));
    return Status::ok();
  case OpKind::Broadcast:
    fill(context.loadReal(operands[0], context.index(0)));
    return Status::ok();
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div: {
    // A scalar operand of a non-scalar result is broadcast: load it once.
    auto scalarOf = [&](size_t i) -> llvm::Value * {
      if (op.operand(i)->type().numElements() != 1 || size == 1)
        return nullptr;
      return context.loadReal(operands[i], context.index(0));
    };
    llvm::Value *scalarA = scalarOf(0), *scalarB = scalarOf(1);
    context.emitLoop(size, [&](llvm::Value *i) {
      llvm::Value *a = scalarA ? scalarA : context.loadReal(operands[0], i);
      llvm::Value *b = scalarB ? scalarB : context.loadReal(operands[1], i);
      context.storeReal(binary(context, op.kind(), a, b), result, i);
    });
    return Status::ok();
  }
  case OpKind::Neg:
  case OpKind::Tanh:
  case OpKind::Sigmoid:
  case OpKind::Relu:
  case OpKind::Step:
  case OpKind::Exp:
  case OpKind::Log:
    context.emitLoop(size, [&](llvm::Value *i) {
      context.storeReal(unary(context, op.kind(), context.loadReal(operands[0], i)), result, i);
    });
    return Status::ok();
  default:
    return Error::internal(describeOp(op) + ": not an elementwise op");
  }
}

} // namespace rnnc::codegen
