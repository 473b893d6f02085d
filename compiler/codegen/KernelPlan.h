// The strategy of a compiled graph, chosen before any LLVM IR is emitted (style.md habit 8), and
// the interface a host needs to call the kernel. No LLVM types here: the JIT backend and the AOT
// headers read the same plan.
//
// Strategy: batched. The kernel runs every example of the batch together, op by op: an op outside
// a scan over all examples (and, for a sequence, each example's own steps); a scan as one loop
// over the batch's longest length on its axis in which every body op runs for the examples that
// have that step (an example past its length keeps its carried state; a reverse scan starts each
// example at its own last step). Each example sees exactly the computation the reference
// interpreter does for it alone.
//
// Values live in one workspace the caller provides. A value that depends on no example (a
// parameter, a constant, a transposed weight: `batchInvariant`) has one copy; any other has one
// row per example: a static value [B, n], a sequence [T, B, n] (time-major, like the caller's
// tensors, so inputs and targets are read in place). Primes are copied with zeros past the prime.
//
// Products. A matmul whose left operand is batch-invariant and whose right operand is a vector
// per example runs as one GEMM over all B rows (inside a scan) or all T·B rows (a time-parallel
// product outside scans) on the generated micro-kernel (GemmEmitter.cpp); its left operand is
// packed once per call when it is defined outside scans (`packOnce`), else at every use. A
// sum_outer whose only uses are outputs summed over the batch becomes one GEMM over every valid
// (t, b) row: Σ_b Σ_t a bᵀ (with b = onehot(x), a scatter-add of a into row x of the transposed
// result instead).
//
// Views decided here: a forward shift of a sequence with a slot of its own is a view of that slot
// one step back; the slot gets a leading step that holds the shift's initial value
// (`prefixedShifts`), so the backward's h(t−1) is not a copy of h.
//
// Fusion decided here: a transpose whose only uses are left operands of matmuls is folded into
// them (KernelPlan::foldedTransposes); a bias add and a tanh or sigmoid after a batched product
// are done in the product's tile before it is stored (BatchedMatMul::addend).
//
// Loop fusion: an elementwise op (add … log) whose only use is another elementwise op of the same
// shape in the same block is not materialised: the user computes it element by element in its own
// loop (`inlinedElementwise`), so `2 (h − y)` or `(δ + δ') ⊙ (1 − h²)` is one pass.
//
// The plan is also where an op the code generator cannot lower is found: planKernel reports it
// as a located user error ("no lowering for op ...") before anything is emitted.
#pragma once

#include "ir/Graph.h"
#include "ir/Interpreter.h"
#include "runtime/Error.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rnnc::codegen {

/// How an output's per-example values become one tensor (the interpreter's rule, Interpreter.h).
enum class OutputLayout { SummedOverBatch, PerExample };

struct KernelOutput {
  const ir::Op *op;
  std::string name;
  OutputLayout layout;
  ir::Type type; ///< The type of the output's operand.
};

/// A block of the workspace. A static slot holds one value (per example unless batch-invariant);
/// a sequence slot holds T steps of its axis (ceil(T / factor) for a segment axis), T the batch's
/// padded length, each step B rows.
struct WorkspaceSlot {
  int64_t bytesPerStep = 0; ///< Of one example (one row).
  bool isSequence = false;
  bool perExample = true;
  size_t axis = 0;           ///< Sequence slots: index of the base axis in KernelPlan::axes.
  int64_t segmentFactor = 1; ///< Sequence slots over a segment axis `t/K`: K.
  /// Sequence slots: steps (of B rows) stored before step 0. One holds the initial value of a
  /// forward shift of the slot's value (KernelPlan::prefixedShifts).
  int64_t prefixSteps = 0;
  /// Bytes of the slot, rounded up to kSlotAlignment, for a batch.
  int64_t bytes(int64_t batchSize, const std::vector<int64_t> &paddedLengths) const;
};

/// A matmul run as one GEMM over the rows of all examples (see the file comment).
struct BatchedMatMul {
  size_t packSlot = 0;            ///< Where the packed left operand lives.
  const ir::Value *packed = nullptr; ///< The value packed: a parameter or other invariant value.
  bool transposed = false;        ///< `packed` is the transpose of the left operand.
  /// `packed` is defined outside every scan (a parameter, a transposed weight): packed once, right
  /// after it is computed, for every product that reads it.
  bool packOnce = false;
  /// A fused epilogue: the product's only use is `addend + product` (addend a vector shared by all
  /// rows, a bias, or one with the product's own rows), and optionally that sum's only use is
  /// tanh or sigmoid. The tile stores activation(addend + product) as `result`; the add and the
  /// activation are not emitted on their own, the product and the sum not materialised.
  const ir::Value *addend = nullptr;
  ir::OpKind activation = ir::OpKind::Add; ///< Tanh, Sigmoid, or Add for none.
  const ir::Value *result = nullptr;       ///< The value the tile stores: the op's own without fusion.
};

/// A sum_outer computed summed over the batch with one GEMM (see the file comment).
struct BatchSummedOuter {
  size_t leftRows = 0, packedRight = 0; ///< Scratch slots: the valid rows of a; b packed.
  /// b = onehot(tokens): no GEMM. Each valid row adds a into row `token` of a [n, m] scratch
  /// slot (`oneHotRows`), which is transposed into the result at the end.
  bool oneHotRight = false;
  size_t oneHotRows = 0;
};

/// Bytes a workspace slot starts at; every slot is a whole number of cache lines.
constexpr int64_t kSlotAlignment = 64;

class KernelPlan {
public:
  std::string entryName;
  ir::Precision precision = ir::Precision::Float;
  /// The target's vector register width in bytes (16, 32 or 64): the micro-kernels' vectors.
  int64_t vectorBytes = 32;

  /// Base time axes (segment axes `t/K` are numbered by their base), sorted by name.
  std::vector<std::string> axes;
  /// The kernel's numbering of leaves and outputs (rnnc_rt_kernel_args).
  std::vector<const ir::Op *> params, data;
  std::vector<bool> dataIsPrime;
  std::vector<KernelOutput> outputs;
  /// Ops that can report a run-time error, by the id the kernel passes to the runtime.
  std::vector<const ir::Op *> failingOps;

  std::vector<WorkspaceSlot> slots;
  /// Values with one copy for the whole batch.
  std::unordered_set<const ir::Value *> batchInvariant;
  std::unordered_map<const ir::Op *, BatchedMatMul> batchedMatMuls;
  /// The adds and activations fused into a batched product's tile (BatchedMatMul::addend).
  std::unordered_set<const ir::Op *> fusedIntoProducts;
  std::unordered_map<const ir::Op *, BatchSummedOuter> batchSummedOuters;
  bool isBatchInvariant(const ir::Value *value) const { return batchInvariant.count(value) != 0; }
  /// The slot of every value the kernel materialises.
  std::unordered_map<const ir::Value *, size_t> valueSlots;
  /// Per scan: the slots of its carried state, then of the next state (same order).
  std::unordered_map<const ir::Op *, std::vector<size_t>> carrySlots;
  /// Transposes that are never materialised: every use is the left operand of a matmul in the
  /// same block, which reads the untransposed matrix instead (the backward's Wᵀ δ).
  std::unordered_set<const ir::Op *> foldedTransposes;
  /// Elementwise ops computed inside their only user's loop, never stored (the file comment).
  std::unordered_set<const ir::Op *> inlinedElementwise;
  /// Forward shifts that are views of their operand's slot (WorkspaceSlot::prefixSteps).
  std::unordered_set<const ir::Op *> prefixedShifts;

  size_t axisIndex(const std::string &axis) const;
  /// Workspace bytes for a batch of `batchSize` examples with the batch's padded lengths (one
  /// per axis, in `axes` order).
  int64_t workspaceBytes(int64_t batchSize, const std::vector<int64_t> &paddedLengths) const;
  /// The id passed to the runtime when `op` fails (an index into failingOps).
  int32_t failingOpId(const ir::Op *op) const;
};

struct PlanOptions {
  ir::Precision precision = ir::Precision::Float;
  /// The target's vector register width in bytes (codegen::vectorBytes of its machine).
  int64_t vectorBytes = 32;
  std::string entryName = "rnnc_graph";
};

/// Chooses how to compile `graph` and lays out its workspace. An op without a lowering is a user
/// error located at the op.
Expected<KernelPlan> planKernel(const ir::Graph &graph, const PlanOptions &options);

/// The number of bytes of one element of `type` in a kernel of `precision`.
int64_t elementBytes(const ir::Type &type, ir::Precision precision);

} // namespace rnnc::codegen
