// planKernel: numbers a graph's leaves and outputs for the kernel ABI, finds its time axes, checks
// every op has a lowering, and gives every materialised value a workspace slot (KernelPlan.h).
// Values that are views of other storage get no slot: params and inputs (read in place), and the
// results of repeat (a sequence with step stride 0), last and first (a step of their operand) and
// feed (one of its operands).
#include "compiler/codegen/KernelPlan.h"

#include <algorithm>
#include <set>
#include <unordered_set>

namespace rnnc::codegen {

using ir::Op;
using ir::OpKind;

std::string describeOp(const Op &op) {
  std::string text = std::string("'") + op.mnemonic() + "'";
  if (op.location().known())
    text += " at " + op.location().str();
  return text;
}

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

int64_t roundUp(int64_t bytes) {
  return (bytes + kSlotAlignment - 1) / kSlotAlignment * kSlotAlignment;
}

/// Whether the code generator has a lowering for `kind`. Every op kind added to ir/Ops.def is
/// unsupported until an emitter handles it, so a new op is a clear error, never a crash.
bool hasLowering(OpKind kind) {
  switch (kind) {
  case OpKind::Param:
  case OpKind::Input:
  case OpKind::Target:
  case OpKind::Constant:
  case OpKind::TokenConstant:
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
  case OpKind::MatMul:
  case OpKind::Transpose:
  case OpKind::Outer:
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
  case OpKind::OneHot:
  case OpKind::Nll:
  case OpKind::SqErr:
  case OpKind::Sum:
  case OpKind::Mean:
  case OpKind::Broadcast:
  case OpKind::Concat:
  case OpKind::Slice:
  case OpKind::Pad:
  case OpKind::Argmax:
  case OpKind::Sample:
  case OpKind::Scan:
  case OpKind::Yield:
  case OpKind::Shift:
  case OpKind::Last:
  case OpKind::First:
  case OpKind::SumTime:
  case OpKind::SumOuter:
  case OpKind::Repeat:
  case OpKind::AtLast:
  case OpKind::AtFirst:
  case OpKind::AtStep:
  case OpKind::Stack:
  case OpKind::Segment:
  case OpKind::Unsegment:
  case OpKind::Feed:
  case OpKind::Output:
    return true;
  default:
    return false;
  }
}

/// Results that are views of other storage (see the file comment).
bool isView(const Op &op) {
  switch (op.kind()) {
  case OpKind::Param:
  case OpKind::Input:
  case OpKind::Target:
  case OpKind::Repeat:
  case OpKind::Last:
  case OpKind::First:
  case OpKind::Feed:
    return true;
  default:
    return false;
  }
}

bool canFail(OpKind kind) {
  return kind == OpKind::Sample || kind == OpKind::AtStep || kind == OpKind::Stack;
}

class Planner {
public:
  Planner(const ir::Graph &graph, const PlanOptions &options) : graph_(graph) {
    plan_.entryName = options.entryName;
    plan_.precision = options.precision;
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
    std::set<std::string> axes;
    auto add = [&](const std::string &axis) {
      auto segments = ir::parseSegmentAxis(axis);
      axes.insert(segments ? segments->base : axis);
    };
    graph_.body().walk([&](Op &op) {
      for (size_t i = 0; i < op.numResults(); ++i)
        if (op.result(i)->type().isSequence())
          add(op.result(i)->type().axis);
      if (op.kind() == OpKind::Scan)
        add(op.stringAttr("axis"));
    });
    plan_.axes.assign(axes.begin(), axes.end());
  }

  Status planOutputs() {
    std::set<std::string> paramNames, outputNames;
    for (const Op *param : plan_.params)
      paramNames.insert(param->stringAttr("name"));
    for (const Op *op : graph_.opsOfKind(OpKind::Output)) {
      const std::string &name = op->stringAttr("name");
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

  size_t addStaticSlot(const ir::Type &type) {
    WorkspaceSlot slot;
    slot.bytesPerStep = type.numElements() * elementBytes(type, plan_.precision);
    slot.staticOffset = plan_.staticBytes;
    plan_.staticBytes += roundUp(slot.bytesPerStep);
    plan_.slots.push_back(slot);
    return plan_.slots.size() - 1;
  }

  size_t addSlot(const ir::Type &type) {
    if (!type.isSequence())
      return addStaticSlot(type);
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
            carries.push_back(addStaticSlot(op.body()->argument(i)->type()));
        assignSlots(*op.body());
      }
      bool isPrime = op.kind() == OpKind::Input &&
                     plan_.dataIsPrime[std::find(plan_.data.begin(), plan_.data.end(), &op) -
                                       plan_.data.begin()];
      if ((isView(op) && !isPrime) || plan_.foldedTransposes.count(&op))
        continue;
      for (size_t i = 0; i < op.numResults(); ++i)
        plan_.valueSlots[op.result(i)] = addSlot(op.result(i)->type());
    }
  }

  const ir::Graph &graph_;
  KernelPlan plan_;
};

} // namespace

int64_t KernelPlan::workspaceBytes(int64_t /*batchSize*/,
                                   const std::vector<int64_t> &paddedLengths) const {
  int64_t bytes = staticBytes;
  for (const WorkspaceSlot &slot : slots) {
    if (!slot.isSequence)
      continue;
    int64_t steps = (paddedLengths.at(slot.axis) + slot.segmentFactor - 1) / slot.segmentFactor;
    bytes += roundUp(slot.bytesPerStep * steps);
  }
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
