// Internal to compiler/codegen: the state every emitter shares while one graph is lowered (the
// IRBuilder, the plan, where each IR value lives, the current example's lengths), the helpers
// they build loops and memory accesses with, and the entry points of the emitters, one file per
// op family:
//   GraphEmitter.cpp         the entry function, the loop over examples, leaves, outputs, the
//                            dispatch of every op, time broadcasting
//   ElementwiseEmitter.cpp   constants, add … log, broadcast
//   LinearAlgebraEmitter.cpp matmul (matrix-vector and matrix-matrix), transpose, outer
//   VectorEmitter.cpp        softmax, log_softmax, onehot, nll, sqerr, sum, mean, concat, slice,
//                            pad, argmax
//   TimeEmitter.cpp          ops on whole sequences: shift, last, first, sum_time, sum_outer,
//                            repeat, at_last, at_first, at_step, stack, segment, unsegment
//   ScanEmitter.cpp          scans: the loop over an example's steps, carries, per-step outputs
//   RuntimeCallEmitter.cpp   sample and the error reports (the rnnc_rt_ ABI), feed
//   MathEmitter.cpp          scalar tanh, exp, log, sigmoid
//   GemmEmitter.cpp          batched products: calls of the runtime's micro-kernels
#pragma once

#include "compiler/codegen/KernelPlan.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>

namespace rnnc::codegen {

/// Where a value lives: a pointer to example 0's (first step's) elements, for a sequence the
/// distance in elements between consecutive steps (0 for a repeated value), and the distance
/// between consecutive examples' rows (null for a batch-invariant value: one copy for all).
struct Storage {
  llvm::Value *base = nullptr;
  llvm::Value *stride = nullptr;    ///< i64; null for a static value.
  llvm::Value *rowStride = nullptr; ///< i64; null for a batch-invariant value.
  bool isSequence() const { return stride != nullptr; }
};

/// The step a per-step op runs at: 1-based (i64) on `axis`. Null outside a step (a static op at
/// the top level).
struct StepPosition {
  llvm::Value *step = nullptr;
  std::string axis;
};

class EmitContext {
public:
  EmitContext(llvm::Module &module, const KernelPlan &plan);

  llvm::Module &module;
  llvm::LLVMContext &llvmContext;
  llvm::IRBuilder<> builder;
  const KernelPlan &plan;
  llvm::Function *function = nullptr;

  llvm::Type *realType;  ///< float or double: the kernel's precision.
  llvm::Type *tokenType; ///< i32.
  llvm::Type *indexType; ///< i64.
  llvm::Type *pointerType;

  // Set up by the graph emitter.
  llvm::Value *args = nullptr;           ///< const rnnc_rt_kernel_args *
  llvm::Value *runtimeContext = nullptr; ///< rnnc_rt_context *
  llvm::Value *params = nullptr;         ///< void *const *: the parameter tensors.
  llvm::Value *data = nullptr;           ///< void *const *: the input and target tensors.
  llvm::Value *batchSize = nullptr;
  llvm::Value *example = nullptr;          ///< i64 b, inside a loop over examples; else null.
  /// The examples forEachExample visits: [begin, end), or all of [0, B) when null.
  llvm::Value *examplesBegin = nullptr, *examplesEnd = nullptr;
  std::vector<llvm::Value *> slotPointers; ///< Per workspace slot, computed at entry.
  std::vector<llvm::Value *> paddedLengths; ///< Per base axis.
  std::vector<llvm::Value *> longestLengths; ///< Per base axis: the batch's longest length.
  llvm::Value *lengthsArray = nullptr, *primeLengthsArray = nullptr; ///< [axes][B] (i64).
  /// Inside a scan: the 0-based step all examples are at, and the scan's axis. An example runs
  /// the step's per-example ops only if it has that step.
  llvm::Value *scanStep = nullptr;
  std::string scanAxis;

  /// The storage of every IR value emitted so far.
  std::unordered_map<const ir::Value *, Storage> storage;

  /// The first internal error found by a helper that returns an llvm::Value rather than a
  /// Status (a per-example access outside a loop over examples, …): the helper records it and
  /// returns a harmless value so emission can go on, and lowerGraph returns the error instead
  /// of the module. Nothing in code generation aborts.
  std::optional<Error> internalError;
  void failInternally(const std::string &message);

  // Constants and types.
  llvm::Value *index(int64_t value) { return builder.getInt64(value); }
  llvm::Value *real(double value) { return llvm::ConstantFP::get(realType, value); }
  llvm::Type *elementType(const ir::Type &type) { return type.isToken() ? tokenType : realType; }

  // Memory.
  /// &base[offset], base pointing to elements of `type`.
  llvm::Value *elementPointer(llvm::Type *type, llvm::Value *base, llvm::Value *offset);
  llvm::Value *loadReal(llvm::Value *base, llvm::Value *offset);
  void storeReal(llvm::Value *value, llvm::Value *base, llvm::Value *offset);
  /// Copies `count` elements of `type` (count an i64 value).
  void copyElements(llvm::Type *type, llvm::Value *to, llvm::Value *from, llvm::Value *count);
  void zeroElements(llvm::Type *type, llvm::Value *to, llvm::Value *count);

  // Values.
  const Storage &storageOf(const ir::Value *value) const;
  /// The slot planned for `value` as storage of one step (static) or of a contiguous sequence.
  Storage slotStorage(const ir::Value *value);
  /// A pointer to step `step` (0-based, i64) of a sequence (the value itself when static) of the
  /// current example (of the only copy when batch-invariant).
  llvm::Value *stepPointer(const ir::Value *value, llvm::Value *step);
  llvm::Value *stepPointer(const Storage &storage, llvm::Type *element, llvm::Value *step);
  /// Step `step` of a sequence as a static value with the same rows (all examples).
  Storage stepStorage(const Storage &storage, llvm::Type *element, llvm::Value *step);

  // Lengths.
  /// The current example's number of steps on `axis` (ceil(L / K) on a segment axis `t/K`).
  llvm::Value *axisLength(const std::string &axis);
  /// The batch's longest length on `axis` (ceil(max L / K) on a segment axis).
  llvm::Value *longestLength(const std::string &axis);
  /// The current example's prime length on exactly `axis` (0 when the axis has no prime).
  llvm::Value *primeLength(const std::string &axis);

  /// Emits body() for every example b (context.example = b) in order; inside a scan only for the
  /// examples that have the scan's current step.
  void forEachExample(const std::function<void()> &body);
  /// forEachExample with the examples split over the runtime's threads: body() is
  /// emitted into a function of its own, `rnnc_examples.N(closure, begin, end)`, that
  /// rnnc_rt_parallel_tiles runs over parts of [0, B) when `work` (about one unit per element
  /// written) is large enough. Every kernel value body() reads is passed in the closure. body()
  /// must only write the rows of its own example, and must not record errors or sample.
  void forEachExampleInParallel(llvm::Value *work, const std::function<void()> &body);

  // Control flow.
  /// Emits `for (i = begin; i < end; ++i) body(i)` with i64 bounds; continues after the loop.
  void emitLoop(llvm::Value *begin, llvm::Value *end,
                const std::function<void(llvm::Value *)> &body, const char *name = "i");
  void emitLoop(int64_t count, const std::function<void(llvm::Value *)> &body,
                const char *name = "i") {
    emitLoop(index(0), index(count), body, name);
  }
  /// Emits a loop over [0, count) carrying an accumulator in a register: starts at `initial`,
  /// each iteration's `step(i, accumulator)` gives the next one. Returns the final value.
  llvm::Value *emitReduction(int64_t count, llvm::Value *initial,
                             const std::function<llvm::Value *(llvm::Value *, llvm::Value *)> &step,
                             const char *name = "k");
  /// A loop over [0, count) carrying several accumulators in registers: each iteration's
  /// step(i, accumulators) gives the next ones. Returns the final values.
  std::vector<llvm::Value *> emitReductions(
      llvm::Value *count, const std::vector<llvm::Value *> &initial,
      const std::function<std::vector<llvm::Value *>(llvm::Value *,
                                                     const std::vector<llvm::Value *> &)> &step,
      const char *name = "k");
  /// The loop all the above are: [begin, end) with accumulators carried in registers.
  std::vector<llvm::Value *> emitCountedLoop(
      llvm::Value *begin, llvm::Value *end, const std::vector<llvm::Value *> &initial,
      const std::function<std::vector<llvm::Value *>(llvm::Value *,
                                                     const std::vector<llvm::Value *> &)> &step,
      const char *name);
  /// Loops of at least this many iterations are left to the loop vectoriser, not fully unrolled.
  static constexpr int64_t kVectorLoopMinimum = 8;
  /// Attaches the loop metadata for a loop of `tripCount` iterations to its latch.
  void addLoopHints(llvm::BranchInst *latch, int64_t tripCount);
  /// Emits `if (condition) then()`; continues after it.
  void emitIf(llvm::Value *condition, const std::function<void()> &then);

  /// Fast-math flags for reductions (reassociation lets the vectoriser split the accumulator).
  llvm::FastMathFlags reductionFlags() const;
  /// acc + a * b as llvm.fmuladd with reduction flags.
  llvm::Value *multiplyAdd(llvm::Value *a, llvm::Value *b, llvm::Value *accumulator);
  llvm::Value *reduceAdd(llvm::Value *accumulator, llvm::Value *value);

  /// A runtime function of the kernel ABI, declared once per module.
  llvm::FunctionCallee runtimeFunction(const std::string &name, llvm::Type *result,
                                       llvm::ArrayRef<llvm::Type *> parameters);
};

// The emitters. A per-step op computes one value of its result from one step of each operand:
// `result` and `operands` point to elements (real or i32) of the op's static types.

/// Element i of an elementwise op's operand: a load, or the value of an inlined producer.
using ElementSource = std::function<llvm::Value *(llvm::Value *i)>;
/// The sources of `op`'s operands at `step` (0-based i64) of the current example.
std::vector<ElementSource> elementSources(EmitContext &context, const ir::Op &op,
                                          llvm::Value *step);

/// Per-step ops, by family; each returns an internal error for a kind it does not handle.
Status emitElementwiseOp(EmitContext &context, const ir::Op &op, llvm::Value *result,
                         const std::vector<ElementSource> &operands);
Status emitLinearAlgebraOp(EmitContext &context, const ir::Op &op, llvm::Value *result,
                           const std::vector<llvm::Value *> &operands);
Status emitVectorOp(EmitContext &context, const ir::Op &op, llvm::Value *result,
                    const std::vector<llvm::Value *> &operands);
Status emitRuntimeCallOp(EmitContext &context, const ir::Op &op, llvm::Value *result,
                         const std::vector<llvm::Value *> &operands, const StepPosition &position);

/// Feed: a view of one of its operands, chosen by the step and the prime length.
Status emitFeed(EmitContext &context, const ir::Op &op, const StepPosition &position);
/// Ops on whole sequences (top level only); binds the result's storage.
Status emitTimeOp(EmitContext &context, const ir::Op &op);
/// A scan: binds the storage of its results.
Status emitScan(EmitContext &context, const ir::Op &op);
/// Whether `op`'s per-example work outside scans may run on the runtime's threads
/// (forEachExampleInParallel): not when it samples or can record an error, which the runtime
/// takes in example order on one thread.
bool runsInParallel(const KernelPlan &plan, const ir::Op &op);
/// Emits one op of a graph or scan body (not an output or yield) at `position`.
Status emitOp(EmitContext &context, const ir::Op &op, const StepPosition &position);
/// Emits every op of a block (a graph's or a scan body's, but not the yield) at `position`.
Status emitBlock(EmitContext &context, const ir::Block &block, const StepPosition &position);
/// The product of the rows of x (rows × k) with Aᵀ, A an [m, k] operand packed in panels
/// (runtime/Gemm.h): out[r, i] = Σ_p A[i, p] x[r, p], by the runtime's micro-kernels
/// (runtime/Product.h, called by GemmEmitter.cpp) on its threads. `k` and `rows` are i64 values.
struct GemmOperands {
  llvm::Value *rows = nullptr, *k = nullptr, *packed = nullptr;
  llvm::Value *x = nullptr, *xRowStride = nullptr, *xColumnStride = nullptr;
  llvm::Value *out = nullptr, *outRowStride = nullptr;
  /// The epilogue: out = activation(addend + product) when addend is not null (addendRowStride
  /// 0 for one vector shared by all rows); activation is Tanh, Sigmoid or Add (none).
  llvm::Value *addend = nullptr, *addendRowStride = nullptr;
  ir::OpKind activation = ir::OpKind::Add;
};
void emitGemm(EmitContext &context, int64_t m, const GemmOperands &operands);
/// A matmul planned as one GEMM over the rows of all examples; the result's storage is bound.
Status emitBatchedMatMul(EmitContext &context, const ir::Op &op);
/// A sum_outer planned summed over the batch; the result's storage is bound.
Status emitBatchSummedOuter(EmitContext &context, const ir::Op &op);
/// Packs `value`, just computed outside scans, for the batched products that read it.
void emitPacksOf(EmitContext &context, const ir::Value *value);
/// Reports run-time error `code` of `op` in the current example to the runtime (rnnc_rt_fail).
void emitFailure(EmitContext &context, const ir::Op &op, int32_t code, llvm::Value *first,
                 llvm::Value *second);

// Scalar math (MathEmitter.cpp), on values of the kernel's real type.
llvm::Value *emitTanh(EmitContext &context, llvm::Value *x);
llvm::Value *emitExp(EmitContext &context, llvm::Value *x);
llvm::Value *emitLog(EmitContext &context, llvm::Value *x);
llvm::Value *emitSigmoid(EmitContext &context, llvm::Value *x);

} // namespace rnnc::codegen
