// Batched products: a call to the runtime's product micro-kernels (runtime/Product.h), not a
// micro-kernel generated per model. out[r, i] = Σ_p A[i, p] x[r, p] for a block of rows, A
// packed in 64-byte panels (runtime/Gemm.h); the runtime adds the addend in the tile's epilogue,
// picks the widest instruction set of at most the target's vector width that the CPU has, the
// tile shape, and the split over its threads. What stays generated is the activation of a fused
// epilogue (KernelPlan.h), applied in place right after the call while the rows are in cache,
// with the same vectorised tanh and sigmoid as every other op (MathEmitter.cpp).
//
// Invariant: the module declares rnnc_rt_product_f32/_f64 and holds no product loop of its own;
// every element is one chain of fused multiply-adds over p = 0 … k−1 in order on any thread.
#include "compiler/codegen/EmitContext.h"

#include "runtime/KernelCABI.h"

#include <cstddef>

namespace rnnc::codegen {

namespace {

/// The fields of rnnc_rt_product (runtime/KernelCABI.h), each one i64 or pointer.
enum ProductField : unsigned {
  RowsField,
  MField,
  KField,
  PackedField,
  XField,
  XRowStrideField,
  XColumnStrideField,
  OutField,
  OutRowStrideField,
  AddendField,
  AddendRowStrideField,
  VectorBytesField,
  FieldCount,
};
static_assert(sizeof(rnnc_rt_product) == 8 * FieldCount);
static_assert(offsetof(rnnc_rt_product, vectorBytes) == 8 * VectorBytesField);

/// out[r, i] = activation(out[r, i]) for the product's rows and m columns.
void emitActivationInPlace(EmitContext &context, int64_t m, const GemmOperands &operands) {
  context.emitLoop(context.index(0), operands.rows, [&](llvm::Value *row) {
    llvm::Value *rowStart = context.builder.CreateMul(row, operands.outRowStride);
    context.emitLoop(m, [&](llvm::Value *i) {
      llvm::Value *offset = context.builder.CreateAdd(rowStart, i);
      llvm::Value *value = context.loadReal(operands.out, offset);
      value = operands.activation == ir::OpKind::Tanh ? emitTanh(context, value)
                                                      : emitSigmoid(context, value);
      context.storeReal(value, operands.out, offset);
    });
  });
}

} // namespace

void emitGemm(EmitContext &context, int64_t m, const GemmOperands &operands) {
  llvm::IRBuilder<> &builder = context.builder;
  // The argument block lives in the entry block's frame: one per call site.
  llvm::Value *product;
  {
    llvm::IRBuilderBase::InsertPointGuard guard(builder);
    llvm::BasicBlock &entry = context.function->getEntryBlock();
    builder.SetInsertPoint(&entry, entry.getFirstInsertionPt());
    product = builder.CreateAlloca(llvm::ArrayType::get(context.indexType, FieldCount));
  }
  bool hasAddend = operands.addend != nullptr;
  llvm::Value *values[FieldCount] = {
      operands.rows,
      context.index(m),
      operands.k,
      operands.packed,
      operands.x,
      operands.xRowStride,
      operands.xColumnStride,
      operands.out,
      operands.outRowStride,
      hasAddend ? operands.addend : llvm::ConstantPointerNull::get(builder.getPtrTy()),
      hasAddend ? operands.addendRowStride : context.index(0),
      context.index(context.plan.vectorBytes)};
  for (unsigned field = 0; field < FieldCount; ++field)
    builder.CreateStore(values[field], context.elementPointer(context.indexType, product,
                                                              context.index(field)));
  bool isDouble = context.plan.precision == ir::Precision::Double;
  llvm::FunctionCallee run = context.runtimeFunction(
      isDouble ? "rnnc_rt_product_f64" : "rnnc_rt_product_f32", builder.getVoidTy(),
      {context.pointerType, context.pointerType});
  builder.CreateCall(run, {context.runtimeContext, product});
  if (hasAddend && operands.activation != ir::OpKind::Add)
    emitActivationInPlace(context, m, operands);
}

} // namespace rnnc::codegen
