// Unfolding preserves meaning: on examples of length exactly N, the unfolded graph computes the
// same outputs as the folded one (checked with the reference interpreter), and it has no time
// structure left.
#include "ir/Interpreter.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Unfold.h"
#include "ir/Verifier.h"
#include "runtime/Init.h"

#include <gtest/gtest.h>

namespace rnnc::ir {
namespace {

// A small Elman network (K = 5, H = 4) with a reverse scan reading its states, and every time op
// the unfolding rewrites (shift, first, last, sum_time, repeat, at_last, at_first).
constexpr const char *elmanText = R"(module @elman {
  graph @forward {
    %x = input {name = "x"} : tok<5>[t]
    %y = target {name = "y"} : tok<5>[t]
    %U = param {init = "glorot", name = "U"} : f32[4,5]
    %W = param {init = "glorot", name = "W"} : f32[4,4]
    %b = param {init = "glorot", name = "b"} : f32[4]
    %V = param {init = "glorot", name = "V"} : f32[5,4]
    %c = param {init = "glorot", name = "c"} : f32[5]
    %h0 = constant {value = 0.0} : f32[4]
    %h = scan {axis = "t", carries = 1, direction = "forward", steps = 1} %h0, %x, %W, %U, %b {
    ^(%hp: f32[4], %xt: tok<5>, %W.1: f32[4,4], %U.1: f32[4,5], %b.1: f32[4]):
      %e = onehot %xt : f32[5]
      %ue = matmul %U.1, %e : f32[4]
      %wh = matmul %W.1, %hp : f32[4]
      %a0 = add %b.1, %wh : f32[4]
      %a = add %a0, %ue : f32[4]
      %hn = tanh %a : f32[4]
      yield {carries = 1} %hn, %hn
    } : f32[4][t]
    %g = scan {axis = "t", carries = 1, direction = "reverse", steps = 1} %b, %h, %W {
    ^(%gp: f32[4], %ht: f32[4], %W.2: f32[4,4]):
      %r = matmul %W.2, %gp : f32[4]
      %s = add %r, %ht : f32[4]
      %gn = sigmoid %s : f32[4]
      yield {carries = 1} %gn, %gn
    } : f32[4][t]
    %prev = shift {direction = "forward"} %g, %b : f32[4][t]
    %next = shift {direction = "reverse"} %h, %b : f32[4][t]
    %hg = add %prev, %next : f32[4][t]
    %vh = matmul %V, %hg : f32[5][t]
    %o = add %c, %vh : f32[5][t]
    %p = softmax %o : f32[5][t]
    %l = nll %p, %y : f32[][t]
    %loss = sum_time %l : f32[]
    %hl = last %h : f32[4]
    %gf = first %g : f32[4]
    %both = add %hl, %gf : f32[4]
    %rep = repeat {axis = "t"} %both : f32[4][t]
    %al = at_last {axis = "t"} %both : f32[4][t]
    %af = at_first {axis = "t"} %hl : f32[4][t]
    %mix = add %al, %af : f32[4][t]
    %mix2 = mul %mix, %rep : f32[4][t]
    output {name = "h"} %h
    output {name = "o"} %o
    output {name = "mix"} %mix2
    output {name = "both"} %both
    output {name = "loss"} %loss
  }
}
)";

std::unique_ptr<Module> parseElman() {
  auto module = parseModule(elmanText, "elman.rnnir");
  EXPECT_TRUE(module) << module.error().message;
  EXPECT_TRUE(verifyModule(**module));
  return module.take();
}

TEST(IRUnfold, UnfoldedGraphVerifiesAndHasNoTimeStructure) {
  auto module = parseElman();
  auto unfolded = unfoldModule(*module, 3);
  ASSERT_TRUE(unfolded) << unfolded.error().message;
  Status verified = verifyModule(**unfolded);
  ASSERT_TRUE(verified) << verified.error().message << "\n" << printModule(**unfolded);
  (*unfolded)->graphs()[0]->body().walk([](Op &op) {
    for (OpKind folded : {OpKind::Scan, OpKind::Shift, OpKind::Last, OpKind::First, OpKind::SumTime,
                          OpKind::Repeat, OpKind::AtLast, OpKind::AtFirst})
      EXPECT_NE(op.kind(), folded) << printOp(op);
  });
}

TEST(IRUnfold, SameOutputsAsFoldedGraphForExamplesOfLengthN) {
  constexpr int64_t steps = 3, batch = 2;
  auto module = parseElman();
  const Graph &folded = *module->graphs()[0];
  auto unfolded = unfoldModule(*module, steps);
  ASSERT_TRUE(unfolded) << unfolded.error().message;
  const Graph &unrolled = *(*unfolded)->graphs()[0];

  Rng rng(42);
  TensorMap params;
  for (const Op *param : folded.opsOfKind(OpKind::Param)) {
    Tensor tensor(DType::F64, param->result()->type().shape);
    for (double &value : tensor.values<double>())
      value = 2 * rng.uniform01() - 1; // nonzero everywhere, so no output is trivially equal
    params.emplace(param->nameAttr(), std::move(tensor));
  }
  TensorMap data;
  data.emplace("x", Tensor::fromValues<int32_t>({steps, batch}, {0, 4, 2, 1, 3, 3}));
  data.emplace("y", Tensor::fromValues<int32_t>({steps, batch}, {1, 2, 4, 0, 0, 3}));
  Batch inputs{&params, &data, {}, {}, {}};

  auto expected = runGraph(folded, inputs);
  ASSERT_TRUE(expected) << expected.error().message;
  auto actual = runGraph(unrolled, inputs);
  ASSERT_TRUE(actual) << actual.error().message;
  ASSERT_EQ(expected->size(), 5u);
  for (const auto &[name, tensor] : *expected) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(actual->count(name));
    const Tensor &other = actual->at(name);
    ASSERT_EQ(tensor.shape(), other.shape());
    auto want = tensor.values<double>(), got = other.values<double>();
    double largest = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(want[i], got[i], 1e-12 * (1 + std::abs(want[i])));
      largest = std::max(largest, std::abs(want[i]));
    }
    EXPECT_GT(largest, 0.0); // a vacuous all-zero comparison would prove nothing
  }
}

TEST(IRUnfold, FeedCannotBeUnfolded) {
  auto module = parseModule(R"(module @g {
  graph @generate {
    %x = input {name = "x"} : tok<3>[t]
    %s = token_constant {value = 0} : tok<3>
    %o = scan {axis = "t", carries = 1, direction = "forward", steps = 1} %s, %x {
    ^(%p: tok<3>, %xt: tok<3>):
      %f = feed %xt, %p : tok<3>
      yield {carries = 1} %f, %f
    } : tok<3>[t]
    output {name = "x"} %o
  }
}
)",
                            "g.rnnir");
  ASSERT_TRUE(module) << module.error().message;
  auto unfolded = unfoldModule(**module, 2);
  ASSERT_FALSE(unfolded);
  EXPECT_EQ(unfolded.error().message,
            "unfold: g.rnnir:7:7: 'feed' cannot be unfolded: the prime's length is a run-time "
            "value\n  in: %f = feed %xt, %p : tok<3>");
}

TEST(IRUnfold, RejectsZeroSteps) {
  auto module = parseElman();
  auto unfolded = unfoldModule(*module, 0);
  ASSERT_FALSE(unfolded);
  EXPECT_EQ(unfolded.error().message, "unfold: the number of steps must be >= 1, got 0");
}

} // namespace
} // namespace rnnc::ir
