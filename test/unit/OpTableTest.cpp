// The op table (ir/Ops.def, ir/Attributes.def) and what is derived from it: the families and
// traits that passes and emitters ask instead of keeping op lists, the typed attribute
// accessors, and internal errors that reach the caller instead of aborting (Block::indexOf,
// the code generator's EmitContext).
#include "compiler/codegen/EmitContext.h"
#include "ir/Builder.h"
#include "ir/TypeInference.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

#include <llvm/IR/LLVMContext.h>

namespace rnnc {
namespace {

using ir::OpKind;
using ir::OpTrait;

constexpr OpKind kAllKinds[] = {
#define RNNC_OP(Enum, mnemonic, arity, family, traits, summary) OpKind::Enum,
#include "ir/Ops.def"
};

TEST(OpTableTest, MnemonicsLookUpTheirRows) {
  for (OpKind kind : kAllKinds) {
    const ir::OpInfo &info = ir::opInfo(kind);
    EXPECT_EQ(info.kind, kind);
    ASSERT_NE(ir::lookupOp(info.mnemonic), nullptr) << info.mnemonic;
    EXPECT_EQ(ir::lookupOp(info.mnemonic)->kind, kind);
  }
  ASSERT_NE(ir::lookupOp("abs"), nullptr);
  EXPECT_EQ(ir::lookupOp("abs")->family, ir::OpFamily::Elementwise);
  EXPECT_EQ(ir::lookupOp("absolute"), nullptr);
}

TEST(OpTableTest, PredicatesFollowTheFamiliesAndTraits) {
  for (OpKind kind : kAllKinds) {
    const ir::OpInfo &info = ir::opInfo(kind);
    SCOPED_TRACE(info.mnemonic);
    EXPECT_EQ(ir::isElementwiseOp(kind), info.family == ir::OpFamily::Elementwise);
    EXPECT_EQ(ir::isWholeSequenceOp(kind), info.family == ir::OpFamily::Time);
    EXPECT_EQ(ir::hasNoResult(kind), ir::hasTrait(kind, OpTrait::NoResult));
    // What has an effect beyond its result must never be merged by CSE.
    if (ir::hasTrait(kind, OpTrait::SideEffect)) {
      EXPECT_TRUE(ir::hasTrait(kind, OpTrait::Unmergeable));
    }
  }
  EXPECT_TRUE(ir::isElementwiseOp(OpKind::Abs));
  EXPECT_FALSE(ir::isElementwiseOp(OpKind::Constant));
  EXPECT_TRUE(ir::hasTrait(OpKind::Sample, OpTrait::SideEffect));
  EXPECT_TRUE(ir::hasTrait(OpKind::Sample, OpTrait::CanFail));
  EXPECT_FALSE(ir::hasTrait(OpKind::Softmax, OpTrait::CanFail));
  EXPECT_TRUE(ir::hasTrait(OpKind::Repeat, OpTrait::View));
  EXPECT_FALSE(ir::hasTrait(OpKind::Shift, OpTrait::View));
}

TEST(OpTableTest, TypedAccessorsReadTheSchemaKeys) {
  ir::Module module;
  ir::Graph &graph = module.addGraph("forward");
  ir::Builder builder(graph.body());
  ir::Value *x = builder.input("x", ir::Type::real({4}, "t"));
  ir::Value *init = builder.constant(0.5, ir::Type::real({4}));
  ir::Value *shifted =
      builder.create(OpKind::Shift, {x, init}, {{"direction", std::string("reverse")}});
  builder.output(
      "y", builder.create(OpKind::Slice, {shifted}, {{"start", int64_t(1)}, {"len", int64_t(2)}}));
  ASSERT_TRUE(builder.status()) << builder.status().error().message;
  const ir::Op &shift = *shifted->definingOp();
  EXPECT_EQ(x->definingOp()->nameAttr(), "x");
  EXPECT_EQ(init->definingOp()->valueAttr(), 0.5);
  EXPECT_EQ(shift.directionAttr(), "reverse");
  const ir::Op &slice = *graph.findOutput("y")->operand(0)->definingOp();
  EXPECT_EQ(slice.startAttr(), 1);
  EXPECT_EQ(slice.lenAttr(), 2);
  EXPECT_EQ(ir::lenAttr(slice.attrs()), 2); // the same reads on a bare map, as type rules do
  // An attribute the op does not have reads as "" or 0, never undefined behaviour; the verifier
  // is what rejects an op that lacks one its kind needs.
  EXPECT_EQ(shift.axisAttr(), "");
  EXPECT_EQ(shift.factorAttr(), 0);
  EXPECT_EQ(ir::attributeProblem(OpKind::Slice, {{"start", int64_t(1)}}),
            "'slice' needs attribute 'len'");
  EXPECT_EQ(ir::attributeProblem(OpKind::Slice, {{"start", int64_t(1)}, {"len", std::string("2")}}),
            "attribute 'len' of 'slice' must be an integer");
}

// The typing rules read attributes by the schema, so the Builder checks it first: code that
// builds an op without an attribute its kind needs has a bug.
TEST(OpTableTest, BuildingAnOpWithoutItsAttributesIsAnInternalError) {
  ir::Module module;
  ir::Builder builder(module.addGraph("forward").body());
  builder.create(OpKind::Slice, {builder.input("x", ir::Type::real({4}))}, {{"len", int64_t(2)}});
  ASSERT_FALSE(builder.status());
  EXPECT_EQ(builder.status().error().kind, ErrorKind::Internal);
  EXPECT_EQ(builder.status().error().message,
            "<unknown>: internal error: 'slice' needs attribute 'start'");
}

TEST(OpTableTest, IndexOfAnOpOfAnotherBlockIsAnInternalError) {
  ir::Module module;
  ir::Builder first(module.addGraph("a").body()), second(module.addGraph("b").body());
  ir::Value *inFirst = first.constant(1.0, ir::Type::scalar());
  second.constant(2.0, ir::Type::scalar());
  auto found = module.findGraph("a")->body().indexOf(inFirst->definingOp());
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, 0u);
  auto missing = module.findGraph("b")->body().indexOf(inFirst->definingOp());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::Internal);
  EXPECT_EQ(missing.error().message,
            "internal error: Block::indexOf: 'constant' is not in this block");
}

// A misuse inside the code generator (here a per-example value read outside a loop over
// examples) is recorded as an internal error for lowerGraph to return; it used to abort.
TEST(OpTableTest, CodegenMisuseIsAnInternalErrorNotAnAbort) {
  llvm::LLVMContext llvmContext;
  llvm::Module llvmModule("m", llvmContext);
  codegen::KernelPlan plan;
  codegen::EmitContext context(llvmModule, plan);
  auto *function = llvm::Function::Create(
      llvm::FunctionType::get(context.builder.getVoidTy(), {context.pointerType}, false),
      llvm::Function::ExternalLinkage, "f", llvmModule);
  context.function = function;
  context.builder.SetInsertPoint(llvm::BasicBlock::Create(llvmContext, "entry", function));
  codegen::Storage perExample{function->getArg(0), nullptr, context.index(4)};
  EXPECT_EQ(context.stepPointer(perExample, context.realType, context.index(0)),
            function->getArg(0));
  ASSERT_TRUE(context.internalError.has_value());
  EXPECT_EQ(context.internalError->kind, ErrorKind::Internal);
  EXPECT_EQ(context.internalError->message,
            "internal error: codegen: a per-example value used outside a loop over examples");
  context.internalError.reset();
  context.examplesBegin = context.index(0); // as inside a parallel loop's function
  bool emitted = false;
  context.forEachExampleInParallel(context.index(1), [&] { emitted = true; });
  EXPECT_FALSE(emitted);
  ASSERT_TRUE(context.internalError.has_value());
  EXPECT_EQ(context.internalError->message,
            "internal error: codegen: a parallel loop over examples inside another one");
}

} // namespace
} // namespace rnnc
