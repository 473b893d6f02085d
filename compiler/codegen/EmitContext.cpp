// The shared helpers of the emitters (EmitContext.h): memory accesses, storage of values, the
// example's lengths, loops written so the loop vectoriser recognises them (canonical i64
// induction variables, constant trip counts where shapes are static).
#include "compiler/codegen/EmitContext.h"

#include "compiler/codegen/LLVMCompat.h"

#include <llvm/IR/Intrinsics.h>

namespace rnnc::codegen {

EmitContext::EmitContext(llvm::Module &module, const KernelPlan &plan)
    : module(module), llvmContext(module.getContext()), builder(module.getContext()), plan(plan) {
  realType = plan.precision == ir::Precision::Double ? builder.getDoubleTy() : builder.getFloatTy();
  tokenType = builder.getInt32Ty();
  indexType = builder.getInt64Ty();
  pointerType = builder.getPtrTy();
  // Contraction (a * b + c as one fma) everywhere; reassociation only where reductions ask.
  llvm::FastMathFlags flags;
  flags.setAllowContract(true);
  builder.setFastMathFlags(flags);
}

llvm::Value *EmitContext::elementPointer(llvm::Type *type, llvm::Value *base, llvm::Value *offset) {
  if (auto *constant = llvm::dyn_cast<llvm::ConstantInt>(offset); constant && constant->isZero())
    return base;
  return builder.CreateInBoundsGEP(type, base, offset);
}

llvm::Value *EmitContext::loadReal(llvm::Value *base, llvm::Value *offset) {
  return builder.CreateLoad(realType, elementPointer(realType, base, offset));
}

void EmitContext::storeReal(llvm::Value *value, llvm::Value *base, llvm::Value *offset) {
  builder.CreateStore(value, elementPointer(realType, base, offset));
}

void EmitContext::copyElements(llvm::Type *type, llvm::Value *to, llvm::Value *from,
                               llvm::Value *count) {
  uint64_t bytes = module.getDataLayout().getTypeAllocSize(type);
  builder.CreateMemCpy(to, llvm::MaybeAlign(bytes), from, llvm::MaybeAlign(bytes),
                       builder.CreateMul(count, index(static_cast<int64_t>(bytes))));
}

void EmitContext::zeroElements(llvm::Type *type, llvm::Value *to, llvm::Value *count) {
  uint64_t bytes = module.getDataLayout().getTypeAllocSize(type);
  builder.CreateMemSet(to, builder.getInt8(0),
                       builder.CreateMul(count, index(static_cast<int64_t>(bytes))),
                       llvm::MaybeAlign(bytes));
}

const Storage &EmitContext::storageOf(const ir::Value *value) const { return storage.at(value); }

Storage EmitContext::slotStorage(const ir::Value *value) {
  const WorkspaceSlot &slot = plan.slots[plan.valueSlots.at(value)];
  Storage result{slotPointers[plan.valueSlots.at(value)], nullptr};
  if (slot.isSequence)
    result.stride = index(value->type().numElements());
  return result;
}

llvm::Value *EmitContext::stepPointer(const Storage &storage, llvm::Type *element,
                                      llvm::Value *step) {
  if (!storage.isSequence())
    return storage.base;
  return elementPointer(element, storage.base, builder.CreateMul(step, storage.stride));
}

llvm::Value *EmitContext::stepPointer(const ir::Value *value, llvm::Value *step) {
  return stepPointer(storageOf(value), elementType(value->type()), step);
}

llvm::Value *EmitContext::axisLength(const std::string &axis) {
  llvm::Value *length = lengths.at(plan.axisIndex(axis));
  if (auto segments = ir::parseSegmentAxis(axis)) {
    llvm::Value *factor = index(segments->factor);
    length = builder.CreateUDiv(builder.CreateAdd(length, index(segments->factor - 1)), factor);
  }
  return length;
}

llvm::Value *EmitContext::primeLength(const std::string &axis) {
  if (ir::parseSegmentAxis(axis))
    return index(0);
  return primeLengths.at(plan.axisIndex(axis));
}

void EmitContext::emitLoop(llvm::Value *begin, llvm::Value *end,
                           const std::function<void(llvm::Value *)> &body, const char *name) {
  llvm::BasicBlock *preheader = builder.GetInsertBlock();
  llvm::BasicBlock *header = llvm::BasicBlock::Create(llvmContext, name, function);
  llvm::BasicBlock *loopBody =
      llvm::BasicBlock::Create(llvmContext, std::string(name) + ".body", function);
  llvm::BasicBlock *exit =
      llvm::BasicBlock::Create(llvmContext, std::string(name) + ".exit", function);
  builder.CreateBr(header);
  builder.SetInsertPoint(header);
  llvm::PHINode *counter = builder.CreatePHI(indexType, 2, name);
  counter->addIncoming(begin, preheader);
  builder.CreateCondBr(builder.CreateICmpSLT(counter, end), loopBody, exit);
  builder.SetInsertPoint(loopBody);
  body(counter);
  llvm::Value *next = builder.CreateAdd(counter, index(1), "", /*HasNUW=*/true, /*HasNSW=*/true);
  counter->addIncoming(next, builder.GetInsertBlock());
  llvm::BranchInst *latch = builder.CreateBr(header);
  if (auto *count = llvm::dyn_cast<llvm::ConstantInt>(end);
      count && llvm::isa<llvm::ConstantInt>(begin))
    addLoopHints(latch, count->getSExtValue());
  builder.SetInsertPoint(exit);
}

void EmitContext::addLoopHints(llvm::BranchInst *latch, int64_t tripCount) {
  // Fully unrolling a loop over a whole vector before the loop vectoriser sees it leaves a chain
  // of scalar operations (for a dot product, one long dependent chain of FMAs) that the SLP
  // vectoriser only partly recovers; vector loops with interleaved accumulators are faster and
  // compile faster. Short loops are still unrolled.
  if (tripCount < kVectorLoopMinimum)
    return;
  llvm::MDNode *disable =
      llvm::MDNode::get(llvmContext, llvm::MDString::get(llvmContext, "llvm.loop.unroll.disable"));
  llvm::MDNode *loop = llvm::MDNode::getDistinct(llvmContext, {nullptr, disable});
  loop->replaceOperandWith(0, loop);
  latch->setMetadata(llvm::LLVMContext::MD_loop, loop);
}

llvm::Value *
EmitContext::emitReduction(int64_t count, llvm::Value *initial,
                           const std::function<llvm::Value *(llvm::Value *, llvm::Value *)> &step,
                           const char *name) {
  llvm::BasicBlock *preheader = builder.GetInsertBlock();
  llvm::BasicBlock *header = llvm::BasicBlock::Create(llvmContext, name, function);
  llvm::BasicBlock *loopBody =
      llvm::BasicBlock::Create(llvmContext, std::string(name) + ".body", function);
  llvm::BasicBlock *exit =
      llvm::BasicBlock::Create(llvmContext, std::string(name) + ".exit", function);
  builder.CreateBr(header);
  builder.SetInsertPoint(header);
  llvm::PHINode *counter = builder.CreatePHI(indexType, 2, name);
  llvm::PHINode *accumulator = builder.CreatePHI(initial->getType(), 2, "acc");
  counter->addIncoming(index(0), preheader);
  accumulator->addIncoming(initial, preheader);
  builder.CreateCondBr(builder.CreateICmpSLT(counter, index(count)), loopBody, exit);
  builder.SetInsertPoint(loopBody);
  llvm::Value *next = step(counter, accumulator);
  counter->addIncoming(builder.CreateAdd(counter, index(1), "", true, true),
                       builder.GetInsertBlock());
  accumulator->addIncoming(next, builder.GetInsertBlock());
  addLoopHints(builder.CreateBr(header), count);
  builder.SetInsertPoint(exit);
  return accumulator;
}

void EmitContext::emitIf(llvm::Value *condition, const std::function<void()> &then) {
  llvm::BasicBlock *thenBlock = llvm::BasicBlock::Create(llvmContext, "then", function);
  llvm::BasicBlock *after = llvm::BasicBlock::Create(llvmContext, "endif", function);
  builder.CreateCondBr(condition, thenBlock, after);
  builder.SetInsertPoint(thenBlock);
  then();
  builder.CreateBr(after);
  builder.SetInsertPoint(after);
}

llvm::FastMathFlags EmitContext::reductionFlags() const {
  llvm::FastMathFlags flags;
  flags.setAllowContract(true);
  flags.setAllowReassoc(true);
  return flags;
}

llvm::Value *EmitContext::multiplyAdd(llvm::Value *a, llvm::Value *b, llvm::Value *accumulator) {
  llvm::Function *fmuladd = compat::intrinsic(module, llvm::Intrinsic::fmuladd, {realType});
  llvm::CallInst *call = builder.CreateCall(fmuladd, {a, b, accumulator});
  call->setFastMathFlags(reductionFlags());
  return call;
}

llvm::Value *EmitContext::reduceAdd(llvm::Value *accumulator, llvm::Value *value) {
  llvm::Value *sum = builder.CreateFAdd(accumulator, value);
  if (auto *instruction = llvm::dyn_cast<llvm::Instruction>(sum))
    instruction->setFastMathFlags(reductionFlags());
  return sum;
}

llvm::FunctionCallee EmitContext::runtimeFunction(const std::string &name, llvm::Type *result,
                                                  llvm::ArrayRef<llvm::Type *> parameters) {
  auto *type = llvm::FunctionType::get(result, parameters, /*isVarArg=*/false);
  llvm::FunctionCallee callee = module.getOrInsertFunction(name, type);
  if (auto *declaration = llvm::dyn_cast<llvm::Function>(callee.getCallee()))
    declaration->addFnAttr(llvm::Attribute::NoUnwind);
  return callee;
}

} // namespace rnnc::codegen
