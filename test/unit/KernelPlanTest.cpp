// Decisions of codegen::planKernel (KernelPlan.h) that change what is stored, not what is
// computed: a forward shift as a view of its operand's slot, elementwise ops inlined into their
// only user's loop, a one-hot weight gradient as a scatter-add. That the kernels still compute the interpreter's values is checked by
// JitDifferentialTest and BatchedProductTest; here, that the plan makes the decisions at all
// and refuses the cases it must.
#include "compiler/codegen/KernelPlan.h"
#include "ir/Parser.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace rnnc {
namespace {

struct PlannedGraph {
  std::unique_ptr<ir::Module> module;
  codegen::KernelPlan plan;

  /// The op defining `%name`.
  const ir::Op &op(const std::string &name) const {
    const ir::Op *found = nullptr;
    module->findGraph("g")->body().walk([&](ir::Op &candidate) {
      for (size_t i = 0; i < candidate.numResults(); ++i)
        if (candidate.result(i)->nameHint() == name)
          found = &candidate;
    });
    EXPECT_NE(found, nullptr) << "%" << name;
    return *found;
  }
};

PlannedGraph plan(const std::string &body) {
  PlannedGraph result;
  auto module = ir::parseModule("module @m {\n  graph @g {\n" + body + "  }\n}\n", "m.rnnir");
  EXPECT_TRUE(module) << module.error().message;
  if (!module)
    return result;
  result.module = module.take();
  auto planned = codegen::planKernel(*result.module->findGraph("g"), codegen::PlanOptions{});
  EXPECT_TRUE(planned) << planned.error().message;
  if (planned)
    result.plan = planned.take();
  return result;
}

const char *kShiftedScan = R"(
    %x = input {name = "x"} : f32[8][t]
    %0 = constant {value = 0.0} : f32[8]
    %z = scan {axis = "t", carries = 1, direction = "forward", steps = 1} %0, %x {
    ^(%z.1: f32[8], %x.1: f32[8]):
      %1 = add %z.1, %x.1 : f32[8]
      yield {carries = 1} %1, %1
    } : f32[8][t]
    %zs = shift {direction = "forward"} %z, %0 : f32[8][t]
    %d = sub %z, %zs : f32[8][t]
    output {name = "d"} %d
)";

TEST(KernelPlanTest, ForwardShiftIsAViewOfItsOperandsSlot) {
  PlannedGraph planned = plan(kShiftedScan);
  ASSERT_NE(planned.module, nullptr);
  const codegen::KernelPlan &plan = planned.plan;
  const ir::Op &shift = planned.op("zs");
  ASSERT_EQ(plan.prefixedShifts.count(&shift), 1u);
  EXPECT_EQ(plan.valueSlots.count(shift.result()), 0u);
  const codegen::WorkspaceSlot &slot = plan.slots[plan.valueSlots.at(shift.operand(0))];
  EXPECT_EQ(slot.prefixSteps, 1);
  // The leading step is part of the workspace: B rows more than T · B (B = 3, T = 5, 8 floats).
  EXPECT_EQ(slot.bytes(3, {5}), (3 * 6 * 8 * 4 + 63) / 64 * 64);
}

TEST(KernelPlanTest, ReverseShiftAndShiftOfAnInputAreCopies) {
  PlannedGraph planned = plan(R"(
    %x = input {name = "x"} : f32[8][t]
    %0 = constant {value = 0.0} : f32[8]
    %r = shift {direction = "reverse"} %x, %0 : f32[8][t]
    %f = shift {direction = "forward"} %x, %0 : f32[8][t]
    %d = sub %r, %f : f32[8][t]
    output {name = "d"} %d
)");
  ASSERT_NE(planned.module, nullptr);
  EXPECT_TRUE(planned.plan.prefixedShifts.empty());
  EXPECT_EQ(planned.plan.valueSlots.count(planned.op("r").result()), 1u);
  EXPECT_EQ(planned.plan.valueSlots.count(planned.op("f").result()), 1u);
}

TEST(KernelPlanTest, ElementwiseChainsAreOneLoop) {
  // 2 (h − y) and 1 − h ⊙ h: the sub and the inner mul are computed in their users' loops.
  PlannedGraph planned = plan(R"(
    %h = input {name = "h"} : f32[8][t]
    %y = target {name = "y"} : f32[8][t]
    %two = constant {value = 2.0} : f32[]
    %one = constant {value = 1.0} : f32[]
    %e = sub %h, %y : f32[8][t]
    %dh = mul %two, %e : f32[8][t]
    output {name = "dh"} %dh
    %sq = mul %h, %h : f32[8][t]
    %g = sub %one, %sq : f32[8][t]
    output {name = "g"} %g
)");
  ASSERT_NE(planned.module, nullptr);
  const codegen::KernelPlan &plan = planned.plan;
  for (const char *inlined : {"e", "sq"}) {
    SCOPED_TRACE(inlined);
    EXPECT_EQ(plan.inlinedElementwise.count(&planned.op(inlined)), 1u);
    EXPECT_EQ(plan.valueSlots.count(planned.op(inlined).result()), 0u);
  }
  for (const char *stored : {"dh", "g"})
    EXPECT_EQ(plan.inlinedElementwise.count(&planned.op(stored)), 0u) << stored;
}

TEST(KernelPlanTest, ValuesWithSeveralUsesOrOtherShapesAreStored) {
  PlannedGraph planned = plan(R"(
    %a = input {name = "a"} : f32[8][t]
    %s = input {name = "s"} : f32[8]
    %twice = add %a, %a : f32[8][t]
    %both = mul %twice, %twice : f32[8][t]
    output {name = "both"} %both
    %e = exp %s : f32[8]
    %f = mul %e, %a : f32[8][t]
    output {name = "f"} %f
    %o = tanh %a : f32[8][t]
    output {name = "o"} %o
    %p = neg %o : f32[8][t]
    output {name = "p"} %p
)");
  ASSERT_NE(planned.module, nullptr);
  // %twice has two uses, %e is static but its user a sequence, %o is also an output.
  for (const char *stored : {"twice", "e", "o"})
    EXPECT_EQ(planned.plan.inlinedElementwise.count(&planned.op(stored)), 0u) << stored;
}

TEST(KernelPlanTest, WeightGradientOfAOneHotInputIsAScatterNotAGemm) {
  // Gradients of parameters are summed over the batch.
  PlannedGraph planned = plan(R"(
    %U = param {init = "zeros", name = "U"} : f32[8,5]
    %V = param {init = "zeros", name = "V"} : f32[8,5]
    %x = input {name = "x"} : tok<5>[t]
    %d = input {name = "d"} : f32[8][t]
    %e = input {name = "e"} : f32[5][t]
    %1 = onehot %x : f32[5][t]
    %g = sum_outer %d, %1 : f32[8,5]
    output {name = "grad.U"} %g
    %h = sum_outer %d, %e : f32[8,5]
    output {name = "grad.V"} %h
)");
  ASSERT_NE(planned.module, nullptr);
  const codegen::KernelPlan &plan = planned.plan;
  ASSERT_EQ(plan.batchSummedOuters.count(&planned.op("g")), 1u);
  const codegen::BatchSummedOuter &scatter = plan.batchSummedOuters.at(&planned.op("g"));
  EXPECT_TRUE(scatter.oneHotRight);
  EXPECT_EQ(plan.slots[scatter.oneHotRows].bytes(3, {4}), 8 * 5 * 4 / 64 * 64 + 64);
  ASSERT_EQ(plan.batchSummedOuters.count(&planned.op("h")), 1u);
  EXPECT_FALSE(plan.batchSummedOuters.at(&planned.op("h")).oneHotRight);
}

} // namespace
} // namespace rnnc
