// The reference interpreter (ir/Interpreter.h): every op family against hand computations, scans
// in both directions, the time ops with mixed lengths, batch layout (padding, output shapes,
// summed loss and gradients), precision, sampling and priming in generation, and the user errors
// for bad batches with their exact messages.
#include "ir/Interpreter.h"
#include "ir/Builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace rnnc::ir {
namespace {

Tensor reals(std::vector<int64_t> shape, std::initializer_list<double> values) {
  return Tensor::fromValues<double>(std::move(shape), values);
}

Tensor tokens(std::vector<int64_t> shape, std::initializer_list<int32_t> values) {
  return Tensor::fromValues<int32_t>(std::move(shape), values);
}

std::vector<double> valuesOf(const Tensor &tensor) {
  if (tensor.dtype() == DType::F32) {
    auto values = tensor.values<float>();
    return {values.begin(), values.end()};
  }
  auto values = tensor.values<double>();
  return {values.begin(), values.end()};
}

std::vector<int32_t> idsOf(const Tensor &tensor) {
  auto values = tensor.values<int32_t>();
  return {values.begin(), values.end()};
}

void expectValues(const Tensor &tensor, std::vector<int64_t> shape, std::vector<double> expected,
                  double tolerance = 1e-12) {
  ASSERT_EQ(tensor.shape(), shape);
  std::vector<double> actual = valuesOf(tensor);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], tolerance) << "at flat index " << i;
}

Attributes axisAttr(const std::string &axis) { return {{"axis", axis}}; }
Attributes directionAttr(const std::string &direction) { return {{"direction", direction}}; }

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

/// A graph under construction, the tensors to run it on, and helpers to run it.
class InterpreterTest : public ::testing::Test {
protected:
  Value *op(OpKind kind, std::vector<Value *> operands, Attributes attrs = {}) {
    return builder.create(kind, std::move(operands), std::move(attrs));
  }
  Value *realSequence(const std::string &name, std::vector<int64_t> shape = {}) {
    return builder.input(name, Type::real(std::move(shape), "t"));
  }

  Expected<TensorMap> tryRun(const RunOptions &options = {}) {
    EXPECT_TRUE(builder.status()) << builder.status().error().message;
    batch.params = &params;
    batch.data = &data;
    return runGraph(graph, batch, options);
  }
  TensorMap run(const RunOptions &options = {}) {
    auto outputs = tryRun(options);
    EXPECT_TRUE(outputs) << outputs.error().message;
    return outputs ? outputs.take() : TensorMap{};
  }
  /// The message of the user error the run must fail with.
  std::string runError() {
    auto outputs = tryRun();
    EXPECT_FALSE(outputs);
    if (outputs)
      return {};
    EXPECT_EQ(outputs.error().kind, ErrorKind::User) << outputs.error().message;
    return outputs.error().message;
  }

  Module module{"test"};
  Graph &graph = module.addGraph("forward");
  Builder builder{graph.body()};
  TensorMap params, data;
  Batch batch;
};

TEST_F(InterpreterTest, ElementwiseOpsBroadcastScalars) {
  Value *a = builder.input("a", Type::real({3}));
  Value *s = builder.param("s", Type::scalar(), "ones");
  builder.output("add", op(OpKind::Add, {a, s}));
  builder.output("sub", op(OpKind::Sub, {s, a}));
  builder.output("mul", op(OpKind::Mul, {a, a}));
  builder.output("div", op(OpKind::Div, {a, s}));
  builder.output("neg", op(OpKind::Neg, {a}));
  builder.output("tanh", op(OpKind::Tanh, {a}));
  builder.output("sigmoid", op(OpKind::Sigmoid, {a}));
  builder.output("relu", op(OpKind::Relu, {a}));
  builder.output("step", op(OpKind::Step, {a}));
  builder.output("exp", op(OpKind::Exp, {a}));
  builder.output("log", op(OpKind::Log, {op(OpKind::Exp, {a})}));
  builder.output("abs", op(OpKind::Abs, {a}));
  builder.output("sqrt", op(OpKind::Sqrt, {op(OpKind::Abs, {a})}));
  builder.output("max", op(OpKind::Max, {a, s}));
  builder.output("min", op(OpKind::Min, {s, a}));
  std::vector<double> in = {1, -2, 0.5, 3, 0, -1};
  data["a"] = Tensor::fromValues<double>({2, 3}, in);
  params["s"] = reals({}, {2});

  TensorMap out = run();
  auto each = [&](auto function) {
    std::vector<double> result;
    for (double x : in)
      result.push_back(function(x));
    return result;
  };
  std::vector<int64_t> shape = {2, 3};
  expectValues(out["add"], shape, each([](double x) { return x + 2; }));
  expectValues(out["sub"], shape, each([](double x) { return 2 - x; }));
  expectValues(out["mul"], shape, each([](double x) { return x * x; }));
  expectValues(out["div"], shape, each([](double x) { return x / 2; }));
  expectValues(out["neg"], shape, each([](double x) { return -x; }));
  expectValues(out["tanh"], shape, each([](double x) { return std::tanh(x); }));
  expectValues(out["sigmoid"], shape, each(sigmoid));
  expectValues(out["relu"], shape, each([](double x) { return x > 0 ? x : 0; }));
  expectValues(out["step"], shape, each([](double x) { return x > 0 ? 1 : 0; }));
  expectValues(out["exp"], shape, each([](double x) { return std::exp(x); }));
  expectValues(out["abs"], shape, each([](double x) { return std::abs(x); }));
  expectValues(out["sqrt"], shape, each([](double x) { return std::sqrt(std::abs(x)); }));
  expectValues(out["max"], shape, each([](double x) { return x > 2 ? x : 2; }));
  expectValues(out["min"], shape, each([](double x) { return x < 2 ? x : 2; }));
  expectValues(out["log"], shape, in);
}

TEST_F(InterpreterTest, LinearAlgebra) {
  Value *A = builder.param("A", Type::real({2, 3}), "glorot");
  Value *M = builder.param("M", Type::real({3, 2}), "glorot");
  Value *v = builder.input("v", Type::real({3}));
  Value *u = builder.input("u", Type::real({2}));
  builder.output("Av", op(OpKind::MatMul, {A, v}));
  builder.output("AM", op(OpKind::MatMul, {A, M}));
  builder.output("At", op(OpKind::Transpose, {A}));
  builder.output("uv", op(OpKind::Outer, {u, v}));
  params["A"] = reals({2, 3}, {1, 2, 3, 4, 5, 6});
  params["M"] = reals({3, 2}, {1, 0, 0, 1, 1, 1});
  data["v"] = reals({1, 3}, {1, -1, 2});
  data["u"] = reals({1, 2}, {2, 3});

  TensorMap out = run();
  expectValues(out["Av"], {1, 2}, {1 - 2 + 6, 4 - 5 + 12});
  expectValues(out["AM"], {1, 2, 2}, {1 + 3, 2 + 3, 4 + 6, 5 + 6});
  expectValues(out["At"], {1, 3, 2}, {1, 4, 2, 5, 3, 6});
  expectValues(out["uv"], {1, 2, 3}, {2, -2, 4, 3, -3, 6});
}

TEST_F(InterpreterTest, SoftmaxAndLogSoftmaxAreStable) {
  Value *z = builder.input("z", Type::real({3}));
  builder.output("p", op(OpKind::Softmax, {z}));
  builder.output("logp", op(OpKind::LogSoftmax, {z}));
  data["z"] = reals({1, 3}, {1000, 1001, 1002});

  TensorMap out = run();
  double total = std::exp(-2.0) + std::exp(-1.0) + 1;
  expectValues(out["p"], {1, 3}, {std::exp(-2.0) / total, std::exp(-1.0) / total, 1 / total});
  expectValues(out["logp"], {1, 3}, {-2 - std::log(total), -1 - std::log(total), -std::log(total)});
}

TEST_F(InterpreterTest, VectorAndTokenOps) {
  Value *a = builder.input("a", Type::real({4}));
  Value *b = builder.input("b", Type::real({4}));
  Value *k = builder.input("k", Type::token(4));
  Value *s = builder.param("s", Type::scalar(), "ones");
  builder.output("onehot", op(OpKind::OneHot, {k}));
  builder.output("nll", op(OpKind::Nll, {op(OpKind::Softmax, {a}), k}));
  builder.output("sqerr", op(OpKind::SqErr, {a, b}));
  builder.output("sum", op(OpKind::Sum, {a}));
  builder.output("mean", op(OpKind::Mean, {a}));
  builder.output("broadcast", builder.createTyped(OpKind::Broadcast, {s}, Type::real({2, 2})));
  builder.output("concat",
                 op(OpKind::Concat,
                    {a, op(OpKind::Slice, {b}, {{"start", int64_t(1)}, {"len", int64_t(2)}})}));
  builder.output("pad", op(OpKind::Pad,
                           {op(OpKind::Slice, {a}, {{"start", int64_t(0)}, {"len", int64_t(2)}})},
                           {{"start", int64_t(1)}, {"size", int64_t(5)}}));
  builder.output("argmax", op(OpKind::Argmax, {a}));
  data["a"] = reals({1, 4}, {1, 3, 3, 0});
  data["b"] = reals({1, 4}, {0, 1, 2, 2});
  data["k"] = tokens({1}, {2});
  params["s"] = reals({}, {-1.5});

  TensorMap out = run();
  expectValues(out["onehot"], {1, 4}, {0, 0, 1, 0});
  double total = std::exp(1.0) + 2 * std::exp(3.0) + 1;
  expectValues(out["nll"], {1}, {-std::log(std::exp(3.0) / total)});
  expectValues(out["sqerr"], {1}, {1 + 4 + 1 + 4});
  expectValues(out["sum"], {1}, {7});
  expectValues(out["mean"], {1}, {1.75});
  expectValues(out["broadcast"], {1, 2, 2}, {-1.5, -1.5, -1.5, -1.5});
  expectValues(out["concat"], {1, 6}, {1, 3, 3, 0, 1, 2});
  expectValues(out["pad"], {1, 5}, {0, 1, 3, 0, 0});
  EXPECT_EQ(idsOf(out["argmax"]), std::vector<int32_t>{1}); // the first of two maxima
}

TEST_F(InterpreterTest, TokenConstantAndNaNArePlainData) {
  Value *a = builder.input("a", Type::real({2}));
  builder.output("k", op(OpKind::OneHot, {builder.tokenConstant(1, 3)}));
  builder.output("twice", op(OpKind::Add, {a, a}));
  double nan = std::numeric_limits<double>::quiet_NaN();
  data["a"] = reals({1, 2}, {nan, 1});

  TensorMap out = run();
  expectValues(out["k"], {1, 3}, {0, 1, 0});
  std::vector<double> twice = valuesOf(out["twice"]);
  EXPECT_TRUE(std::isnan(twice[0]));
  EXPECT_EQ(twice[1], 2);
}

/// x[t] scalar steps; T = 4, example 0 of length 4, example 1 of length 2. Padding is 100.
void useTwoExamples(TensorMap &data, Batch &batch) {
  data["x"] = reals({4, 2}, {1, 10, 2, 20, 3, 100, 4, 100});
  batch.lengths["t"] = {4, 2};
}

TEST_F(InterpreterTest, ForwardScanCarriesStatesAndYieldsOutputs) {
  // s[t] = s[t-1] + w * x[t], s[0] = 0; outputs s[t] and the previous state times x[t].
  Value *x = realSequence("x");
  Value *w = builder.param("w", Type::scalar(), "ones");
  Op *scan = builder.beginScan("t", false, {builder.constant(0, Type::scalar())}, {x}, {w});
  Builder body(*scan->body());
  Value *state = scan->body()->argument(0), *xt = scan->body()->argument(1);
  Value *next =
      body.create(OpKind::Add, {state, body.create(OpKind::Mul, {scan->body()->argument(2), xt})});
  builder.finishScan(scan, {next}, {next, body.create(OpKind::Mul, {state, xt})});
  builder.output("s", scan->result(0));
  builder.output("previousTimesX", scan->result(1));
  useTwoExamples(data, batch);
  params["w"] = reals({}, {2});

  TensorMap out = run();
  // Example 0: s = 2, 6, 12, 20. Example 1: s = 20, 60, then zeros.
  expectValues(out["s"], {4, 2}, {2, 20, 6, 60, 12, 0, 20, 0});
  expectValues(out["previousTimesX"], {4, 2}, {0, 0, 4, 400, 18, 0, 48, 0});
}

TEST_F(InterpreterTest, ReverseScanStartsAtEachExamplesLastStep) {
  // r[t] = x[t] + r[t+1], r[L+1] = 0: suffix sums within each example's own length.
  Value *x = realSequence("x");
  Op *scan = builder.beginScan("t", true, {builder.constant(0, Type::scalar())}, {x}, {});
  Builder body(*scan->body());
  Value *next = body.create(OpKind::Add, {scan->body()->argument(0), scan->body()->argument(1)});
  builder.finishScan(scan, {next}, {next});
  builder.output("r", scan->result(0));
  useTwoExamples(data, batch);

  TensorMap out = run();
  expectValues(out["r"], {4, 2}, {10, 30, 9, 20, 7, 0, 4, 0});
}

TEST_F(InterpreterTest, ShiftInBothDirections) {
  Value *x = realSequence("x");
  Value *init = builder.constant(-1, Type::scalar());
  builder.output("forward", op(OpKind::Shift, {x, init}, directionAttr("forward")));
  builder.output("reverse", op(OpKind::Shift, {x, init}, directionAttr("reverse")));
  useTwoExamples(data, batch);

  TensorMap out = run();
  expectValues(out["forward"], {4, 2}, {-1, -1, 1, 10, 2, 0, 3, 0});
  expectValues(out["reverse"], {4, 2}, {2, 20, 3, -1, 4, 0, -1, 0});
}

TEST_F(InterpreterTest, LastFirstAndSumTimeUseEachExamplesLength) {
  Value *x = realSequence("x");
  builder.output("last", op(OpKind::Last, {x}));
  builder.output("first", op(OpKind::First, {x}));
  builder.output("total", op(OpKind::SumTime, {x}));
  builder.output("second", op(OpKind::AtStep, {x}, {{"index", int64_t(2)}}));
  useTwoExamples(data, batch);

  TensorMap out = run();
  expectValues(out["last"], {2}, {4, 20});
  expectValues(out["first"], {2}, {1, 10});
  expectValues(out["total"], {2}, {10, 30});
  expectValues(out["second"], {2}, {2, 20});
}

TEST_F(InterpreterTest, StaticValuesBecomeSequences) {
  Value *x = realSequence("x");
  Value *c = builder.input("c", Type::real({}));
  builder.output("repeat", op(OpKind::Repeat, {c}, axisAttr("t")));
  builder.output("atLast", op(OpKind::AtLast, {c}, axisAttr("t")));
  builder.output("atFirst", op(OpKind::AtFirst, {c}, axisAttr("t")));
  builder.output("xPlusC", op(OpKind::Add, {x, c})); // time broadcasting of a static operand
  useTwoExamples(data, batch);
  data["c"] = reals({2}, {5, 7});

  TensorMap out = run();
  expectValues(out["repeat"], {4, 2}, {5, 7, 5, 7, 5, 0, 5, 0});
  expectValues(out["atLast"], {4, 2}, {0, 0, 0, 7, 0, 0, 5, 0});
  expectValues(out["atFirst"], {4, 2}, {5, 7, 0, 0, 0, 0, 0, 0});
  expectValues(out["xPlusC"], {4, 2}, {6, 17, 7, 27, 8, 0, 9, 0});
}

TEST_F(InterpreterTest, EachAxisHasItsOwnLengths) {
  // Encoder-decoder shape: a static summary of the source (axis s) scales the target (axis t).
  Value *source = builder.input("source", Type::real({}, "s"));
  Value *target = builder.input("target", Type::real({}, "t"));
  builder.output("scaled", op(OpKind::Mul, {target, op(OpKind::Last, {source})}));
  data["source"] = reals({3, 2}, {1, 4, 2, 100, 3, 100});
  data["target"] = reals({2, 2}, {1, 1, 10, 10});
  batch.lengths["s"] = {3, 1};

  expectValues(run()["scaled"], {2, 2}, {3, 4, 30, 40});
}

TEST_F(InterpreterTest, StackNeedsTheExampleLengthToMatch) {
  realSequence("x");
  Value *one = builder.constant(1, Type::scalar()), *two = builder.constant(2, Type::scalar());
  builder.output("stacked", op(OpKind::Stack, {one, two}, axisAttr("t")));
  data["x"] = reals({2, 2}, {0, 0, 0, 0});
  expectValues(run()["stacked"], {2, 2}, {1, 1, 2, 2});

  batch.lengths["t"] = {2, 1};
  EXPECT_EQ(runError(), "'stack' stacks 2 steps on axis 't', but the example has 1 steps");
}

/// A small Elman network over x: tok<3>[t], with loss = sum_t nll(softmax(o[t]), y[t]).
void buildSmallRnn(Builder &builder, TensorMap &params) {
  Value *x = builder.input("x", Type::token(3, "t"));
  Value *y = builder.target("y", Type::token(3, "t"));
  Value *U = builder.param("U", Type::real({2, 3}), "glorot");
  Value *W = builder.param("W", Type::real({2, 2}), "glorot");
  Value *V = builder.param("V", Type::real({3, 2}), "glorot");
  Op *scan = builder.beginScan("t", false, {builder.constant(0, Type::real({2}))}, {x}, {U, W});
  Builder body(*scan->body());
  Block &block = *scan->body();
  Value *input = body.create(OpKind::MatMul,
                             {block.argument(2), body.create(OpKind::OneHot, {block.argument(1)})});
  Value *recurrent = body.create(OpKind::MatMul, {block.argument(3), block.argument(0)});
  Value *h = body.create(OpKind::Tanh, {body.create(OpKind::Add, {input, recurrent})});
  builder.finishScan(scan, {h}, {h});
  Value *o = builder.create(OpKind::MatMul, {V, scan->result(0)});
  builder.output("o", o);
  builder.output(
      "loss",
      builder.create(OpKind::SumTime,
                     {builder.create(OpKind::Nll, {builder.create(OpKind::Softmax, {o}), y})}));
  params["U"] = reals({2, 3}, {0.5, -0.3, 0.8, 0.1, 0.9, -0.7});
  params["W"] = reals({2, 2}, {0.6, -0.4, 0.2, 0.3});
  params["V"] = reals({3, 2}, {1.1, -0.2, 0.3, 0.7, -0.9, 0.4});
}

TEST_F(InterpreterTest, PaddingWithExtraStepsChangesNothing) {
  buildSmallRnn(builder, params);
  data["x"] = tokens({3, 2}, {0, 2, 1, 1, 2, 0});
  data["y"] = tokens({3, 2}, {1, 0, 2, 2, 0, 1});
  batch.lengths["t"] = {3, 2};
  TensorMap unpadded = run();

  // Three more steps of padding (with ids no example may read) and the same lengths.
  data["x"] = tokens({6, 2}, {0, 2, 1, 1, 2, -5, 9, 9, 9, 9, 9, 9});
  data["y"] = tokens({6, 2}, {1, 0, 2, 2, 0, 7, 9, 9, 9, 9, 9, 9});
  TensorMap padded = run();

  EXPECT_EQ(valuesOf(padded["loss"]), valuesOf(unpadded["loss"]));
  std::vector<double> expectedO = valuesOf(unpadded["o"]);
  expectedO.resize(6 * 2 * 3, 0.0);
  EXPECT_EQ(padded["o"].shape(), (std::vector<int64_t>{6, 2, 3}));
  EXPECT_EQ(valuesOf(padded["o"]), expectedO);
  EXPECT_EQ(valuesOf(unpadded["o"])[15], 0.0); // example 1, step 3: past its length
}

TEST_F(InterpreterTest, FloatAndDoubleAgree) {
  buildSmallRnn(builder, params);
  data["x"] = tokens({3, 2}, {0, 2, 1, 1, 2, 0});
  data["y"] = tokens({3, 2}, {1, 0, 2, 2, 0, 1});
  TensorMap wide = run();
  RunOptions single;
  single.precision = Precision::Float;
  TensorMap narrow = run(single);
  ASSERT_EQ(narrow["o"].dtype(), DType::F32);
  ASSERT_EQ(wide["o"].dtype(), DType::F64);
  expectValues(narrow["o"], wide["o"].shape(), valuesOf(wide["o"]), 1e-5);
  expectValues(narrow["loss"], {}, valuesOf(wide["loss"]), 1e-5);
}

TEST_F(InterpreterTest, LossAndParamGradientsAreSummedOverTheBatch) {
  Value *x = builder.input("x", Type::real({2}));
  Value *w = builder.param("w", Type::real({2}), "ones");
  builder.output("loss", op(OpKind::Sum, {op(OpKind::Mul, {w, x})}));
  builder.output("grad.w", x);                    // d loss / d w, summed
  builder.output("grad.x", op(OpKind::Neg, {w})); // an input's gradient is per example
  builder.output("wx", op(OpKind::Mul, {w, x}));
  params["w"] = reals({2}, {1, -2});
  data["x"] = reals({3, 2}, {1, 2, 3, 4, 5, 6});

  TensorMap out = run();
  expectValues(out["loss"], {}, {(1 - 4) + (3 - 8) + (5 - 12)});
  expectValues(out["grad.w"], {2}, {9, 12});
  expectValues(out["grad.x"], {3, 2}, {-1, 2, -1, 2, -1, 2});
  expectValues(out["wx"], {3, 2}, {1, -4, 3, -8, 5, -12});
}

/// Generation: a scan over t with no inputs that samples from softmax(logits) at every step.
class SamplingTest : public InterpreterTest {
protected:
  void SetUp() override {
    Value *logits = builder.param("logits", Type::real({4}), "zeros");
    Value *p = op(OpKind::Softmax, {logits});
    Op *scan = builder.beginScan("t", false, {}, {}, {p});
    Builder body(*scan->body());
    builder.finishScan(scan, {}, {body.create(OpKind::Sample, {scan->body()->argument(0)})});
    builder.output("sample", scan->result(0));
    params["logits"] = reals({4}, {std::log(0.1), std::log(0.2), std::log(0.3), std::log(0.4)});
    batch.axisSteps["t"] = 4000;
    batch.lengths["t"] = {4000, 4000};
  }

  std::vector<int32_t> sample(uint64_t seed, bool greedy = false) {
    RunOptions options;
    options.seed = seed;
    options.greedy = greedy;
    return idsOf(run(options)["sample"]);
  }
};

TEST_F(SamplingTest, DeterministicForASeedAndDifferentAcrossSeeds) {
  std::vector<int32_t> first = sample(1);
  EXPECT_EQ(first, sample(1));
  EXPECT_NE(first, sample(2));
  ASSERT_EQ(first.size(), 8000u);

  std::vector<int32_t> example0, example1;
  std::vector<double> frequency(4, 0.0);
  for (size_t i = 0; i < first.size(); ++i) {
    (i % 2 ? example1 : example0).push_back(first[i]);
    frequency.at(first[i]) += 1.0 / static_cast<double>(first.size());
  }
  EXPECT_NE(example0, example1); // each example has its own stream
  for (int k = 0; k < 4; ++k)
    EXPECT_NEAR(frequency[k], 0.1 * (k + 1), 0.03) << "token " << k;
}

TEST_F(SamplingTest, GreedyTakesTheArgmax) {
  EXPECT_EQ(sample(1, /*greedy=*/true), std::vector<int32_t>(8000, 3));
}

TEST_F(InterpreterTest, SamplingFromAnInvalidDistributionIsAUserError) {
  Value *p = builder.param("p", Type::real({3}), "zeros");
  builder.output("k", op(OpKind::Sample, {p}));
  params["p"] = reals({3}, {0.5, -0.1, 0.6});
  EXPECT_EQ(runError(), "'sample': cannot sample from probability -0.1 at index 1");
  params["p"] = reals({3}, {0, 0, 0});
  EXPECT_EQ(runError(), "'sample': cannot sample from probabilities that sum to zero");
}

/// Generation with a prime: x[t] is the prime while t <= its prime length, then the successor of
/// the previous token, next = argmax(M @ onehot(x)) for the cyclic permutation M.
class PrimedGenerationTest : public InterpreterTest {
protected:
  void SetUp() override {
    Value *x = builder.input("x", Type::token(4, "t"));
    Value *M = builder.param("M", Type::real({4, 4}), "zeros");
    Op *scan = builder.beginScan("t", false, {builder.tokenConstant(0, 4)}, {x}, {M});
    Builder body(*scan->body());
    Block &block = *scan->body();
    Value *current = body.create(OpKind::Feed, {block.argument(1), block.argument(0)});
    Value *next = body.create(
        OpKind::Sample,
        {body.create(OpKind::MatMul, {block.argument(2), body.create(OpKind::OneHot, {current})})});
    builder.finishScan(scan, {next}, {current});
    builder.output("x", scan->result(0));
    params["M"] = reals({4, 4}, {0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0});
    batch.axisSteps["t"] = 5;
  }
};

TEST_F(PrimedGenerationTest, FeedsThePrimeThenTheGeneratedTokens) {
  data["x"] = tokens({3, 2}, {2, 1, 2, 9, 0, 9}); // example 1's prime is one step: 1
  batch.primeLengths["t"] = {3, 1};
  RunOptions greedy;
  greedy.greedy = true;
  TensorMap out = run(greedy);
  // Example 0: 2 2 0 then 1 2; example 1: 1 then 2 3 0 1.
  EXPECT_EQ(out["x"].shape(), (std::vector<int64_t>{5, 2}));
  EXPECT_EQ(idsOf(out["x"]), (std::vector<int32_t>{2, 1, 2, 2, 0, 3, 1, 0, 2, 1}));
}

TEST_F(PrimedGenerationTest, AnAbsentPrimeIsEmpty) {
  batch.lengths["t"] = {5, 3};
  RunOptions greedy;
  greedy.greedy = true;
  // From the initial carry 0: 0 1 2 3 0, and 0 1 2 for the shorter example.
  EXPECT_EQ(idsOf(run(greedy)["x"]), (std::vector<int32_t>{0, 0, 1, 1, 2, 2, 3, 0, 0, 0}));
}

TEST_F(PrimedGenerationTest, PrimeErrors) {
  data["x"] = tokens({3, 1}, {2, 2, 0});
  batch.axisSteps["t"] = 2;
  EXPECT_EQ(runError(), "prime length 3 of example 0 on axis 't' is outside [0, 2]");
  batch.axisSteps["t"] = 5;
  batch.primeLengths["t"] = {4};
  EXPECT_EQ(runError(), "prime length 4 of example 0 on axis 't' is longer than tensor 'x' "
                        "(3 steps)");
  data.clear();
  batch.primeLengths["t"] = {1};
  EXPECT_EQ(runError(), "prime length 1 of example 0 on axis 't' needs the missing input tensor "
                        "'x'");
  batch.axisSteps.clear();
  batch.primeLengths.clear();
  EXPECT_EQ(runError(), "no length for axis 't': no input or target tensor is over it; give its "
                        "number of steps");
}

TEST_F(InterpreterTest, MissingTensors) {
  buildSmallRnn(builder, params);
  data["y"] = tokens({1, 1}, {0});
  EXPECT_EQ(runError(), "missing input tensor 'x'");
  data["x"] = tokens({1, 1}, {0});
  data.erase("y");
  EXPECT_EQ(runError(), "missing target tensor 'y'");
  data["y"] = tokens({1, 1}, {0});
  params.erase("W");
  EXPECT_EQ(runError(), "missing parameter tensor 'W'");
}

TEST_F(InterpreterTest, WrongDTypesAndShapes) {
  buildSmallRnn(builder, params);
  data["x"] = tokens({2, 3}, {0, 0, 0, 0, 0, 0});
  data["y"] = tokens({2, 3}, {0, 0, 0, 0, 0, 0});
  params["W"] = reals({2, 3}, {0, 0, 0, 0, 0, 0});
  EXPECT_EQ(runError(), "tensor 'W' has shape [2, 3], expected [2, 2]");
  params["W"] = tokens({2, 2}, {0, 0, 0, 0});
  EXPECT_EQ(runError(), "tensor 'W' has dtype I32, expected F32 or F64");
  params["W"] = reals({2, 2}, {0, 0, 0, 0});

  data["x"] = reals({2, 3}, {0, 0, 0, 0, 0, 0});
  EXPECT_EQ(runError(), "tensor 'x' has dtype F64, expected I32");
  data["x"] = tokens({6}, {0, 0, 0, 0, 0, 0});
  EXPECT_EQ(runError(),
            "tensor 'x' has shape [6], expected [T, B] for input 'x' of type tok<3>[t]");
  data["x"] = tokens({3, 2}, {0, 0, 0, 0, 0, 0});
  EXPECT_EQ(runError(), "tensor 'y' has batch size 3, but tensor 'x' has 2");
  data["x"] = tokens({3, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(runError(), "tensors 'x' and 'y' are over axis 't' but have 3 and 2 steps");
}

TEST_F(InterpreterTest, WrongTrailingDimensions) {
  realSequence("v", {2});
  data["v"] = reals({1, 2, 3}, {0, 0, 0, 0, 0, 0});
  EXPECT_EQ(runError(), "tensor 'v' has shape [1, 2, 3], expected [1, 2, 2]");
}

TEST_F(InterpreterTest, TokenIdsOutOfRange) {
  buildSmallRnn(builder, params);
  data["x"] = tokens({3, 2}, {0, 1, 2, 0, 1, 3});
  data["y"] = tokens({3, 2}, {0, 0, 0, 0, 0, 0});
  EXPECT_EQ(runError(), "tensor 'x': token id 3 at index [2, 1] is out of range [0, 3)");
  data["x"] = tokens({3, 2}, {0, 1, 2, 0, 1, 2});
  data["y"] = tokens({3, 2}, {0, -1, 0, 0, 0, 0});
  EXPECT_EQ(runError(), "tensor 'y': token id -1 at index [0, 1] is out of range [0, 3)");
}

TEST_F(InterpreterTest, BadLengths) {
  realSequence("x");
  useTwoExamples(data, batch);
  batch.lengths["t"] = {4, 5};
  EXPECT_EQ(runError(), "length 5 of example 1 on axis 't' is outside [1, 4]");
  batch.lengths["t"] = {0, 2};
  EXPECT_EQ(runError(), "length 0 of example 0 on axis 't' is outside [1, 4]");
  batch.lengths["t"] = {4, 2, 1};
  EXPECT_EQ(runError(), "lengths of axis 't' has 3 entries, expected one per example (2)");
  batch.lengths.clear();
  batch.lengths["s"] = {1, 1};
  EXPECT_EQ(runError(), "lengths given for axis 's', which the graph does not have");
  batch.lengths.clear();
  batch.axisSteps["t"] = 3;
  EXPECT_EQ(runError(), "axis 't' is given 3 steps, but tensor 'x' has 4");
  batch.axisSteps.clear();
  data["x"] = Tensor(DType::F64, {0, 2});
  EXPECT_EQ(runError(), "axis 't' has no steps; every sequence needs one");
}

TEST_F(InterpreterTest, AtStepPastTheLengthIsAUserError) {
  Value *x = realSequence("x");
  builder.output("third", op(OpKind::AtStep, {x}, {{"index", int64_t(3)}}));
  useTwoExamples(data, batch);
  EXPECT_EQ(runError(), "'at_step' reads step 3 of axis 't', but the example has 2 steps");
}

TEST_F(InterpreterTest, AMalformedGraphIsAnInternalError) {
  Value *a = builder.input("a", Type::real({2}));
  Value *negated = op(OpKind::Neg, {a});
  negated->setType(Type::real({3}));
  builder.output("n", negated);
  data["a"] = reals({1, 2}, {1, 2});
  auto outputs = tryRun();
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().kind, ErrorKind::Internal);
  EXPECT_EQ(outputs.error().message,
            "internal error: 'neg': the result type is not f32[2] (run the verifier)");
}

} // namespace
} // namespace rnnc::ir
