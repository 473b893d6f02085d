// lowerGraph: the kernel's entry function and the walk over the graph (the PerExample strategy of
// KernelPlan.h). The entry reads the argument block (runtime/KernelABI.h), computes every
// workspace slot's address once, then loops over the examples in order: per example it loads the
// lengths of every axis, binds the leaves to the caller's tensors, emits every op of the graph
// (dispatching by family to the other emitters) and writes the outputs. An op outside a scan
// whose operands include sequences becomes a loop over the steps of its result's axis around the
// per-step emitter (time broadcasting, as the interpreter does it).
#include "compiler/codegen/Codegen.h"
#include "compiler/codegen/EmitContext.h"

#include "runtime/KernelABI.h"

#include <llvm/IR/Verifier.h>

#include <cstddef>
#include <llvm/Support/raw_ostream.h>

namespace rnnc::codegen {

using ir::Op;
using ir::OpKind;

namespace {

/// Field numbers of rnnc_rt_kernel_args.
enum ArgsField : unsigned {
  BatchSizeField,
  PaddedLengthsField,
  LengthsField,
  PrimeLengthsField,
  ParamsField,
  DataField,
  DataStepsField,
  OutputsField,
  WorkspaceField,
  RuntimeField,
};

// The kernel reads the argument block as consecutive 8-byte fields.
static_assert(offsetof(rnnc_rt_kernel_args, paddedLengths) == 8 * PaddedLengthsField);
static_assert(offsetof(rnnc_rt_kernel_args, params) == 8 * ParamsField);
static_assert(offsetof(rnnc_rt_kernel_args, dataSteps) == 8 * DataStepsField);
static_assert(offsetof(rnnc_rt_kernel_args, runtime) == 8 * RuntimeField);
static_assert(sizeof(rnnc_rt_kernel_args) == 8 * (RuntimeField + 1));

/// One per-step op, routed to its family's emitter.
Status emitStepOp(EmitContext &context, const Op &op, llvm::Value *result,
                  const std::vector<llvm::Value *> &operands, const StepPosition &position) {
  switch (op.kind()) {
  case OpKind::Constant:
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
  case OpKind::Neg:
  case OpKind::Tanh:
  case OpKind::Sigmoid:
  case OpKind::Relu:
  case OpKind::Step:
  case OpKind::Exp:
  case OpKind::Log:
  case OpKind::Broadcast:
    return emitElementwiseOp(context, op, result, operands);
  case OpKind::MatMul:
  case OpKind::Transpose:
  case OpKind::Outer:
    return emitLinearAlgebraOp(context, op, result, operands);
  case OpKind::TokenConstant:
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
  case OpKind::OneHot:
  case OpKind::Nll:
  case OpKind::SqErr:
  case OpKind::Sum:
  case OpKind::Mean:
  case OpKind::Concat:
  case OpKind::Slice:
  case OpKind::Pad:
  case OpKind::Argmax:
    return emitVectorOp(context, op, result, operands);
  case OpKind::Sample:
    return emitRuntimeCallOp(context, op, result, operands, position);
  default:
    return Error::internal(describeOp(op) + ": no per-step lowering");
  }
}

/// Binds a leaf to the caller's tensor (or, for a prime, to its padded copy).
Status emitLeaf(EmitContext &context, const Op &op) {
  llvm::IRBuilder<> &builder = context.builder;
  const KernelPlan &plan = context.plan;
  const ir::Type &type = op.result()->type();
  llvm::Type *element = context.elementType(type);
  auto pointerAt = [&](llvm::Value *array, size_t position) {
    return builder.CreateLoad(
        context.pointerType,
        context.elementPointer(context.pointerType, array, context.index(int64_t(position))));
  };
  if (op.kind() == OpKind::Param) {
    size_t position = std::find(plan.params.begin(), plan.params.end(), &op) - plan.params.begin();
    if (position == plan.params.size())
      return Error::internal(describeOp(op) + ": a leaf the plan does not know");
    context.storage[op.result()] = {pointerAt(context.params, position), nullptr};
    return Status::ok();
  }
  size_t position = std::find(plan.data.begin(), plan.data.end(), &op) - plan.data.begin();
  if (position == plan.data.size())
    return Error::internal(describeOp(op) + ": a leaf the plan does not know");
  llvm::Value *tensor = pointerAt(context.data, position);
  llvm::Value *size = context.index(type.stepType().numElements());
  llvm::Value *exampleBase =
      context.elementPointer(element, tensor, builder.CreateMul(context.example, size));
  if (!type.isSequence()) {
    context.storage[op.result()] = {exampleBase, nullptr};
    return Status::ok();
  }
  // Time-major [T, B, ...]: consecutive steps of one example are B * size elements apart.
  Storage inPlace{exampleBase, builder.CreateMul(context.batchSize, size)};
  if (!plan.dataIsPrime[position]) {
    context.storage[op.result()] = inPlace;
    return Status::ok();
  }
  // A prime: its first P steps, then zeros up to the example's length (feed never reads them).
  Storage copy = context.slotStorage(op.result());
  llvm::Value *prime = context.primeLength(type.axis);
  context.emitLoop(
      context.index(0), prime,
      [&](llvm::Value *t) {
        context.copyElements(element, context.stepPointer(copy, element, t),
                             context.stepPointer(inPlace, element, t), size);
      },
      "t");
  llvm::Value *rest = builder.CreateSub(context.axisLength(type.axis), prime);
  context.zeroElements(element, context.stepPointer(copy, element, prime),
                       builder.CreateMul(rest, size));
  context.storage[op.result()] = copy;
  return Status::ok();
}

/// A per-step op outside a scan over the steps of its result's axis, or once when static.
Status emitPerStepOp(EmitContext &context, const Op &op, const StepPosition &position) {
  const ir::Value *result = op.result();
  if (context.plan.foldedTransposes.count(&op)) {
    // The matmuls that use it read the operand transposed (LinearAlgebraEmitter.cpp).
    context.storage[result] = context.storageOf(op.operand(0));
    return Status::ok();
  }
  Storage storage = context.slotStorage(result);
  context.storage[result] = storage;
  llvm::Type *resultElement = context.elementType(result->type());
  if (!result->type().isSequence()) {
    std::vector<llvm::Value *> operands;
    for (const ir::Value *operand : op.operands())
      operands.push_back(context.stepPointer(operand, context.index(0)));
    return emitStepOp(context, op, storage.base, operands, position);
  }
  const std::string &axis = result->type().axis;
  llvm::Value *prime = context.primeLength(axis);
  Status status = Status::ok();
  context.emitLoop(
      context.index(0), context.axisLength(axis),
      [&](llvm::Value *t) {
        std::vector<llvm::Value *> operands;
        for (const ir::Value *operand : op.operands())
          operands.push_back(context.stepPointer(operand, t));
        StepPosition step{context.builder.CreateAdd(t, context.index(1)), prime};
        if (status)
          status = emitStepOp(context, op, context.stepPointer(storage, resultElement, t), operands,
                              step);
      },
      "t");
  return status;
}

class GraphEmitter {
public:
  GraphEmitter(EmitContext &context, const ir::Graph &graph) : context_(context), graph_(graph) {}

  Status emit() {
    llvm::IRBuilder<> &builder = context_.builder;
    auto *type = llvm::FunctionType::get(builder.getVoidTy(), {context_.pointerType}, false);
    llvm::Function *function = llvm::Function::Create(type, llvm::Function::ExternalLinkage,
                                                      context_.plan.entryName, context_.module);
    function->addFnAttr(llvm::Attribute::NoUnwind);
    function->addParamAttr(0, llvm::Attribute::NoAlias);
    function->addParamAttr(0, llvm::Attribute::ReadOnly);
    context_.function = function;
    context_.args = function->getArg(0);
    builder.SetInsertPoint(llvm::BasicBlock::Create(context_.llvmContext, "entry", function));

    loadArguments();
    computeSlotPointers();
    Status status = Status::ok();
    context_.emitLoop(
        context_.index(0), context_.batchSize,
        [&](llvm::Value *example) {
          if (status)
            status = emitExample(example);
        },
        "example");
    builder.CreateRetVoid();
    return status;
  }

private:
  llvm::Value *argsField(ArgsField field, llvm::Type *type) {
    llvm::Value *address = context_.elementPointer(context_.builder.getInt64Ty(), context_.args,
                                                   context_.index(static_cast<int64_t>(field)));
    return context_.builder.CreateLoad(type, address);
  }

  /// Element `position` of an i64 array.
  llvm::Value *loadIndex(llvm::Value *array, llvm::Value *position) {
    return context_.builder.CreateLoad(
        context_.indexType, context_.elementPointer(context_.indexType, array, position));
  }

  llvm::Value *loadPointer(llvm::Value *array, size_t position) {
    return context_.builder.CreateLoad(
        context_.pointerType,
        context_.elementPointer(context_.pointerType, array,
                                context_.index(static_cast<int64_t>(position))));
  }

  void loadArguments() {
    llvm::Type *pointer = context_.pointerType;
    context_.batchSize = argsField(BatchSizeField, context_.indexType);
    paddedLengthsArray_ = argsField(PaddedLengthsField, pointer);
    lengthsArray_ = argsField(LengthsField, pointer);
    primeLengthsArray_ = argsField(PrimeLengthsField, pointer);
    context_.params = argsField(ParamsField, pointer);
    context_.data = argsField(DataField, pointer);
    outputs_ = argsField(OutputsField, pointer);
    workspace_ = argsField(WorkspaceField, pointer);
    context_.runtimeContext = argsField(RuntimeField, pointer);
    for (size_t axis = 0; axis < context_.plan.axes.size(); ++axis)
      context_.paddedLengths.push_back(
          loadIndex(paddedLengthsArray_, context_.index(static_cast<int64_t>(axis))));
  }

  /// Static slots at their planned offsets; sequence slots after them, each as long as T steps.
  void computeSlotPointers() {
    llvm::IRBuilder<> &builder = context_.builder;
    const KernelPlan &plan = context_.plan;
    llvm::Value *offset = context_.index(plan.staticBytes);
    for (const WorkspaceSlot &slot : plan.slots) {
      if (!slot.isSequence) {
        context_.slotPointers.push_back(context_.elementPointer(builder.getInt8Ty(), workspace_,
                                                                context_.index(slot.staticOffset)));
        continue;
      }
      context_.slotPointers.push_back(
          context_.elementPointer(builder.getInt8Ty(), workspace_, offset));
      llvm::Value *steps = context_.paddedLengths[slot.axis];
      if (slot.segmentFactor > 1)
        steps = builder.CreateUDiv(builder.CreateAdd(steps, context_.index(slot.segmentFactor - 1)),
                                   context_.index(slot.segmentFactor));
      llvm::Value *bytes = builder.CreateMul(steps, context_.index(slot.bytesPerStep));
      bytes = builder.CreateAnd(builder.CreateAdd(bytes, context_.index(kSlotAlignment - 1)),
                                context_.index(-kSlotAlignment));
      offset = builder.CreateAdd(offset, bytes);
    }
  }

  Status emitExample(llvm::Value *example) {
    llvm::IRBuilder<> &builder = context_.builder;
    const KernelPlan &plan = context_.plan;
    context_.example = example;
    context_.storage.clear();
    context_.lengths.clear();
    context_.primeLengths.clear();
    for (size_t axis = 0; axis < plan.axes.size(); ++axis) {
      llvm::Value *at = builder.CreateAdd(
          builder.CreateMul(context_.index(static_cast<int64_t>(axis)), context_.batchSize),
          example);
      context_.lengths.push_back(loadIndex(lengthsArray_, at));
      context_.primeLengths.push_back(loadIndex(primeLengthsArray_, at));
    }
    if (!plan.failingOps.empty())
      builder.CreateCall(context_.runtimeFunction("rnnc_rt_begin_example", builder.getVoidTy(),
                                                  {context_.pointerType, context_.indexType}),
                         {context_.runtimeContext, example});
    if (Status status = emitTopLevel(); !status)
      return status;
    if (!plan.failingOps.empty()) {
      // Stop after the example that failed, as the interpreter does.
      llvm::Value *failed = builder.CreateCall(
          context_.runtimeFunction("rnnc_rt_failed", context_.tokenType, {context_.pointerType}),
          {context_.runtimeContext});
      llvm::BasicBlock *stop =
          llvm::BasicBlock::Create(context_.llvmContext, "failed", context_.function);
      llvm::BasicBlock *next =
          llvm::BasicBlock::Create(context_.llvmContext, "next", context_.function);
      builder.CreateCondBr(builder.CreateICmpNE(failed, builder.getInt32(0)), stop, next);
      builder.SetInsertPoint(stop);
      builder.CreateRetVoid();
      builder.SetInsertPoint(next);
    }
    return Status::ok();
  }

  Status emitTopLevel() {
    for (const auto &owned : graph_.body().ops()) {
      const Op &op = *owned;
      Status status = Status::ok();
      switch (op.kind()) {
      case OpKind::Output:
        status = emitOutput(op);
        break;
      default:
        status = emitOp(context_, op, StepPosition{});
      }
      if (!status)
        return status;
    }
    return Status::ok();
  }

  Status emitOutput(const Op &op) {
    llvm::IRBuilder<> &builder = context_.builder;
    const KernelPlan &plan = context_.plan;
    size_t index = 0;
    while (index < plan.outputs.size() && plan.outputs[index].op != &op)
      ++index;
    if (index == plan.outputs.size())
      return Error::internal(describeOp(op) + ": an output the plan does not know");
    const KernelOutput &output = plan.outputs[index];
    const ir::Value *value = op.operand(0);
    llvm::Type *element = context_.elementType(output.type);
    int64_t size = output.type.stepType().numElements();
    llvm::Value *tensor = loadPointer(outputs_, index);
    if (output.layout == OutputLayout::SummedOverBatch) {
      llvm::Value *source = context_.stepPointer(value, context_.index(0));
      context_.emitLoop(size, [&](llvm::Value *i) {
        llvm::Value *sum =
            builder.CreateFAdd(context_.loadReal(tensor, i), context_.loadReal(source, i));
        context_.storeReal(sum, tensor, i);
      });
      return Status::ok();
    }
    if (!output.type.isSequence()) {
      llvm::Value *target = context_.elementPointer(
          element, tensor, builder.CreateMul(context_.example, context_.index(size)));
      context_.copyElements(element, target, context_.stepPointer(value, context_.index(0)),
                            context_.index(size));
      return Status::ok();
    }
    // [T, B, ...]: step t of example b at (t * B + b) * size; zeros (from the caller) past L.
    context_.emitLoop(
        context_.index(0), context_.axisLength(output.type.axis),
        [&](llvm::Value *t) {
          llvm::Value *row =
              builder.CreateAdd(builder.CreateMul(t, context_.batchSize), context_.example);
          llvm::Value *target = context_.elementPointer(
              element, tensor, builder.CreateMul(row, context_.index(size)));
          context_.copyElements(element, target, context_.stepPointer(value, t),
                                context_.index(size));
        },
        "t");
    return Status::ok();
  }

  EmitContext &context_;
  const ir::Graph &graph_;
  llvm::Value *paddedLengthsArray_ = nullptr, *lengthsArray_ = nullptr,
              *primeLengthsArray_ = nullptr, *outputs_ = nullptr, *workspace_ = nullptr;
};

} // namespace

Status emitOp(EmitContext &context, const Op &op, const StepPosition &position) {
  switch (op.kind()) {
  case OpKind::Param:
  case OpKind::Input:
  case OpKind::Target:
    return emitLeaf(context, op);
  case OpKind::Scan:
    return emitScan(context, op);
  case OpKind::Feed:
    return emitFeed(context, op, position);
  case OpKind::Yield:
  case OpKind::Output:
    return Error::internal(describeOp(op) + ": not expected here");
  default:
    if (isWholeSequenceOp(op.kind()))
      return emitTimeOp(context, op);
    return emitPerStepOp(context, op, position);
  }
}

Status emitBlock(EmitContext &context, const ir::Block &block, const StepPosition &position) {
  for (const auto &op : block.ops()) {
    if (op->kind() == OpKind::Yield)
      break;
    if (Status status = emitOp(context, *op, position); !status)
      return status;
  }
  return Status::ok();
}

Expected<LoweredGraph> lowerGraph(const ir::Graph &graph, llvm::LLVMContext &llvmContext,
                                  const PlanOptions &options) {
  auto plan = planKernel(graph, options);
  if (!plan)
    return plan.takeError();
  LoweredGraph lowered{plan.take(), std::make_unique<llvm::Module>(graph.name(), llvmContext)};
  EmitContext context(*lowered.module, lowered.plan);
  GraphEmitter emitter(context, graph);
  if (Status status = emitter.emit(); !status)
    return status.takeError();
  std::string problems;
  llvm::raw_string_ostream stream(problems);
  if (llvm::verifyModule(*lowered.module, &stream))
    return Error::internal("the generated LLVM IR does not verify: " + stream.str());
  return lowered;
}

} // namespace rnnc::codegen
