// The shared helpers of the emitters (EmitContext.h): memory accesses, storage of values, the
// example's lengths, loops written so the loop vectoriser recognises them (canonical i64
// induction variables, constant trip counts where shapes are static).
#include "compiler/codegen/EmitContext.h"

#include "compiler/codegen/LLVMCompat.h"

#include <llvm/ADT/DenseSet.h>
#include <llvm/IR/InstIterator.h>
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

void EmitContext::failInternally(const std::string &message) {
  if (!internalError)
    internalError = Error::internal("codegen: " + message);
}

const Storage &EmitContext::storageOf(const ir::Value *value) const { return storage.at(value); }

Storage EmitContext::slotStorage(const ir::Value *value) {
  const WorkspaceSlot &slot = plan.slots[plan.valueSlots.at(value)];
  int64_t size = value->type().stepType().numElements();
  Storage result{slotPointers[plan.valueSlots.at(value)], nullptr, nullptr};
  if (slot.perExample)
    result.rowStride = index(size);
  if (slot.isSequence) {
    result.stride = builder.CreateMul(batchSize, index(size));
    if (slot.prefixSteps != 0)
      result.base = elementPointer(elementType(value->type()), result.base,
                                   builder.CreateMul(result.stride, index(slot.prefixSteps)));
  }
  return result;
}

llvm::Value *EmitContext::stepPointer(const Storage &storage, llvm::Type *element,
                                      llvm::Value *step) {
  llvm::Value *offset = nullptr;
  if (storage.isSequence())
    offset = builder.CreateMul(step, storage.stride);
  if (storage.rowStride) {
    if (!example) {
      failInternally("a per-example value used outside a loop over examples");
      return storage.base;
    }
    llvm::Value *row = builder.CreateMul(example, storage.rowStride);
    offset = offset ? builder.CreateAdd(offset, row) : row;
  }
  return offset ? elementPointer(element, storage.base, offset) : storage.base;
}

Storage EmitContext::stepStorage(const Storage &storage, llvm::Type *element, llvm::Value *step) {
  if (!storage.isSequence())
    return storage;
  return {elementPointer(element, storage.base, builder.CreateMul(step, storage.stride)), nullptr,
          storage.rowStride};
}

llvm::Value *EmitContext::stepPointer(const ir::Value *value, llvm::Value *step) {
  return stepPointer(storageOf(value), elementType(value->type()), step);
}

namespace {

/// ceil(L / K) on a segment axis `t/K`, L on a base axis.
llvm::Value *segmentsOf(EmitContext &context, const std::string &axis, llvm::Value *length) {
  auto segments = ir::parseSegmentAxis(axis);
  if (!segments)
    return length;
  return context.builder.CreateUDiv(
      context.builder.CreateAdd(length, context.index(segments->factor - 1)),
      context.index(segments->factor));
}

/// Element [axis][example] of a [axes][B] array of lengths.
llvm::Value *exampleEntry(EmitContext &context, llvm::Value *array, const std::string &axis) {
  if (!context.example) {
    context.failInternally("an example's length read outside a loop over examples");
    return context.index(0);
  }
  llvm::IRBuilder<> &builder = context.builder;
  llvm::Value *at = builder.CreateAdd(
      builder.CreateMul(context.index(static_cast<int64_t>(context.plan.axisIndex(axis))),
                        context.batchSize),
      context.example);
  return builder.CreateLoad(context.indexType,
                            context.elementPointer(context.indexType, array, at));
}

} // namespace

llvm::Value *EmitContext::axisLength(const std::string &axis) {
  return segmentsOf(*this, axis, exampleEntry(*this, lengthsArray, axis));
}

llvm::Value *EmitContext::longestLength(const std::string &axis) {
  return segmentsOf(*this, axis, longestLengths.at(plan.axisIndex(axis)));
}

llvm::Value *EmitContext::primeLength(const std::string &axis) {
  if (ir::parseSegmentAxis(axis))
    return index(0);
  return exampleEntry(*this, primeLengthsArray, axis);
}

void EmitContext::forEachExample(const std::function<void()> &body) {
  llvm::Value *outer = example;
  emitLoop(
      examplesBegin ? examplesBegin : index(0), examplesEnd ? examplesEnd : batchSize,
      [&](llvm::Value *b) {
        example = b;
        if (scanStep)
          emitIf(builder.CreateICmpSLT(scanStep, axisLength(scanAxis)), body);
        else
          body();
      },
      "example");
  example = outer;
}

void EmitContext::forEachExampleInParallel(llvm::Value *work, const std::function<void()> &body) {
  if (examplesBegin) {
    failInternally("a parallel loop over examples inside another one");
    return;
  }
  llvm::Function *kernel = function;
  llvm::IRBuilderBase::InsertPoint resume = builder.saveIP();
  auto *type = llvm::FunctionType::get(builder.getVoidTy(),
                                       {pointerType, indexType, indexType}, false);
  llvm::Function *part = llvm::Function::Create(type, llvm::Function::InternalLinkage,
                                                "rnnc_examples", module);
  part->addFnAttr(llvm::Attribute::NoUnwind);
  part->addParamAttr(0, llvm::Attribute::NoAlias);
  llvm::BasicBlock *entry = llvm::BasicBlock::Create(llvmContext, "entry", part);
  builder.SetInsertPoint(entry);
  function = part;
  examplesBegin = part->getArg(1);
  examplesEnd = part->getArg(2);
  forEachExample(body);
  builder.CreateRetVoid();
  examplesBegin = examplesEnd = nullptr;
  function = kernel;

  // The closure: every value of the kernel the part reads, in order of first use.
  std::vector<llvm::Value *> captured;
  llvm::DenseSet<llvm::Value *> seen;
  for (llvm::Instruction &instruction : llvm::instructions(part))
    for (llvm::Value *operand : instruction.operands()) {
      auto *defined = llvm::dyn_cast<llvm::Instruction>(operand);
      auto *argument = llvm::dyn_cast<llvm::Argument>(operand);
      bool fromKernel = (defined && defined->getFunction() == kernel) ||
                        (argument && argument->getParent() == kernel);
      if (fromKernel && seen.insert(operand).second)
        captured.push_back(operand);
    }
  std::vector<llvm::Type *> fields;
  for (llvm::Value *value : captured)
    fields.push_back(value->getType());
  llvm::StructType *closureType = llvm::StructType::get(llvmContext, fields);

  builder.SetInsertPoint(entry, entry->getFirstInsertionPt());
  for (size_t i = 0; i < captured.size(); ++i) {
    llvm::Value *field = builder.CreateStructGEP(closureType, part->getArg(0), unsigned(i));
    llvm::Value *inPart = builder.CreateLoad(fields[i], field);
    captured[i]->replaceUsesWithIf(inPart, [part](llvm::Use &use) {
      auto *user = llvm::dyn_cast<llvm::Instruction>(use.getUser());
      return user && user->getFunction() == part;
    });
  }

  llvm::Value *closure;
  {
    llvm::BasicBlock &kernelEntry = kernel->getEntryBlock();
    builder.SetInsertPoint(&kernelEntry, kernelEntry.getFirstInsertionPt());
    closure = builder.CreateAlloca(closureType);
  }
  builder.restoreIP(resume);
  for (size_t i = 0; i < captured.size(); ++i)
    builder.CreateStore(captured[i], builder.CreateStructGEP(closureType, closure, unsigned(i)));
  llvm::FunctionCallee parallel = runtimeFunction(
      "rnnc_rt_parallel_tiles", builder.getVoidTy(),
      {pointerType, pointerType, pointerType, indexType, indexType});
  builder.CreateCall(parallel, {runtimeContext, part, closure, batchSize, work});
}

void EmitContext::emitLoop(llvm::Value *begin, llvm::Value *end,
                           const std::function<void(llvm::Value *)> &body, const char *name) {
  emitCountedLoop(
      begin, end, {},
      [&](llvm::Value *i, const std::vector<llvm::Value *> &) {
        body(i);
        return std::vector<llvm::Value *>{};
      },
      name);
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
  return emitReductions(
      index(count), {initial},
      [&](llvm::Value *i, const std::vector<llvm::Value *> &accumulators) {
        return std::vector<llvm::Value *>{step(i, accumulators[0])};
      },
      name)[0];
}

std::vector<llvm::Value *> EmitContext::emitReductions(
    llvm::Value *count, const std::vector<llvm::Value *> &initial,
    const std::function<std::vector<llvm::Value *>(llvm::Value *,
                                                   const std::vector<llvm::Value *> &)> &step,
    const char *name) {
  return emitCountedLoop(index(0), count, initial, step, name);
}

std::vector<llvm::Value *> EmitContext::emitCountedLoop(
    llvm::Value *begin, llvm::Value *end, const std::vector<llvm::Value *> &initial,
    const std::function<std::vector<llvm::Value *>(llvm::Value *,
                                                   const std::vector<llvm::Value *> &)> &step,
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
  counter->addIncoming(begin, preheader);
  std::vector<llvm::Value *> accumulators;
  for (llvm::Value *value : initial) {
    llvm::PHINode *accumulator = builder.CreatePHI(value->getType(), 2, "acc");
    accumulator->addIncoming(value, preheader);
    accumulators.push_back(accumulator);
  }
  builder.CreateCondBr(builder.CreateICmpSLT(counter, end), loopBody, exit);
  builder.SetInsertPoint(loopBody);
  std::vector<llvm::Value *> next = step(counter, accumulators);
  counter->addIncoming(builder.CreateAdd(counter, index(1), "", true, true),
                       builder.GetInsertBlock());
  for (size_t i = 0; i < next.size(); ++i)
    llvm::cast<llvm::PHINode>(accumulators[i])->addIncoming(next[i], builder.GetInsertBlock());
  llvm::BranchInst *latch = builder.CreateBr(header);
  auto *first = llvm::dyn_cast<llvm::ConstantInt>(begin);
  auto *last = llvm::dyn_cast<llvm::ConstantInt>(end);
  if (first && last)
    addLoopHints(latch, last->getSExtValue() - first->getSExtValue());
  builder.SetInsertPoint(exit);
  return accumulators;
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
