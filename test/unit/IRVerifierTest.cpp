// The IR verifier, one test per rule of docs/ir.md ("Verifier"): graphs built (and then broken)
// with the Builder, checking that the message names the rule and the op.
#include "ir/Builder.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

namespace rnnc::ir {
namespace {

/// The verifier's message for a graph that must fail.
std::string failure(const Graph &graph) {
  Status status = verifyGraph(graph);
  EXPECT_FALSE(status) << printGraph(graph);
  return status ? "" : status.error().message;
}

/// A forward graph with an input sequence %x: f32[2][t], a param %W: f32[2,2] and %h0: f32[2].
struct Fixture {
  Graph graph{"forward"};
  Builder builder{graph.body()};
  Value *x = builder.input("x", Type::real({2}, "t"));
  Value *W = builder.param("W", Type::real({2, 2}), "zeros");
  Value *h0 = builder.constant(0.0, Type::real({2}));

  /// A scan over t with carry h0, step x and static W, body built by `body`, which returns the
  /// (next carries, outputs) to yield.
  template <typename BodyFn> Op *scan(BodyFn body, bool withYield = true) {
    Op *scan = builder.beginScan("t", false, {h0}, {x}, {W});
    Builder inner(*scan->body());
    auto [carries, outputs] = body(inner, *scan->body());
    if (withYield)
      builder.finishScan(scan, carries, outputs);
    return scan;
  }
};

using Values = std::vector<Value *>;

TEST(IRVerifier, ValidElmanGraphPasses) {
  Fixture f;
  Op *scan = f.scan([](Builder &b, Block &body) {
    Value *next =
        b.create(OpKind::Tanh, {b.create(OpKind::MatMul, {body.argument(2), body.argument(0)})});
    Value *sum = b.create(OpKind::Add, {next, body.argument(1)});
    return std::pair{Values{next}, Values{sum}};
  });
  f.builder.output("h", scan->result());
  ASSERT_TRUE(f.builder.status());
  EXPECT_TRUE(verifyGraph(f.graph)) << verifyGraph(f.graph).error().message;
}

TEST(IRVerifier, MessageHasLocationRuleAndPrintedOp) {
  Fixture f;
  f.builder.setLocation({"model.rnn", 7, 3});
  f.builder.output("o", f.x);
  f.builder.output("o", f.h0);
  EXPECT_EQ(failure(f.graph), "verifier: model.rnn:7:3: duplicate output name 'o'\n"
                              "  in: output {name = \"o\"} %0");
}

TEST(IRVerifier, OperandMustBeDefinedBeforeUse) {
  Fixture f;
  Value *negated = f.builder.create(OpKind::Neg, {f.h0});
  // Move the definition of h0's user before h0 itself.
  Op *user = negated->definingOp();
  auto moved =
      std::make_unique<Op>(user->kind(), user->operands(), user->attrs(), user->location());
  moved->addResult(negated->type());
  f.graph.body().erase(user);
  f.graph.body().insert(0, std::move(moved));
  EXPECT_NE(failure(f.graph).find("is not defined before its use in this block"),
            std::string::npos);
}

TEST(IRVerifier, ScanBodyRefersOnlyToItsArguments) {
  Fixture f;
  Value *outer = f.W;
  f.scan([&](Builder &b, Block &body) {
    Value *next = b.create(OpKind::MatMul, {outer, body.argument(0)});
    return std::pair{Values{next}, Values{next}};
  });
  EXPECT_NE(failure(f.graph).find("operand 0 (%W) is defined outside this scan body; a scan "
                                  "body refers only to its own arguments"),
            std::string::npos);
}

TEST(IRVerifier, RequiredAttributesArePresentAndWellKinded) {
  Graph graph("forward");
  graph.body()
      .append(std::make_unique<Op>(OpKind::Input, std::vector<Value *>{},
                                   Attributes{{"name", int64_t{3}}}, SourceLocation{}))
      ->addResult(Type::scalar());
  EXPECT_EQ(failure(graph), "verifier: <unknown>: attribute 'name' of 'input' must be a string\n"
                            "  in: %0 = input {name = 3} : f32[]");
}

TEST(IRVerifier, ResultTypeAgreesWithTypingRule) {
  Fixture f;
  f.builder.create(OpKind::Tanh, {f.h0})->setType(Type::real({3}));
  EXPECT_NE(failure(f.graph).find("result type f32[3] does not match inferred f32[2]"),
            std::string::npos);
}

TEST(IRVerifier, OperandsSatisfyTypingRule) {
  Fixture f;
  f.builder.create(OpKind::Add, {f.W, f.h0}); // the builder records the error; so does verify
  EXPECT_FALSE(f.builder.status());
  EXPECT_NE(failure(f.graph).find("'add' needs equal shapes or a scalar (operands: f32[2,2], "
                                  "f32[2])"),
            std::string::npos);
}

TEST(IRVerifier, YieldCountMatchesScan) {
  Fixture f;
  Op *scan = f.scan([](Builder &, Block &body) {
    return std::pair{Values{body.argument(0)}, Values{}};
  });
  scan->addResult(Type::real({2}, "t")); // a result with no yielded output
  EXPECT_NE(failure(f.graph).find("yield gives 1 value(s); the scan needs 1 carry(ies) and 1 "
                                  "per-step output(s)"),
            std::string::npos);
}

TEST(IRVerifier, YieldCarriesAttributeMatchesScan) {
  Fixture f;
  Op *scan = f.scan([](Builder &, Block &body) {
    return std::pair{Values{body.argument(0)}, Values{body.argument(1)}};
  });
  scan->body()->terminator()->setAttr("carries", int64_t{0});
  EXPECT_NE(failure(f.graph).find("yield carries 0 value(s) but the scan has 1 carry(ies)"),
            std::string::npos);
}

TEST(IRVerifier, CarryKeepsItsType) {
  Fixture f;
  f.scan([](Builder &b, Block &body) {
    Value *sum = b.create(OpKind::Sum, {body.argument(0)});
    return std::pair{Values{sum}, Values{sum}};
  });
  EXPECT_NE(failure(f.graph).find("carry 0 changes type: f32[2] becomes f32[]"), std::string::npos);
}

TEST(IRVerifier, StepSequencesAreOverTheScanAxis) {
  Fixture f;
  Value *other = f.builder.input("y", Type::real({2}, "s"));
  Op *scan = f.builder.beginScan("t", false, {f.h0}, {other}, {});
  f.builder.finishScan(scan, {scan->body()->argument(0)}, {scan->body()->argument(1)});
  EXPECT_NE(failure(f.graph).find("step operand 1 (%y) has type f32[2][s], not a sequence over "
                                  "the scan's axis 't'"),
            std::string::npos);
}

TEST(IRVerifier, BodyArgumentsMatchOperands) {
  Fixture f;
  Op *scan = f.scan([](Builder &, Block &body) {
    return std::pair{Values{body.argument(0)}, Values{body.argument(0)}};
  });
  scan->body()->argument(1)->setType(Type::real({5}));
  EXPECT_NE(failure(f.graph).find("body argument 1 has type f32[5], expected f32[2] for "
                                  "operand 1 (%x)"),
            std::string::npos);
}

TEST(IRVerifier, ScanResultsAreTheYieldedOutputsOverTheAxis) {
  Fixture f;
  Op *scan = f.scan([](Builder &, Block &body) {
    return std::pair{Values{body.argument(0)}, Values{body.argument(0)}};
  });
  scan->result()->setType(Type::real({2}, "s"));
  EXPECT_NE(failure(f.graph).find("result 0 has type f32[2][s], expected f32[2][t]"),
            std::string::npos);
}

TEST(IRVerifier, NoSequenceTypeInsideScanBody) {
  Fixture f;
  f.scan([](Builder &b, Block &body) {
    b.create(OpKind::Repeat, {body.argument(0)}, {{"axis", std::string("t")}});
    return std::pair{Values{body.argument(0)}, Values{body.argument(0)}};
  });
  EXPECT_NE(failure(f.graph).find("sequence type f32[2][t] inside a scan body"), std::string::npos);
}

TEST(IRVerifier, ScanBodyEndsWithYield) {
  Fixture f;
  f.scan(
      [](Builder &b, Block &body) {
        b.create(OpKind::Neg, {body.argument(0)});
        return std::pair{Values{}, Values{}};
      },
      /*withYield=*/false);
  EXPECT_NE(failure(f.graph).find("a scan body must end with 'yield'"), std::string::npos);
}

TEST(IRVerifier, YieldOnlyEndsAScanBody) {
  Fixture f;
  f.builder.createSink(OpKind::Yield, {f.h0}, {{"carries", int64_t{0}}});
  EXPECT_NE(failure(f.graph).find("'yield' is only allowed as the last op of a scan body"),
            std::string::npos);
}

TEST(IRVerifier, LeavesAndOutputsOnlyAtTopLevel) {
  Fixture f;
  f.scan([](Builder &b, Block &body) {
    Value *bias = b.param("b", Type::real({2}), "zeros");
    return std::pair{Values{body.argument(0)}, Values{bias}};
  });
  EXPECT_NE(failure(f.graph).find("'param' is only allowed at the top level of a graph"),
            std::string::npos);
}

TEST(IRVerifier, FeedOnlyInAGenerateScan) {
  Fixture f;
  f.scan([](Builder &b, Block &body) {
    Value *fed = b.create(OpKind::Feed, {body.argument(1), body.argument(0)});
    return std::pair{Values{fed}, Values{fed}};
  });
  EXPECT_NE(failure(f.graph).find("'feed' is only allowed inside a scan of the generate graph"),
            std::string::npos);
}

TEST(IRVerifier, FeedAndSampleAllowedInGenerateGraph) {
  Graph graph("generate");
  Builder builder(graph.body());
  Value *prime = builder.input("x", Type::token(3, "t"));
  Value *start = builder.tokenConstant(0, 3);
  Op *scan = builder.beginScan("t", false, {start}, {prime}, {});
  Builder inner(*scan->body());
  Value *fed = inner.create(OpKind::Feed, {scan->body()->argument(1), scan->body()->argument(0)});
  Value *next = inner.create(OpKind::Sample, {inner.create(OpKind::OneHot, {fed})});
  builder.finishScan(scan, {next}, {fed});
  builder.output("x", scan->result());
  ASSERT_TRUE(builder.status());
  EXPECT_TRUE(verifyGraph(graph)) << verifyGraph(graph).error().message;
}

TEST(IRVerifier, SampleOnlyInGenerateGraph) {
  Fixture f;
  f.builder.create(OpKind::Sample, {f.h0});
  EXPECT_NE(failure(f.graph).find("'sample' is only allowed in the generate graph"),
            std::string::npos);
}

TEST(IRVerifier, OutputNamesAreUnique) {
  Fixture f;
  f.builder.output("o", f.x);
  f.builder.output("o", f.h0);
  EXPECT_NE(failure(f.graph).find("duplicate output name 'o'"), std::string::npos);
}

TEST(IRVerifier, TokenConstantWithinVocabulary) {
  Fixture f;
  f.builder.tokenConstant(4, 4);
  EXPECT_NE(failure(f.graph).find("token id 4 is outside tok<4>"), std::string::npos);
}

TEST(IRVerifier, ModuleGraphAndDimNamesAreUnique) {
  Module module("m");
  module.addGraph("forward");
  module.addGraph("forward");
  EXPECT_EQ(verifyModule(module).error().message,
            "verifier: module @m: duplicate graph '@forward'");
  Module dims("m");
  dims.dims() = {{"H", 3}, {"H", 4}};
  EXPECT_EQ(verifyModule(dims).error().message, "verifier: module @m: duplicate dim 'H'");
  Module nonPositive("m");
  nonPositive.dims() = {{"H", 0}};
  EXPECT_EQ(verifyModule(nonPositive).error().message,
            "verifier: module @m: dim 'H' must be positive, is 0");
}

} // namespace
} // namespace rnnc::ir
