// lowerGraph: the kernel's entry function and the walk over the graph (the batched strategy of
// KernelPlan.h). The entry reads the argument block (runtime/KernelABI.h), computes every
// workspace slot's address and the batch's longest length per axis once, packs the parameters
// of batched products, then emits every op of the graph once, dispatching by family to the other
// emitters: a batch-invariant op runs once, a batched product is one GEMM over the rows of all
// examples, any other op runs in a loop over the examples. An op outside a scan whose operands
// include sequences runs over each example's steps of its result's axis (time broadcasting, as
// the interpreter does it).
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

/// One per-step op at `step` (0-based) of the current example, routed to its family's emitter.
Status emitStepOp(EmitContext &context, const Op &op, llvm::Value *result, llvm::Value *step,
                  const StepPosition &position) {
  if (ir::isElementwiseOp(op.kind()) || op.kind() == OpKind::Constant ||
      op.kind() == OpKind::Broadcast)
    return emitElementwiseOp(context, op, result, elementSources(context, op, step));
  std::vector<llvm::Value *> operands;
  for (const ir::Value *operand : op.operands())
    operands.push_back(context.stepPointer(operand, step));
  if (op.kind() == OpKind::Sample)
    return emitRuntimeCallOp(context, op, result, operands, position);
  switch (ir::opInfo(op.kind()).family) {
  case ir::OpFamily::LinearAlgebra:
    return emitLinearAlgebraOp(context, op, result, operands);
  case ir::OpFamily::Vector:
  case ir::OpFamily::Leaf: // token_constant; the other leaves never reach here
    return emitVectorOp(context, op, result, operands);
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
    context.storage[op.result()] = {pointerAt(context.params, position), nullptr, nullptr};
    return Status::ok();
  }
  size_t position = std::find(plan.data.begin(), plan.data.end(), &op) - plan.data.begin();
  if (position == plan.data.size())
    return Error::internal(describeOp(op) + ": a leaf the plan does not know");
  llvm::Value *tensor = pointerAt(context.data, position);
  llvm::Value *size = context.index(type.stepType().numElements());
  // [B, ...], or time-major [T, B, ...]: consecutive steps of one example are B * size apart.
  Storage inPlace{tensor, type.isSequence() ? builder.CreateMul(context.batchSize, size) : nullptr,
                  size};
  if (!plan.dataIsPrime[position]) {
    context.storage[op.result()] = inPlace;
    return Status::ok();
  }
  // A prime: its first P steps, then zeros up to the example's length (feed never reads them).
  Storage copy = context.slotStorage(op.result());
  context.forEachExample([&] {
    llvm::Value *prime = context.primeLength(type.axis);
    context.emitLoop(
        context.index(0), context.axisLength(type.axis),
        [&](llvm::Value *t) {
          llvm::Value *to = context.stepPointer(copy, element, t);
          context.emitIf(builder.CreateICmpSLT(t, prime), [&] {
            context.copyElements(element, to, context.stepPointer(inPlace, element, t), size);
          });
          context.emitIf(builder.CreateICmpSGE(t, prime),
                         [&] { context.zeroElements(element, to, size); });
        },
        "t");
  });
  context.storage[op.result()] = copy;
  return Status::ok();
}

/// Runs a per-step op: once when batch-invariant, as one GEMM when planned so, else for every
/// example — over the example's steps of the result's axis when the op is a sequence op outside
/// a scan.
Status emitPerStepOp(EmitContext &context, const Op &op, const StepPosition &position) {
  const ir::Value *result = op.result();
  if (context.plan.foldedTransposes.count(&op)) {
    // The matmuls that use it read the operand transposed (LinearAlgebraEmitter.cpp).
    context.storage[result] = context.storageOf(op.operand(0));
    return Status::ok();
  }
  if (context.plan.batchedMatMuls.count(&op))
    return emitBatchedMatMul(context, op);
  if (context.plan.fusedIntoProducts.count(&op))
    return Status::ok(); // done in the product's tile, which stored the fused result
  if (context.plan.inlinedElementwise.count(&op))
    return Status::ok(); // computed in its user's loop (elementSources)
  Storage storage = context.slotStorage(result);
  context.storage[result] = storage;
  llvm::Type *resultElement = context.elementType(result->type());
  Status status = Status::ok();
  auto emitAt = [&](llvm::Value *t, const StepPosition &at) {
    if (status)
      status = emitStepOp(context, op, context.stepPointer(storage, resultElement, t), t, at);
  };
  if (context.plan.isBatchInvariant(result)) {
    emitAt(context.index(0), position);
    return status;
  }
  auto forEachExample = [&](llvm::Value *steps, const std::function<void()> &body) {
    if (context.scanStep || !runsInParallel(context.plan, op))
      return context.forEachExample(body);
    int64_t elements = result->type().stepType().numElements();
    context.forEachExampleInParallel(
        context.builder.CreateMul(context.builder.CreateMul(context.batchSize, steps),
                                  context.index(elements)),
        body);
  };
  if (!result->type().isSequence()) {
    forEachExample(context.index(1), [&] { emitAt(context.index(0), position); });
    return status;
  }
  const std::string &axis = result->type().axis;
  forEachExample(context.longestLength(axis), [&] {
    context.emitLoop(
        context.index(0), context.axisLength(axis),
        [&](llvm::Value *t) {
          emitAt(t, StepPosition{context.builder.CreateAdd(t, context.index(1)), axis});
        },
        "t");
  });
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
    computeLongestLengths();
    if (!context_.plan.failingOps.empty())
      builder.CreateCall(context_.runtimeFunction("rnnc_rt_begin_batch", builder.getVoidTy(),
                                                  {context_.pointerType, context_.indexType}),
                         {context_.runtimeContext, context_.batchSize});
    Status status = emitTopLevel();
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
    context_.lengthsArray = argsField(LengthsField, pointer);
    context_.primeLengthsArray = argsField(PrimeLengthsField, pointer);
    context_.params = argsField(ParamsField, pointer);
    context_.data = argsField(DataField, pointer);
    outputs_ = argsField(OutputsField, pointer);
    workspace_ = argsField(WorkspaceField, pointer);
    context_.runtimeContext = argsField(RuntimeField, pointer);
    for (size_t axis = 0; axis < context_.plan.axes.size(); ++axis)
      context_.paddedLengths.push_back(
          loadIndex(paddedLengthsArray_, context_.index(static_cast<int64_t>(axis))));
  }

  /// Slots one after the other, each as large as the batch needs (WorkspaceSlot::bytes).
  void computeSlotPointers() {
    llvm::IRBuilder<> &builder = context_.builder;
    llvm::Value *offset = context_.index(0);
    for (const WorkspaceSlot &slot : context_.plan.slots) {
      context_.slotPointers.push_back(
          context_.elementPointer(builder.getInt8Ty(), workspace_, offset));
      llvm::Value *rows = slot.perExample ? context_.batchSize : context_.index(1);
      if (slot.isSequence) {
        llvm::Value *steps = context_.paddedLengths[slot.axis];
        if (slot.segmentFactor > 1)
          steps = builder.CreateUDiv(
              builder.CreateAdd(steps, context_.index(slot.segmentFactor - 1)),
              context_.index(slot.segmentFactor));
        rows = builder.CreateMul(rows, builder.CreateAdd(steps, context_.index(slot.prefixSteps)));
      }
      llvm::Value *bytes = builder.CreateMul(rows, context_.index(slot.bytesPerStep));
      bytes = builder.CreateAnd(builder.CreateAdd(bytes, context_.index(kSlotAlignment - 1)),
                                context_.index(-kSlotAlignment));
      offset = builder.CreateAdd(offset, bytes);
    }
  }

  void computeLongestLengths() {
    llvm::IRBuilder<> &builder = context_.builder;
    for (const std::string &axis : context_.plan.axes) {
      llvm::Value *longest = builder.CreateAlloca(context_.indexType);
      builder.CreateStore(context_.index(0), longest);
      context_.forEachExample([&] {
        llvm::Value *current = builder.CreateLoad(context_.indexType, longest);
        llvm::Value *length = context_.axisLength(axis);
        builder.CreateStore(builder.CreateSelect(builder.CreateICmpSGT(length, current), length,
                                                 current),
                            longest);
      });
      context_.longestLengths.push_back(builder.CreateLoad(context_.indexType, longest));
    }
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
        for (size_t i = 0; status && i < op.numResults(); ++i)
          emitPacksOf(context_, op.result(i));
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
      // Example by example in order, as the interpreter sums them; once when already summed.
      auto addToOutput = [&] {
        llvm::Value *source = context_.stepPointer(value, context_.index(0));
        context_.emitLoop(size, [&](llvm::Value *i) {
          llvm::Value *sum =
              builder.CreateFAdd(context_.loadReal(tensor, i), context_.loadReal(source, i));
          context_.storeReal(sum, tensor, i);
        });
      };
      const ir::Op *producer = value->definingOp();
      if (producer && context_.plan.batchSummedOuters.count(producer))
        addToOutput();
      else
        context_.forEachExample(addToOutput);
      return Status::ok();
    }
    if (!output.type.isSequence()) {
      context_.forEachExample([&] {
        llvm::Value *target = context_.elementPointer(
            element, tensor, builder.CreateMul(context_.example, context_.index(size)));
        context_.copyElements(element, target, context_.stepPointer(value, context_.index(0)),
                              context_.index(size));
      });
      return Status::ok();
    }
    // [T, B, ...]: step t of example b at (t * B + b) * size; zeros (from the caller) past L.
    llvm::Value *work = builder.CreateMul(
        builder.CreateMul(context_.batchSize, context_.longestLength(output.type.axis)),
        context_.index(size));
    context_.forEachExampleInParallel(work, [&] {
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
    });
    return Status::ok();
  }

  EmitContext &context_;
  const ir::Graph &graph_;
  llvm::Value *paddedLengthsArray_ = nullptr, *outputs_ = nullptr, *workspace_ = nullptr;
};

} // namespace

bool runsInParallel(const KernelPlan &plan, const Op &op) {
  return op.kind() != OpKind::Sample &&
         std::find(plan.failingOps.begin(), plan.failingOps.end(), &op) == plan.failingOps.end();
}

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

namespace {

/// Whether `op` emits no code of its own: its value is computed in another op's loop or tile.
bool computedElsewhere(const KernelPlan &plan, const Op &op) {
  return plan.fusedIntoProducts.count(&op) || plan.inlinedElementwise.count(&op);
}

/// Whether `op`, in a scan body, is computed row by row for each example that has the step
/// (emitPerStepOp's loop over the examples) by code that may run on the runtime's threads.
bool runsPerExampleInScan(const KernelPlan &plan, const Op &op) {
  switch (op.kind()) {
  case OpKind::Param:
  case OpKind::Input:
  case OpKind::Target:
  case OpKind::Scan:
  case OpKind::Feed:
  case OpKind::Yield:
  case OpKind::Output:
    return false;
  default:
    break;
  }
  if (isWholeSequenceOp(op.kind()) || plan.foldedTransposes.count(&op) ||
      plan.batchedMatMuls.count(&op) || computedElsewhere(plan, op))
    return false;
  const ir::Value *result = op.result();
  return !plan.isBatchInvariant(result) && !result->type().isSequence() &&
         runsInParallel(plan, op);
}

/// Work units (runtime/Gemm.h's parallelTiles) per element an op of a scan body writes: an
/// element of gate math costs several multiply-adds (a sigmoid or tanh more), so a step's
/// element-wise work goes to the threads from about 16,000 elements (an LSTM's gates and cells at
/// B = 32, H = 128), not from the 131,072 of work outside scans.
constexpr int64_t kScanStepWorkPerElement = 8;

/// Emits consecutive per-example ops of a scan body (runsPerExampleInScan, with the ops computed
/// elsewhere between them) as one loop over the examples split over the runtime's threads: each
/// example runs all of them in order, which reads only its own rows, so the results are those of
/// one loop per op, on any number of threads.
Status emitPerExampleOps(EmitContext &context, const std::vector<const Op *> &ops,
                         const StepPosition &position) {
  std::vector<std::pair<const Op *, Storage>> computed;
  int64_t elements = 0;
  for (const Op *op : ops) {
    if (computedElsewhere(context.plan, *op))
      continue;
    Storage storage = context.slotStorage(op->result());
    context.storage[op->result()] = storage;
    computed.emplace_back(op, storage);
    elements += op->result()->type().numElements();
  }
  Status status = Status::ok();
  llvm::Value *work = context.builder.CreateMul(
      context.batchSize, context.index(elements * kScanStepWorkPerElement));
  context.forEachExampleInParallel(work, [&] {
    for (const auto &[op, storage] : computed) {
      llvm::Value *result = context.stepPointer(
          storage, context.elementType(op->result()->type()), context.index(0));
      if (status)
        status = emitStepOp(context, *op, result, context.index(0), position);
    }
  });
  return status;
}

} // namespace

Status emitBlock(EmitContext &context, const ir::Block &block, const StepPosition &position) {
  std::vector<const Op *> perExample; // consecutive per-example ops of a scan body
  auto emitPerExample = [&] {
    Status status = perExample.empty() ? Status::ok()
                                       : emitPerExampleOps(context, perExample, position);
    perExample.clear();
    return status;
  };
  for (const auto &op : block.ops()) {
    if (op->kind() == OpKind::Yield)
      break;
    if (context.scanStep &&
        (runsPerExampleInScan(context.plan, *op) ||
         (!perExample.empty() && computedElsewhere(context.plan, *op)))) {
      perExample.push_back(op.get());
      continue;
    }
    if (Status status = emitPerExample(); !status)
      return status;
    if (Status status = emitOp(context, *op, position); !status)
      return status;
  }
  return emitPerExample();
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
  if (context.internalError)
    return *context.internalError;
  std::string problems;
  llvm::raw_string_ostream stream(problems);
  if (llvm::verifyModule(*lowered.module, &stream))
    return Error::internal("the generated LLVM IR does not verify: " + stream.str());
  return lowered;
}

} // namespace rnnc::codegen
