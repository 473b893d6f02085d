// The strategy of a compiled graph, chosen before any LLVM IR is emitted (style.md habit 8), and
// the interface a host needs to call the kernel. No LLVM types here: the JIT backend and, later,
// AOT headers read the same plan.
//
// Strategy `PerExample` (the only one so far): one entry function loops over the examples of the
// batch in order and runs the graph for each like the reference interpreter does — every scan a
// loop over the example's own length, every op outside a scan whose operands are sequences a
// loop over the steps, every per-step op a loop nest over its static shape (the vectoriser's
// business). Values live in one workspace the caller provides: static values at fixed offsets,
// sequences (T steps of their axis, T the batch's padded length) after them. Inputs and targets
// are read in place from the caller's time-major tensors; primes are copied with zeros past the
// prime, as the interpreter pads them.
//
// Fusion decided here: a transpose whose only uses are left operands of matmuls is folded into
// them (KernelPlan::foldedTransposes).
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

/// A block of the workspace. A static slot holds one value; a sequence slot holds T steps of its
/// axis (ceil(T / factor) for a segment axis), T the batch's padded length.
struct WorkspaceSlot {
  int64_t bytesPerStep = 0;
  bool isSequence = false;
  size_t axis = 0;           ///< Sequence slots: index of the base axis in KernelPlan::axes.
  int64_t segmentFactor = 1; ///< Sequence slots over a segment axis `t/K`: K.
  int64_t staticOffset = 0;  ///< Static slots: bytes from the start of the workspace.
};

/// Bytes a workspace slot starts at; every slot is a whole number of cache lines.
constexpr int64_t kSlotAlignment = 64;

class KernelPlan {
public:
  std::string entryName;
  ir::Precision precision = ir::Precision::Float;

  /// Base time axes (segment axes `t/K` are numbered by their base), sorted by name.
  std::vector<std::string> axes;
  /// The kernel's numbering of leaves and outputs (rnnc_rt_kernel_args).
  std::vector<const ir::Op *> params, data;
  std::vector<bool> dataIsPrime;
  std::vector<KernelOutput> outputs;
  /// Ops that can report a run-time error, by the id the kernel passes to the runtime.
  std::vector<const ir::Op *> failingOps;

  std::vector<WorkspaceSlot> slots;
  int64_t staticBytes = 0;
  /// The slot of every value the kernel materialises.
  std::unordered_map<const ir::Value *, size_t> valueSlots;
  /// Per scan: the slots of its carried state, then of the next state (same order).
  std::unordered_map<const ir::Op *, std::vector<size_t>> carrySlots;
  /// Transposes that are never materialised: every use is the left operand of a matmul in the
  /// same block, which reads the untransposed matrix instead (the backward's Wᵀ δ).
  std::unordered_set<const ir::Op *> foldedTransposes;

  size_t axisIndex(const std::string &axis) const;
  /// Workspace bytes for a batch of `batchSize` examples with the batch's padded lengths (one
  /// per axis, in `axes` order).
  int64_t workspaceBytes(int64_t batchSize, const std::vector<int64_t> &paddedLengths) const;
  /// The id passed to the runtime when `op` fails (an index into failingOps).
  int32_t failingOpId(const ir::Op *op) const;
};

struct PlanOptions {
  ir::Precision precision = ir::Precision::Float;
  std::string entryName = "rnnc_graph";
};

/// Chooses how to compile `graph` and lays out its workspace. An op without a lowering is a user
/// error located at the op.
Expected<KernelPlan> planKernel(const ir::Graph &graph, const PlanOptions &options);

/// "'matmul' at model.rnn:3:5": how the code generator names an op in messages.
std::string describeOp(const ir::Op &op);

/// The number of bytes of one element of `type` in a kernel of `precision`.
int64_t elementBytes(const ir::Type &type, ir::Precision precision);

} // namespace rnnc::codegen
