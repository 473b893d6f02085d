// planKernel: numbers a graph's leaves and outputs for the kernel ABI, finds its time axes, checks
// every op has a lowering, finds the batch-invariant values, chooses the batched products and
// gives every materialised value a workspace slot (KernelPlan.h). Values that are views of other
// storage get no slot: params and inputs (read in place) and the results of repeat (a sequence
// with step stride 0).
#include "compiler/codegen/KernelPlan.h"

#include "runtime/Gemm.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

namespace rnnc::codegen {

using ir::Op;
using ir::OpKind;

int64_t elementBytes(const ir::Type &type, ir::Precision precision) {
  if (type.isToken())
    return 4;
  return precision == ir::Precision::Double ? 8 : 4;
}

size_t KernelPlan::axisIndex(const std::string &axis) const {
  auto segments = ir::parseSegmentAxis(axis);
  const std::string &base = segments ? segments->base : axis;
  return static_cast<size_t>(std::find(axes.begin(), axes.end(), base) - axes.begin());
}

namespace {

/// Whether the code generator has a lowering for `kind` (the Lowered trait of ir/Ops.def): an op
/// added to the table without it is a clear error here, never a crash.
bool hasLowering(OpKind kind) { return ir::hasTrait(kind, ir::OpTrait::Lowered); }

/// Results that are views of other storage (see the file comment).
bool isView(const Op &op) { return ir::hasTrait(op.kind(), ir::OpTrait::View); }

/// Ops whose result differs between examples whatever their operands.
bool isPerExampleSource(OpKind kind) {
  return kind == OpKind::Input || kind == OpKind::Target || kind == OpKind::Feed ||
         kind == OpKind::Sample || kind == OpKind::Scan;
}

bool canFail(OpKind kind) { return ir::hasTrait(kind, ir::OpTrait::CanFail); }

class Planner {
public:
  Planner(const ir::Graph &graph, const PlanOptions &options) : graph_(graph) {
    plan_.entryName = options.entryName;
    plan_.precision = options.precision;
    plan_.vectorBytes = options.vectorBytes;
  }

  Expected<KernelPlan> run() {
    Status status = Status::ok();
    graph_.body().walk([&](Op &op) {
      if (status && !hasLowering(op.kind()))
        status = Error::user(located(op, "no lowering for op '" + std::string(op.mnemonic()) +
                                             "' in the LLVM backend (run it with --backend "
                                             "interp)"));
    });
    if (!status)
      return status.takeError();
    numberLeaves();
    findAxes();
    findFoldedTransposes(graph_.body());
    if (Status outputs = planOutputs(); !outputs)
      return outputs.takeError();
    for (const auto &op : graph_.body().ops())
      for (size_t i = 0; i < op->numResults(); ++i)
        topLevel_.insert(op->result(i));
    findUsers(graph_.body());
    findBatchInvariants(graph_.body());
    findBatchSummedOuters();
    assignSlots(graph_.body());
    return std::move(plan_);
  }

private:
  static std::string located(const Op &op, const std::string &message) {
    if (!op.location().known())
      return message;
    return op.location().str() + ": error: " + message;
  }

  void findFoldedTransposes(const ir::Block &block) {
    std::unordered_map<const ir::Value *, bool> onlyMatMulLeft;
    for (const auto &owned : block.ops()) {
      const Op &op = *owned;
      if (op.kind() == OpKind::Scan)
        findFoldedTransposes(*op.body());
      for (size_t i = 0; i < op.numOperands(); ++i) {
        bool foldable = op.kind() == OpKind::MatMul && i == 0;
        auto [entry, inserted] = onlyMatMulLeft.emplace(op.operand(i), foldable);
        if (!inserted)
          entry->second = entry->second && foldable;
      }
    }
    for (const auto &owned : block.ops())
      if (owned->kind() == OpKind::Transpose && onlyMatMulLeft.count(owned->result()) &&
          onlyMatMulLeft[owned->result()])
        plan_.foldedTransposes.insert(owned.get());
  }

  /// A value is batch-invariant when it is not a sequence, comes from no input, and is computed
  /// from invariant values only; a scan's static argument is invariant when its operand is.
  void findBatchInvariants(const ir::Block &block) {
    for (const auto &owned : block.ops()) {
      const Op &op = *owned;
      if (op.kind() == OpKind::Scan) {
        for (size_t i = op.numCarries() + op.numSteps(); i < op.numOperands(); ++i) {
          staticOperand_[op.body()->argument(i)] = op.operand(i);
          if (plan_.isBatchInvariant(op.operand(i)))
            plan_.batchInvariant.insert(op.body()->argument(i));
        }
        findBatchInvariants(*op.body());
      }
      if (isPerExampleSource(op.kind()) || op.numResults() != 1 ||
          op.result()->type().isSequence())
        continue;
      bool invariant = true;
      for (const ir::Value *operand : op.operands())
        invariant = invariant && plan_.isBatchInvariant(operand);
      if (invariant)
        plan_.batchInvariant.insert(op.result());
    }
  }

  /// sum_outer ops at the top level whose every use is an output summed over the batch.
  void findBatchSummedOuters() {
    std::unordered_map<const ir::Value *, bool> onlySummedOutputs;
    for (const auto &owned : graph_.body().ops()) {
      const Op &op = *owned;
      for (const ir::Value *operand : op.operands()) {
        bool summed = false;
        if (op.kind() == OpKind::Output)
          for (const KernelOutput &output : plan_.outputs)
            summed = summed || (output.op == &op && output.layout == OutputLayout::SummedOverBatch);
        auto [entry, inserted] = onlySummedOutputs.emplace(operand, summed);
        if (!inserted)
          entry->second = entry->second && summed;
      }
    }
    for (const auto &owned : graph_.body().ops())
      if (owned->kind() == OpKind::SumOuter && onlySummedOutputs[owned->result()])
        plan_.batchSummedOuters[owned.get()] = {};
  }

  /// Chooses a GEMM over the batch for `op` when its left operand is invariant and its right
  /// operand a vector per example (laid out densely in rows when it is a whole sequence).
  void planBatchedMatMul(const Op &op) {
    const ir::Value *left = op.operand(0), *right = op.operand(1);
    const ir::Op *rightProducer = right->definingOp();
    if (left->type().shape.size() != 2 || right->type().shape.size() != 1 ||
        !plan_.isBatchInvariant(left) || plan_.isBatchInvariant(right) ||
        (rightProducer && rightProducer->kind() == OpKind::Repeat))
      return;
    BatchedMatMul product;
    const ir::Value *packed = left;
    while (true) {
      const Op *producer = packed->definingOp();
      if (producer && plan_.foldedTransposes.count(producer)) {
        product.transposed = !product.transposed;
        packed = producer->operand(0);
      } else if (auto found = staticOperand_.find(packed); found != staticOperand_.end()) {
        packed = found->second;
      } else {
        break;
      }
    }
    product.packed = packed;
    product.packOnce = topLevel_.count(packed) != 0;
    auto key = std::make_pair(packed, product.transposed);
    auto slot = packSlots_.find(key);
    if (slot == packSlots_.end() || !product.packOnce) {
      const std::vector<int64_t> &shape = left->type().shape;
      WorkspaceSlot pack;
      pack.perExample = false;
      pack.bytesPerStep = packedElements(shape[0], shape[1], elementBytes(left->type(),
                                                                          plan_.precision)) *
                          elementBytes(left->type(), plan_.precision);
      plan_.slots.push_back(pack);
      slot = packSlots_.insert_or_assign(key, plan_.slots.size() - 1).first;
    }
    product.packSlot = slot->second;
    product.result = op.result();
    planEpilogue(op, product);
    plan_.batchedMatMuls[&op] = product;
  }

  /// The only op that uses `value`, when it has exactly one use and that use is in `block`.
  const Op *onlyUser(const ir::Value *value, const ir::Block &block) const {
    auto found = users_.find(value);
    if (found == users_.end() || found->second.size() != 1)
      return nullptr;
    const Op *user = found->second.front();
    return user->parentBlock() == &block ? user : nullptr;
  }

  /// Fuses `addend + product` (and a tanh or sigmoid of it) into the product's tile when the
  /// addend is ready before the product runs and its rows line up with the product's.
  void planEpilogue(const Op &op, BatchedMatMul &product) {
    const ir::Block &block = *op.parentBlock();
    const Op *add = onlyUser(op.result(), block);
    if (!add || add->kind() != OpKind::Add || add->operand(0) == add->operand(1) ||
        add->result()->type() != op.result()->type())
      return;
    const ir::Value *addend = add->operand(0) == op.result() ? add->operand(1) : add->operand(0);
    const Op *producer = addend->definingOp();
    bool shared = plan_.isBatchInvariant(addend) && !addend->type().isSequence() &&
                  addend->type().shape == op.result()->type().shape;
    bool sameRows = addend->type() == op.result()->type() &&
                    !(producer && producer->kind() == OpKind::Repeat);
    bool readyBefore = !producer || producer->parentBlock() != &block ||
                       opIndex_.at(producer) < opIndex_.at(&op);
    if (!(shared || sameRows) || !readyBefore)
      return;
    product.addend = addend;
    product.result = add->result();
    plan_.fusedIntoProducts.insert(add);
    unmaterialised_.insert(op.result());
    const Op *activation = onlyUser(add->result(), block);
    if (activation && (activation->kind() == OpKind::Tanh || activation->kind() == OpKind::Sigmoid)) {
      product.activation = activation->kind();
      product.result = activation->result();
      plan_.fusedIntoProducts.insert(activation);
      unmaterialised_.insert(add->result());
    }
  }

  /// Inlines elementwise `op` into its only user (KernelPlan.h) when that user is an elementwise
  /// op over the same elements, rows and steps in the same block. A user that adds a product's
  /// result is left alone: it may become the product's epilogue, which reads `op` from memory.
  bool planInlinedElementwise(const Op &op) {
    if (!ir::isElementwiseOp(op.kind()) || plan_.fusedIntoProducts.count(&op))
      return false;
    const Op *user = onlyUser(op.result(), *op.parentBlock());
    if (!user || !ir::isElementwiseOp(user->kind()) || plan_.fusedIntoProducts.count(user))
      return false;
    for (const ir::Value *operand : user->operands())
      if (const Op *producer = operand->definingOp();
          producer && producer->kind() == OpKind::MatMul)
        return false;
    const ir::Type &type = op.result()->type(), &userType = user->result()->type();
    if (type.numElements() != userType.numElements() ||
        type.isSequence() != userType.isSequence() || type.axis != userType.axis ||
        plan_.isBatchInvariant(op.result()) != plan_.isBatchInvariant(user->result()))
      return false;
    plan_.inlinedElementwise.insert(&op);
    unmaterialised_.insert(op.result());
    return true;
  }

  void planBatchSummedOuter(const Op &op, BatchSummedOuter &outer) {
    const ir::Type &left = op.operand(0)->type(), &right = op.operand(1)->type();
    int64_t bytes = elementBytes(left, plan_.precision);
    if (const Op *producer = op.operand(1)->definingOp();
        producer && producer->kind() == OpKind::OneHot) {
      outer.oneHotRight = true;
      WorkspaceSlot rows;
      rows.perExample = false;
      rows.bytesPerStep = left.stepType().numElements() * right.stepType().numElements() * bytes;
      plan_.slots.push_back(rows);
      outer.oneHotRows = plan_.slots.size() - 1;
      return;
    }
    outer.leftRows = addSlot(left);
    WorkspaceSlot packed;
    packed.isSequence = true;
    packed.axis = plan_.axisIndex(right.axis);
    packed.bytesPerStep = packedElements(right.numElements(), 1, bytes) * bytes;
    plan_.slots.push_back(packed);
    outer.packedRight = plan_.slots.size() - 1;
  }

  /// A forward shift of a per-example sequence that has a slot of its own on a base axis becomes
  /// a view of that slot one step back (KernelPlan.h); its value is then never copied.
  bool planPrefixedShift(const Op &op) {
    const ir::Value *sequence = op.operand(0);
    auto slotIndex = plan_.valueSlots.find(sequence);
    if (op.directionAttr() != "forward" || !topLevel_.count(op.result()) ||
        slotIndex == plan_.valueSlots.end())
      return false;
    WorkspaceSlot &slot = plan_.slots[slotIndex->second];
    if (!slot.isSequence || !slot.perExample || slot.segmentFactor != 1 || slot.prefixSteps != 0)
      return false;
    slot.prefixSteps = 1;
    plan_.prefixedShifts.insert(&op);
    return true;
  }

  void numberLeaves() {
    std::unordered_set<const Op *> primes = ir::primeInputs(graph_);
    graph_.body().walk([&](Op &op) {
      if (op.kind() == OpKind::Param) {
        plan_.params.push_back(&op);
      } else if (op.kind() == OpKind::Input || op.kind() == OpKind::Target) {
        plan_.data.push_back(&op);
        plan_.dataIsPrime.push_back(primes.count(&op) != 0);
      }
      if (canFail(op.kind()))
        plan_.failingOps.push_back(&op);
    });
  }

  void findAxes() {
    std::set<std::string> axes = ir::collectTimeAxes(graph_);
    plan_.axes.assign(axes.begin(), axes.end());
  }

  Status planOutputs() {
    std::set<std::string> paramNames, outputNames;
    for (const Op *param : plan_.params)
      paramNames.insert(param->nameAttr());
    for (const Op *op : graph_.opsOfKind(OpKind::Output)) {
      const std::string &name = op->nameAttr();
      if (!outputNames.insert(name).second)
        return Error::internal("two outputs are named '" + name + "'");
      const ir::Type &type = op->operand(0)->type();
      if (ir::parseSegmentAxis(type.axis))
        return Error::user("output '" + name + "' is a sequence over the segment axis '" +
                           type.axis + "', which has no tensor layout");
      bool summed =
          name == "loss" || (name.starts_with("grad.") && paramNames.count(name.substr(5)));
      OutputLayout layout = summed && type.isReal() && !type.isSequence()
                                ? OutputLayout::SummedOverBatch
                                : OutputLayout::PerExample;
      plan_.outputs.push_back({op, name, layout, type});
    }
    return Status::ok();
  }

  size_t addStaticSlot(const ir::Type &type, bool perExample) {
    WorkspaceSlot slot;
    slot.bytesPerStep = type.numElements() * elementBytes(type, plan_.precision);
    slot.perExample = perExample;
    plan_.slots.push_back(slot);
    return plan_.slots.size() - 1;
  }

  size_t addSlot(const ir::Type &type, bool perExample = true) {
    if (!type.isSequence())
      return addStaticSlot(type, perExample);
    WorkspaceSlot slot;
    slot.bytesPerStep = type.numElements() * elementBytes(type, plan_.precision);
    slot.isSequence = true;
    slot.axis = plan_.axisIndex(type.axis);
    auto segments = ir::parseSegmentAxis(type.axis);
    slot.segmentFactor = segments ? segments->factor : 1;
    plan_.slots.push_back(slot);
    return plan_.slots.size() - 1;
  }

  void assignSlots(const ir::Block &block) {
    for (const auto &owned : block.ops()) {
      const Op &op = *owned;
      if (op.kind() == OpKind::Scan) {
        std::vector<size_t> &carries = plan_.carrySlots[&op];
        for (int copy = 0; copy < 2; ++copy)
          for (size_t i = 0; i < op.numCarries(); ++i)
            carries.push_back(addStaticSlot(op.body()->argument(i)->type(), true));
        assignSlots(*op.body());
      }
      if (op.kind() == OpKind::MatMul)
        planBatchedMatMul(op);
      bool summedOverBatch = false;
      if (auto outer = plan_.batchSummedOuters.find(&op); outer != plan_.batchSummedOuters.end()) {
        planBatchSummedOuter(op, outer->second);
        summedOverBatch = true;
      }
      bool isPrime = op.kind() == OpKind::Input &&
                     plan_.dataIsPrime[std::find(plan_.data.begin(), plan_.data.end(), &op) -
                                       plan_.data.begin()];
      if ((isView(op) && !isPrime) || plan_.foldedTransposes.count(&op))
        continue;
      if (op.kind() == OpKind::Shift && planPrefixedShift(op))
        continue;
      if (isUnmaterialised(op) || planInlinedElementwise(op))
        continue;
      for (size_t i = 0; i < op.numResults(); ++i)
        plan_.valueSlots[op.result(i)] =
            addSlot(op.result(i)->type(),
                    !summedOverBatch && !plan_.isBatchInvariant(op.result(i)));
    }
  }

  const ir::Graph &graph_;
  KernelPlan plan_;
  /// Scan body arguments that are statics, to the scan operand they stand for.
  std::unordered_map<const ir::Value *, const ir::Value *> staticOperand_;
  void findUsers(const ir::Block &block) {
    size_t index = 0;
    for (const auto &owned : block.ops()) {
      opIndex_[owned.get()] = index++;
      for (const ir::Value *operand : owned->operands())
        users_[operand].push_back(owned.get());
      if (owned->kind() == OpKind::Scan)
        findUsers(*owned->body());
    }
  }

  /// Every op that reads a value (once per operand), and each op's position in its block.
  std::unordered_map<const ir::Value *, std::vector<const Op *>> users_;
  std::unordered_map<const Op *, size_t> opIndex_;
  /// Values of fused epilogues that never reach memory.
  std::unordered_set<const ir::Value *> unmaterialised_;
  /// A fused product or add whose value only lives in registers (BatchedMatMul::addend). Ops are
  /// visited in order, so a product's epilogue is planned before its add and activation.
  bool isUnmaterialised(const Op &op) const {
    return op.numResults() == 1 && unmaterialised_.count(op.result());
  }

  /// Results of the graph's top-level ops.
  std::unordered_set<const ir::Value *> topLevel_;
  /// Pack slots of values packed once, by (value, transposed).
  std::map<std::pair<const ir::Value *, bool>, size_t> packSlots_;
};

} // namespace

int64_t WorkspaceSlot::bytes(int64_t batchSize, const std::vector<int64_t> &paddedLengths) const {
  int64_t rows = perExample ? batchSize : 1;
  if (isSequence)
    rows *= (paddedLengths.at(axis) + segmentFactor - 1) / segmentFactor + prefixSteps;
  return (bytesPerStep * rows + kSlotAlignment - 1) / kSlotAlignment * kSlotAlignment;
}

int64_t KernelPlan::workspaceBytes(int64_t batchSize,
                                   const std::vector<int64_t> &paddedLengths) const {
  int64_t bytes = 0;
  for (const WorkspaceSlot &slot : slots)
    bytes += slot.bytes(batchSize, paddedLengths);
  return bytes;
}

int32_t KernelPlan::failingOpId(const ir::Op *op) const {
  return static_cast<int32_t>(std::find(failingOps.begin(), failingOps.end(), op) -
                              failingOps.begin());
}

Expected<KernelPlan> planKernel(const ir::Graph &graph, const PlanOptions &options) {
  return Planner(graph, options).run();
}

} // namespace rnnc::codegen
