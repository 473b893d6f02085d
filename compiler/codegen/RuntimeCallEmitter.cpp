// What the kernel leaves to the runtime (runtime/KernelABI.h): `sample`, which draws exactly as
// the interpreter does from the example's own generator, and the reports of run-time errors.
// Also `feed`, which copies one of its operands, chosen per example by the step and the example's
// prime length.
#include "compiler/codegen/EmitContext.h"

namespace rnnc::codegen {

Status emitRuntimeCallOp(EmitContext &context, const ir::Op &op, llvm::Value *result,
                         const std::vector<llvm::Value *> &operands, const StepPosition &) {
  llvm::IRBuilder<> &builder = context.builder;
  if (op.kind() != ir::OpKind::Sample)
    return Error::internal(describeOp(op) + ": not a runtime call");
  bool isDouble = context.plan.precision == ir::Precision::Double;
  llvm::FunctionCallee sample = context.runtimeFunction(
      isDouble ? "rnnc_rt_sample_f64" : "rnnc_rt_sample_f32", context.tokenType,
      {context.pointerType, context.pointerType, context.indexType, context.tokenType,
       context.indexType});
  llvm::Value *token = builder.CreateCall(
      sample,
      {context.runtimeContext, operands[0], context.index(op.operand(0)->type().numElements()),
       builder.getInt32(static_cast<uint32_t>(context.plan.failingOpId(&op))), context.example});
  builder.CreateStore(token, result);
  return Status::ok();
}

Status emitFeed(EmitContext &context, const ir::Op &op, const StepPosition &position) {
  if (!position.step)
    return Error::internal(describeOp(op) + ": 'feed' outside a step of a sequence");
  llvm::IRBuilder<> &builder = context.builder;
  Storage storage = context.slotStorage(op.result());
  context.storage[op.result()] = storage;
  const ir::Type &type = op.result()->type();
  llvm::Type *element = context.elementType(type);
  context.forEachExample([&] {
    llvm::Value *given = context.stepPointer(op.operand(0), context.index(0));
    llvm::Value *fallback = context.stepPointer(op.operand(1), context.index(0));
    llvm::Value *withinPrime =
        builder.CreateICmpSLE(position.step, context.primeLength(position.axis));
    context.copyElements(element, context.stepPointer(storage, element, context.index(0)),
                         builder.CreateSelect(withinPrime, given, fallback),
                         context.index(type.numElements()));
  });
  return Status::ok();
}

void emitFailure(EmitContext &context, const ir::Op &op, int32_t code, llvm::Value *first,
                 llvm::Value *second) {
  llvm::IRBuilder<> &builder = context.builder;
  llvm::FunctionCallee fail =
      context.runtimeFunction("rnnc_rt_fail", builder.getVoidTy(),
                              {context.pointerType, context.tokenType, context.tokenType,
                               context.indexType, context.indexType, context.indexType});
  builder.CreateCall(fail, {context.runtimeContext,
                            builder.getInt32(static_cast<uint32_t>(context.plan.failingOpId(&op))),
                            builder.getInt32(static_cast<uint32_t>(code)), first, second,
                            context.example});
}

} // namespace rnnc::codegen
