// Every gradient rule and the scan gradient, checked against central finite differences in double
// precision with the reference interpreter (compiler/passes/GradientCheck.h): each test builds a
// tiny forward graph with the Builder, differentiates it, verifies the backward graph, and
// requires relative error < 1e-6 with no all-zero gradient (a check that cannot pass vacuously).
#include "compiler/passes/Autodiff.h"
#include "compiler/passes/GradientCheck.h"
#include "compiler/passes/Pipeline.h"
#include "ir/Builder.h"
#include "ir/Interpreter.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include <random>

namespace rnnc::passes {
namespace {

using ir::OpKind;
using ir::Type;
using ir::Value;

/// A forward graph under construction with its random batch.
class GradTest : public ::testing::Test {
protected:
  static constexpr int64_t T = 4; ///< Padded steps.
  static constexpr int64_t B = 2; ///< Examples.

  ir::Module module{"test"};
  ir::Graph &graph = module.addGraph("forward");
  ir::Builder b{graph.body()};
  TensorMap params, data;
  std::map<std::string, std::vector<int64_t>> lengths;
  std::mt19937_64 rng{1234};

  Tensor randomTensor(std::vector<int64_t> shape, double lo, double hi) {
    Tensor tensor(DType::F64, std::move(shape));
    std::uniform_real_distribution<double> uniform(lo, hi);
    for (double &value : tensor.values<double>())
      value = uniform(rng);
    return tensor;
  }
  std::vector<int64_t> batchShape(const Type &type) {
    std::vector<int64_t> shape =
        type.isSequence() ? std::vector<int64_t>{T, B} : std::vector<int64_t>{B};
    shape.insert(shape.end(), type.shape.begin(), type.shape.end());
    return shape;
  }

  Value *param(const std::string &name, std::vector<int64_t> shape, double lo = -1, double hi = 1) {
    params[name] = randomTensor(shape, lo, hi);
    return b.param(name, Type::real(std::move(shape)), "zeros");
  }
  Value *input(const std::string &name, Type type, double lo = -1, double hi = 1) {
    data[name] = randomTensor(batchShape(type), lo, hi);
    return b.input(name, std::move(type));
  }
  Value *tokens(const std::string &name, int64_t vocab, const std::string &axis, bool target) {
    Type type = Type::token(vocab, axis);
    Tensor tensor(DType::I32, batchShape(type));
    std::uniform_int_distribution<int32_t> uniform(0, static_cast<int32_t>(vocab - 1));
    for (int32_t &id : tensor.values<int32_t>())
      id = uniform(rng);
    data[name] = std::move(tensor);
    return target ? b.target(name, type) : b.input(name, type);
  }
  Value *create(OpKind kind, std::vector<Value *> operands, ir::Attributes attrs = {}) {
    return b.create(kind, std::move(operands), std::move(attrs));
  }

  /// Makes `value` the loss: a scalar is summed over time; a tensor is weighted elementwise by a
  /// random real input `probe` first, so every element has its own non-trivial gradient.
  void setLoss(Value *value) {
    if (!value->type().isScalar()) {
      Value *probe = input("probe", value->type().stepType());
      value = create(OpKind::Sum, {create(OpKind::Mul, {value, probe})});
    }
    if (value->type().isSequence())
      value = create(OpKind::SumTime, {value});
    b.output("loss", value);
  }

  /// Derives the backward graph with the whole pipeline (autodiff, simplification, CSE, DCE,
  /// verifying after every pass).
  AutodiffReport derive(const AutodiffOptions &options = {}) {
    EXPECT_TRUE(b.status()) << b.status().error().message;
    PipelineOptions pipeline;
    pipeline.backward = true;
    pipeline.autodiff = options;
    auto report = runPipeline(module, pipeline);
    EXPECT_TRUE(report) << report.error().message << "\n" << ir::printModule(module);
    return report && report->autodiff ? *report->autodiff : AutodiffReport{};
  }

  /// Derives the backward graph and checks every gradient against finite differences.
  GradientCheckReport check(const AutodiffOptions &options = {}) {
    derive(options);
    auto checked = checkGradients(module, params, data, lengths);
    EXPECT_TRUE(checked) << checked.error().message << "\n" << ir::printModule(module);
    if (!checked)
      return {};
    EXPECT_TRUE(checked->passed(1e-6)) << checked->summary() << ir::printModule(module);
    for (const TensorGradientCheck &tensor : checked->tensors)
      EXPECT_FALSE(tensor.allZero()) << "grad." << tensor.name << " is all zero";
    return checked.take();
  }

  /// The derived gradients of the backward graph.
  TensorMap runBackward() {
    auto outputs =
        ir::runGraph(*module.findGraph("backward"), ir::Batch{&params, &data, lengths, {}, {}});
    EXPECT_TRUE(outputs) << outputs.error().message;
    return outputs ? outputs.take() : TensorMap{};
  }
};

// Elementwise ------------------------------------------------------------------------------------

TEST_F(GradTest, AddSubMulDivEqualShapes) {
  Value *x = input("x", Type::real({3})), *y = input("y", Type::real({3}), 0.5, 2);
  Value *w = param("w", {3});
  Value *sum = create(OpKind::Add, {x, w});
  Value *difference = create(OpKind::Sub, {sum, y});
  Value *product = create(OpKind::Mul, {difference, x});
  setLoss(create(OpKind::Div, {product, y}));
  check();
}

TEST_F(GradTest, ScalarBroadcastOnEitherSide) {
  Value *x = input("x", Type::real({3})), *s = input("s", Type::scalar(), 0.5, 2);
  Value *k = param("k", {});
  Value *left = create(OpKind::Mul, {s, x});
  Value *right = create(OpKind::Div, {left, s});
  Value *shifted =
      create(OpKind::Sub, {create(OpKind::Mul, {k, k}), create(OpKind::Add, {right, k})});
  setLoss(create(OpKind::Mul, {shifted, create(OpKind::Div, {s, create(OpKind::Add, {x, s})})}));
  check();
}

TEST_F(GradTest, TimeBroadcastOfStaticOperands) {
  Value *x = input("x", Type::real({3}, "t"));
  Value *w = param("w", {3}), *k = param("k", {});
  setLoss(create(OpKind::Mul, {create(OpKind::Add, {x, w}), create(OpKind::Sub, {x, k})}));
  check();
}

TEST_F(GradTest, UnaryOps) {
  Value *x = input("x", Type::real({4}));
  Value *positive = input("p", Type::real({4}), 0.5, 2);
  Value *away = input("a", Type::real({4}), 0.2, 1); // relu away from its kink
  Value *mixed = create(OpKind::Mul, {away, param("sign", {4}, -1, 1)});
  Value *terms[] = {
      create(OpKind::Neg, {x}),
      create(OpKind::Tanh, {x}),
      create(OpKind::Sigmoid, {x}),
      create(OpKind::Relu, {create(OpKind::Add, {mixed, create(OpKind::Step, {x})})}),
      create(OpKind::Exp, {x}),
      create(OpKind::Log, {positive}),
  };
  Value *total = terms[0];
  for (Value *term : std::span(terms).subspan(1))
    total = create(OpKind::Add, {total, create(OpKind::Mul, {term, total})});
  setLoss(total);
  check();
}

TEST_F(GradTest, AbsAwayFromZero) {
  Value *away = input("a", Type::real({4}), 0.2, 1); // |a| away from its kink
  Value *mixed = create(OpKind::Mul, {away, param("sign", {4}, -1, 1)});
  setLoss(create(OpKind::Abs, {mixed}));
  check();
}

// |x| has no derivative at 0; the rule takes sign(0) = 0 (docs/language.md), so grad.x there is
// exactly 0 while its neighbours get +g and -g.
TEST_F(GradTest, AbsSubgradientAtZeroIsZero) {
  Value *x = input("x", Type::real({3}));
  setLoss(create(OpKind::Abs, {x})); // loss = Σ probe ⊙ |x|, so grad.x = probe ⊙ sign(x)
  double *values = data.at("x").data<double>();
  for (int64_t example = 0; example < B; ++example) {
    values[example * 3 + 0] = -0.5;
    values[example * 3 + 1] = 0.0;
    values[example * 3 + 2] = 0.75;
  }
  derive();
  TensorMap gradients = runBackward();
  const double *dx = gradients.at("grad.x").data<double>();
  const double *probe = data.at("probe").data<double>();
  for (int64_t example = 0; example < B; ++example) {
    EXPECT_EQ(dx[example * 3 + 0], -probe[example * 3 + 0]);
    EXPECT_EQ(dx[example * 3 + 1], 0.0);
    EXPECT_EQ(dx[example * 3 + 2], probe[example * 3 + 2]);
  }
}

// Linear algebra
// -----------------------------------------------------------------------------------

TEST_F(GradTest, MatmulVectorAndMatrixForms) {
  Value *A = param("A", {3, 4}), *v = input("v", Type::real({4}));
  Value *M = input("M", Type::real({4, 2}));
  Value *vectorForm = create(OpKind::MatMul, {A, v});
  Value *matrixForm = create(OpKind::MatMul, {A, M});
  setLoss(create(OpKind::Add, {create(OpKind::Sum, {create(OpKind::Tanh, {vectorForm})}),
                               create(OpKind::Sum, {create(OpKind::Tanh, {matrixForm})})}));
  check();
}

TEST_F(GradTest, TransposeAndOuter) {
  Value *a = param("a", {3}), *c = input("c", Type::real({2}));
  Value *A = param("A", {2, 3});
  Value *outer = create(OpKind::Outer, {a, c});
  setLoss(create(OpKind::Mul, {create(OpKind::Tanh, {outer}), create(OpKind::Transpose, {A})}));
  check();
}

// Vectors and reductions
// ----------------------------------------------------------------------------

TEST_F(GradTest, SoftmaxNllWithTokenTarget) {
  Value *o = input("o", Type::real({5}, "t"));
  Value *c = param("c", {5});
  Value *y = tokens("y", 5, "t", /*target=*/true);
  setLoss(create(OpKind::Nll, {create(OpKind::Softmax, {create(OpKind::Add, {o, c})}), y}));
  check();
}

TEST_F(GradTest, SoftmaxAndLogSoftmax) {
  Value *x = input("x", Type::real({5}));
  setLoss(create(OpKind::Mul,
                 {create(OpKind::Softmax, {x}),
                  create(OpKind::LogSoftmax, {create(OpKind::Mul, {x, param("k", {5})})})}));
  check();
}

TEST_F(GradTest, OneHotEmbeddingGetsGradientTheTokenNone) {
  Value *U = param("U", {3, 6});
  Value *x = tokens("x", 6, "t", /*target=*/false);
  setLoss(create(OpKind::Tanh, {create(OpKind::MatMul, {U, create(OpKind::OneHot, {x})})}));
  GradientCheckReport report = check();
  ASSERT_EQ(report.tensors.size(), 2u); // U and the probe; the token input x gets no gradient
}

TEST_F(GradTest, SqErrSumMeanBroadcast) {
  Value *a = input("a", Type::real({3})), *t = input("t", Type::real({3}));
  Value *s = param("s", {});
  Value *spread = b.createTyped(OpKind::Broadcast, {s}, Type::real({3}));
  Value *mean = create(OpKind::Mean, {create(OpKind::Mul, {a, spread})});
  Value *error = create(OpKind::SqErr, {create(OpKind::Mul, {a, mean}), t});
  setLoss(create(OpKind::Add, {error, create(OpKind::Sum, {create(OpKind::Tanh, {spread})})}));
  check();
}

TEST_F(GradTest, ConcatSlicePad) {
  Value *a = input("a", Type::real({2})), *c = param("c", {3});
  Value *joined = create(OpKind::Concat, {a, c, a});
  Value *middle = create(OpKind::Slice,
                         {
                             joined,
                         },
                         {{"start", int64_t{1}}, {"len", int64_t{5}}});
  Value *padded = create(OpKind::Pad, {create(OpKind::Tanh, {middle})},
                         {{"start", int64_t{2}}, {"size", int64_t{8}}});
  setLoss(create(OpKind::Mul, {padded, create(OpKind::Pad, {joined},
                                              {{"start", int64_t{0}}, {"size", int64_t{8}}})}));
  check();
}

// Time ops (outside scans)
// --------------------------------------------------------------------------

TEST_F(GradTest, ShiftBothDirectionsWithRealInit) {
  lengths["t"] = {4, 2};
  Value *x = input("x", Type::real({2}, "t"));
  Value *init = param("init", {2});
  Value *ahead = create(OpKind::Shift, {x, init}, {{"direction", std::string("forward")}});
  Value *behind = create(OpKind::Shift, {create(OpKind::Tanh, {x}), init},
                         {{"direction", std::string("reverse")}});
  setLoss(create(OpKind::Mul, {create(OpKind::Tanh, {ahead}), behind}));
  check();
}

TEST_F(GradTest, LastFirstSumTime) {
  lengths["t"] = {4, 3};
  Value *x = input("x", Type::real({3}, "t"));
  Value *h = create(OpKind::Tanh, {create(OpKind::Mul, {x, param("w", {3})})});
  Value *last = create(OpKind::Last, {h}), *first = create(OpKind::First, {h});
  Value *total = create(OpKind::SumTime, {create(OpKind::Mul, {h, x})});
  setLoss(create(OpKind::Mul, {create(OpKind::Add, {last, total}), first}));
  check();
}

TEST_F(GradTest, SumOuter) {
  lengths["t"] = {4, 3};
  Value *x = input("x", Type::real({3}, "t"));
  Value *a = create(OpKind::Tanh, {create(OpKind::Mul, {x, param("w", {3})})});
  Value *b = create(OpKind::Sigmoid, {create(OpKind::MatMul, {param("M", {2, 3}), x})});
  setLoss(create(OpKind::SumOuter, {a, b}));
  check();
}

TEST_F(GradTest, RepeatAtLastAtFirst) {
  lengths["t"] = {4, 2};
  Value *x = input("x", Type::real({3}, "t"));
  Value *s = param("s", {3}), *r = param("r", {3});
  Value *repeated = create(OpKind::Repeat, {s}, {{"axis", std::string("t")}});
  Value *atLast = create(OpKind::AtLast, {create(OpKind::Tanh, {r})}, {{"axis", std::string("t")}});
  Value *atFirst = create(OpKind::AtFirst, {r}, {{"axis", std::string("t")}});
  setLoss(create(OpKind::Mul,
                 {create(OpKind::Add, {repeated, atLast}), create(OpKind::Add, {x, atFirst})}));
  check();
}

TEST_F(GradTest, AtStepAndStack) {
  Value *x = input("x", Type::real({2}, "t"));
  Value *w = param("w", {2});
  Value *second = create(OpKind::AtStep, {create(OpKind::Mul, {x, w})}, {{"index", int64_t{2}}});
  Value *third = create(OpKind::AtStep, {x}, {{"index", int64_t{3}}});
  Value *stacked =
      create(OpKind::Stack, {second, third, w, second, third}, {{"axis", std::string("u")}});
  Value *u = input("u", Type::real({2}, "u"));
  Tensor &uData = data["u"];
  uData = randomTensor({5, B, 2}, -1, 1); // stack gives exactly 5 steps over u
  setLoss(create(OpKind::Mul, {create(OpKind::Tanh, {stacked}), u}));
  check();
}

// Scans ------------------------------------------------------------------------------------------

/// An Elman cell over real inputs: h(t) = tanh(b + W h(t−1) + U x(t)).
struct ElmanScan {
  ir::Op *scan;
  Value *h;
};
ElmanScan buildElmanScan(ir::Builder &b, Value *init, Value *x, Value *W, Value *U, Value *bias,
                         bool reverse) {
  ir::Op *scan = b.beginScan("t", reverse, {init}, {x}, {W, U, bias});
  ir::Block &body = *scan->body();
  ir::Builder in(body);
  Value *recurrent = in.create(OpKind::MatMul, {body.argument(2), body.argument(0)});
  Value *input = in.create(OpKind::MatMul, {body.argument(3), body.argument(1)});
  Value *h = in.create(
      OpKind::Tanh,
      {in.create(OpKind::Add, {in.create(OpKind::Add, {body.argument(4), recurrent}), input})});
  h->setNameHint("h");
  b.finishScan(scan, {h}, {h});
  return {scan, scan->result(0)};
}

TEST_F(GradTest, ForwardScanWithStaticsAndInitFromContext) {
  lengths["t"] = {4, 3};
  Value *x = input("x", Type::real({2}, "t")), *ctx = input("ctx", Type::real({3}));
  Value *W = param("W", {3, 3}), *U = param("U", {3, 2}), *bias = param("b", {3});
  Value *init = create(OpKind::Tanh, {ctx});
  ElmanScan elman = buildElmanScan(b, init, x, W, U, bias, /*reverse=*/false);
  setLoss(elman.h);
  check();
}

TEST_F(GradTest, ReverseScanGetsForwardGradientScan) {
  lengths["t"] = {3, 4};
  Value *x = input("x", Type::real({2}, "t")), *init = param("g0", {3});
  Value *W = param("W", {3, 3}), *U = param("U", {3, 2}), *bias = param("b", {3});
  ElmanScan elman = buildElmanScan(b, init, x, W, U, bias, /*reverse=*/true);
  setLoss(elman.h);
  check();
  bool forwardGradientScan = false;
  module.findGraph("backward")->body().walk([&](ir::Op &op) {
    if (op.kind() == OpKind::Scan && op.directionAttr() == "forward")
      forwardGradientScan = true;
  });
  EXPECT_TRUE(forwardGradientScan);
}

/// An LSTM-like cell with two carries, a context static and a per-step output that is not a
/// carry; every static and both inits get gradients.
TEST_F(GradTest, ScanWithSeveralCarriesAndStatics) {
  lengths["t"] = {4, 2};
  Value *x = input("x", Type::real({2}, "t")), *ctx = input("ctx", Type::real({2}));
  Value *W = param("W", {8, 2}), *U = param("U", {8, 2}), *Q = param("Q", {2, 2});
  Value *h0 = param("h0", {2}), *c0 = param("c0", {2});
  ir::Op *scan = b.beginScan("t", false, {h0, c0}, {x}, {W, U, Q, ctx});
  ir::Block &body = *scan->body();
  ir::Builder in(body);
  auto arg = [&](size_t i) { return body.argument(i); };
  Value *gates = in.create(OpKind::Add, {in.create(OpKind::MatMul, {arg(3), arg(0)}),
                                         in.create(OpKind::MatMul, {arg(4), arg(2)})});
  auto gate = [&](int64_t k) {
    return in.create(OpKind::Slice, {gates}, {{"start", 2 * k}, {"len", int64_t{2}}});
  };
  Value *i = in.create(OpKind::Sigmoid, {gate(0)}), *f = in.create(OpKind::Sigmoid, {gate(1)});
  Value *g = in.create(OpKind::Tanh, {gate(2)}), *o = in.create(OpKind::Sigmoid, {gate(3)});
  Value *c =
      in.create(OpKind::Add, {in.create(OpKind::Mul, {f, arg(1)}), in.create(OpKind::Mul, {i, g})});
  Value *h = in.create(OpKind::Mul, {o, in.create(OpKind::Tanh, {c})});
  Value *context = in.create(OpKind::MatMul, {arg(5), arg(6)});
  b.finishScan(scan, {h, c}, {in.create(OpKind::Add, {h, context})});
  setLoss(scan->result(0));
  check();
}

/// Encoder–decoder: the encoder's last state initialises the decoder and is a static of it.
TEST_F(GradTest, EncoderDecoderThroughLast) {
  lengths["s"] = {3, 2};
  lengths["t"] = {2, 4};
  Value *src = input("src", Type::real({2}, "s")), *tgt = input("tgt", Type::real({2}, "t"));
  Value *We = param("We", {3, 3}), *Ue = param("Ue", {3, 2}), *be = param("be", {3});
  Value *e0 = b.constant(0.0, Type::real({3}));
  ir::Op *encoder = b.beginScan("s", false, {e0}, {src}, {We, Ue, be});
  {
    ir::Block &body = *encoder->body();
    ir::Builder in(body);
    Value *e = in.create(
        OpKind::Tanh,
        {in.create(OpKind::Add,
                   {in.create(OpKind::MatMul, {body.argument(2), body.argument(0)}),
                    in.create(OpKind::Add,
                              {in.create(OpKind::MatMul, {body.argument(3), body.argument(1)}),
                               body.argument(4)})})});
    b.finishScan(encoder, {e}, {e});
  }
  Value *C = create(OpKind::Last, {encoder->result(0)});
  Value *W = param("W", {3, 3}), *U = param("U", {3, 2}), *Q = param("Q", {3, 3});
  Value *bias = create(OpKind::MatMul, {Q, C});
  ElmanScan decoder = buildElmanScan(b, create(OpKind::Tanh, {C}), tgt, W, U, bias, false);
  setLoss(decoder.h);
  check();
}

TEST_F(GradTest, PaddedStepsGetExactlyZeroGradient) {
  lengths["t"] = {4, 2};
  Value *x = input("x", Type::real({2}, "t"));
  Value *W = param("W", {3, 3}), *U = param("U", {3, 2}), *bias = param("b", {3});
  ElmanScan elman = buildElmanScan(b, b.constant(0.0, Type::real({3})), x, W, U, bias, false);
  setLoss(elman.h);
  check();
  TensorMap gradients = runBackward();
  const Tensor &dx = gradients.at("grad.x"); // [T, B, 2]
  for (int64_t t = 2; t < T; ++t)
    for (int64_t i = 0; i < 2; ++i)
      EXPECT_EQ(dx.data<double>()[(t * B + 1) * 2 + i], 0.0) << "step " << t + 1;
  EXPECT_NE(dx.data<double>()[(1 * B + 1) * 2], 0.0);
}

// Truncation and checkpointing ------------------------------------------------------------------

/// TBPTT(K, K) for h(t) = tanh(b + W h(t−1) + U x(t)), L = Σ_t probe · h(t), written directly:
/// the carried gradient restarts from zero after every K steps of the backward sweep.
TensorMap truncatedReference(const TensorMap &params, const TensorMap &data,
                             const std::vector<int64_t> &lengths, int64_t K, int64_t T, int64_t B) {
  using Matrix = Eigen::MatrixXd;
  using Vector = Eigen::VectorXd;
  auto matrix = [](const Tensor &tensor) {
    Matrix m(tensor.shape()[0], tensor.rank() == 2 ? tensor.shape()[1] : 1);
    for (int64_t i = 0; i < m.rows(); ++i)
      for (int64_t j = 0; j < m.cols(); ++j)
        m(i, j) = tensor.data<double>()[i * m.cols() + j];
    return m;
  };
  Matrix W = matrix(params.at("W")), U = matrix(params.at("U"));
  Vector bias = matrix(params.at("b")), h0 = matrix(params.at("h0"));
  const Tensor &x = data.at("x"), &probe = data.at("probe");
  int64_t H = W.rows(), I = U.cols();
  Matrix dW = Matrix::Zero(H, H), dU = Matrix::Zero(H, I);
  Vector db = Vector::Zero(H), dh0 = Vector::Zero(H);
  for (int64_t example = 0; example < B; ++example) {
    auto step = [&](int64_t t) { // x(t), 1-based
      return Eigen::Map<const Vector>(x.data<double>() + ((t - 1) * B + example) * I, I);
    };
    Eigen::Map<const Vector> weight(probe.data<double>() + example * H, H);
    int64_t L = lengths[example];
    std::vector<Vector> h{h0};
    for (int64_t t = 1; t <= L; ++t)
      h.push_back((bias + W * h.back() + U * step(t)).array().tanh().matrix());
    Vector carried = Vector::Zero(H);
    int64_t run = 0;
    for (int64_t t = L; t >= 1; --t) {
      Vector delta = ((carried + weight).array() * (1 - h[t].array().square())).matrix();
      dW += delta * h[t - 1].transpose();
      dU += delta * step(t).transpose();
      db += delta;
      carried = W.transpose() * delta;
      if (t == 1)
        dh0 += carried; // the initial state belongs to the earliest chunk
      if (++run == K)
        carried.setZero(), run = 0;
    }
  }
  (void)T;
  auto tensor = [](const Matrix &m, std::vector<int64_t> shape) {
    Tensor out(DType::F64, std::move(shape));
    for (int64_t i = 0; i < m.rows(); ++i)
      for (int64_t j = 0; j < m.cols(); ++j)
        out.data<double>()[i * m.cols() + j] = m(i, j);
    return out;
  };
  return {{"grad.W", tensor(dW, {H, H})},
          {"grad.U", tensor(dU, {H, I})},
          {"grad.b", tensor(db, {H})},
          {"grad.h0", tensor(dh0, {H})}};
}

class TruncationTest : public GradTest, public ::testing::WithParamInterface<int64_t> {};

TEST_P(TruncationTest, EqualsTheDirectTruncatedBackward) {
  const int64_t K = GetParam();
  lengths["t"] = {4, 3};
  Value *x = input("x", Type::real({2}, "t")), *h0 = param("h0", {3});
  Value *W = param("W", {3, 3}), *U = param("U", {3, 2}), *bias = param("b", {3});
  ElmanScan elman = buildElmanScan(b, h0, x, W, U, bias, /*reverse=*/false);
  setLoss(elman.h);
  derive({.truncate = K});
  TensorMap derived = runBackward();
  TensorMap expected = truncatedReference(params, data, lengths["t"], K, T, B);
  for (const auto &[name, tensor] : expected) {
    ASSERT_TRUE(derived.count(name)) << name;
    for (int64_t i = 0; i < tensor.numElements(); ++i)
      EXPECT_NEAR(derived.at(name).data<double>()[i], tensor.data<double>()[i], 1e-12)
          << name << "[" << i << "] with truncate " << K;
  }
}

INSTANTIATE_TEST_SUITE_P(Steps, TruncationTest, ::testing::Values(1, 2, 3, 100));

TEST_F(GradTest, TruncationLongerThanTheSequenceIsFullBackprop) {
  lengths["t"] = {4, 3};
  Value *x = input("x", Type::real({2}, "t")), *h0 = param("h0", {3});
  Value *W = param("W", {3, 3}), *U = param("U", {3, 2}), *bias = param("b", {3});
  setLoss(buildElmanScan(b, h0, x, W, U, bias, /*reverse=*/true).h);
  check({.truncate = T}); // finite differences of the untruncated loss
}

TEST_F(GradTest, CheckpointGivesFullBackpropGradientsAndSavesMemory) {
  lengths["t"] = {4, 2};
  Value *x = input("x", Type::real({2}, "t"));
  Value *W = param("W", {8, 2}), *U = param("U", {8, 2});
  Value *h0 = param("h0", {2}), *c0 = param("c0", {2});
  ir::Op *scan = b.beginScan("t", false, {h0, c0}, {x}, {W, U});
  ir::Block &body = *scan->body();
  ir::Builder in(body);
  Value *gates =
      in.create(OpKind::Add, {in.create(OpKind::MatMul, {body.argument(3), body.argument(0)}),
                              in.create(OpKind::MatMul, {body.argument(4), body.argument(2)})});
  auto gate = [&](int64_t k) {
    return in.create(OpKind::Slice, {gates}, {{"start", 2 * k}, {"len", int64_t{2}}});
  };
  Value *i = in.create(OpKind::Sigmoid, {gate(0)}), *f = in.create(OpKind::Sigmoid, {gate(1)});
  Value *g = in.create(OpKind::Tanh, {gate(2)}), *o = in.create(OpKind::Sigmoid, {gate(3)});
  Value *c = in.create(
      OpKind::Add, {in.create(OpKind::Mul, {f, body.argument(1)}), in.create(OpKind::Mul, {i, g})});
  Value *h = in.create(OpKind::Mul, {o, in.create(OpKind::Tanh, {c})});
  b.finishScan(scan, {h, c}, {h});
  setLoss(scan->result(0));

  // Full residuals first, on a copy of the forward graph.
  ir::Module full("full");
  ir::ValueMapping mapping;
  cloneOpsInto(graph.body(), full.addGraph("forward").body(), mapping);
  PipelineOptions pipeline;
  pipeline.backward = true;
  auto fullReport = runPipeline(full, pipeline);
  ASSERT_TRUE(fullReport) << fullReport.error().message;
  auto fullGradients = ir::runGraph(*full.findGraph("backward"), {&params, &data, lengths, {}, {}});
  ASSERT_TRUE(fullGradients) << fullGradients.error().message;

  check({.checkpoint = 1});
  AutodiffReport report = derive({.checkpoint = 1});
  TensorMap checkpointed = runBackward();
  for (const auto &[name, tensor] : *fullGradients)
    for (int64_t k = 0; k < tensor.numElements(); ++k)
      EXPECT_NEAR(checkpointed.at(name).data<double>()[k], tensor.data<double>()[k], 1e-12) << name;
  EXPECT_LT(report.bytesPerStep(), fullReport->autodiff->bytesPerStep())
      << report.summary() << fullReport->autodiff->summary();
}

TEST_F(GradTest, CheckpointSegmentsPassTheGradientCheck) {
  lengths["t"] = {4, 3};
  Value *x = input("x", Type::real({2}, "t")), *h0 = param("h0", {3});
  Value *W = param("W", {3, 3}), *U = param("U", {3, 2}), *bias = param("b", {3});
  ElmanScan forward = buildElmanScan(b, h0, x, W, U, bias, /*reverse=*/false);
  ElmanScan backward = buildElmanScan(b, h0, x, W, U, bias, /*reverse=*/true);
  setLoss(create(OpKind::Add, {create(OpKind::SumTime, {create(OpKind::Sum, {forward.h})}),
                               create(OpKind::SumTime, {create(OpKind::Sum, {backward.h})})}));
  for (int64_t K : {2, 3, 5})
    check({.checkpoint = K});
}

TEST_F(GradTest, CheckpointLongerThanTheLimitIsAUserError) {
  setLoss(create(OpKind::Tanh, {param("w", {2})}));
  auto report = differentiate(module, {.checkpoint = maxCheckpointSegment + 1});
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().kind, ErrorKind::User);
}

TEST_F(GradTest, MissingRuleIsALocatedUserError) {
  b.setLocation({"model.rnn", 3, 7});
  Value *x = input("x", Type::real({2}));
  Value *fed = create(OpKind::Feed, {x, param("w", {2})});
  setLoss(fed);
  auto report = differentiate(module);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().kind, ErrorKind::User);
  EXPECT_EQ(report.error().message, "model.rnn:3:7: error: no gradient rule for 'feed'");
}

TEST_F(GradTest, CheckFailsWhenEveryGradientIsZero) {
  Value *x = input("x", Type::real({2}));
  param("unused", {2});
  b.output("loss", create(OpKind::Sum, {x}));
  ASSERT_TRUE(differentiate(module));
  TensorMap onlyParams = params;
  auto checked = checkGradients(module, onlyParams, data, lengths);
  ASSERT_TRUE(checked) << checked.error().message;
  // grad.x is non-zero; without the input, only the unused parameter's zero gradient remains.
  GradientCheckReport zeroOnly;
  for (const TensorGradientCheck &tensor : checked->tensors)
    if (tensor.name == "unused")
      zeroOnly.tensors.push_back(tensor);
  ASSERT_EQ(zeroOnly.tensors.size(), 1u);
  EXPECT_TRUE(zeroOnly.tensors[0].allZero());
  EXPECT_FALSE(zeroOnly.passed(1e-6));
}

} // namespace
} // namespace rnnc::passes
