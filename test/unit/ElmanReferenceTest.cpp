// The interpreter on the Elman network of docs/ir.md against a direct, hand-written Eigen
// computation of the book's equations (Goodfellow et al., Deep Learning, eq. 10.8-10.11):
//   h(t) = tanh(b + W h(t-1) + U x(t)),  o(t) = c + V h(t),  L = sum_t -log softmax(o(t))[y(t)]
// on a batch of three sequences of different lengths, in double precision.
#include "ir/Builder.h"
#include "ir/Interpreter.h"
#include "runtime/Init.h"

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include <cmath>

namespace rnnc::ir {
namespace {

constexpr int64_t K = 5; // vocabulary
constexpr int64_t H = 4; // hidden units
constexpr int64_t T = 6; // padded steps
constexpr int64_t B = 3; // examples
const std::vector<int64_t> kLengths = {6, 3, 1};

/// The graph of docs/ir.md's Elman example, built with the Builder.
void buildElman(Graph &graph) {
  Builder builder(graph.body());
  Value *x = builder.input("x", Type::token(K, "t"));
  Value *y = builder.target("y", Type::token(K, "t"));
  Value *U = builder.param("U", Type::real({H, K}), "glorot");
  Value *W = builder.param("W", Type::real({H, H}), "orthogonal");
  Value *b = builder.param("b", Type::real({H}), "zeros");
  Value *V = builder.param("V", Type::real({K, H}), "glorot");
  Value *c = builder.param("c", Type::real({K}), "zeros");
  Value *h0 = builder.constant(0, Type::real({H}));

  Op *scan = builder.beginScan("t", /*reverse=*/false, {h0}, {x}, {W, U, b});
  Builder body(*scan->body());
  Value *hp = scan->body()->argument(0), *xt = scan->body()->argument(1);
  Value *Wt = scan->body()->argument(2), *Ut = scan->body()->argument(3);
  Value *bt = scan->body()->argument(4);
  Value *input = body.create(OpKind::MatMul, {Ut, body.create(OpKind::OneHot, {xt})});
  Value *recurrent = body.create(OpKind::MatMul, {Wt, hp});
  Value *hn = body.create(
      OpKind::Tanh, {body.create(OpKind::Add, {body.create(OpKind::Add, {bt, recurrent}), input})});
  builder.finishScan(scan, {hn}, {hn});
  Value *h = scan->result(0);

  Value *o = builder.create(OpKind::Add, {c, builder.create(OpKind::MatMul, {V, h})});
  Value *nll = builder.create(OpKind::Nll, {builder.create(OpKind::Softmax, {o}), y});
  builder.output("h", h);
  builder.output("o", o);
  builder.output("loss", builder.create(OpKind::SumTime, {nll}));
  ASSERT_TRUE(builder.status()) << builder.status().error().message;
}

Tensor parameter(const std::string &name, std::vector<int64_t> shape, InitKind kind,
                 double scale = 0) {
  auto tensor = makeParameter(name, DType::F64, shape, {kind, scale}, /*globalSeed=*/42);
  EXPECT_TRUE(tensor);
  return tensor.take();
}

Eigen::MatrixXd toMatrix(const Tensor &tensor) {
  int64_t rows = tensor.shape()[0], cols = tensor.rank() == 2 ? tensor.shape()[1] : 1;
  Eigen::MatrixXd matrix(rows, cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      matrix(i, j) = tensor.data<double>()[i * cols + j];
  return matrix;
}

TEST(ElmanReferenceTest, MatchesTheBookEquations) {
  Module module("elman");
  Graph &graph = module.addGraph("forward");
  buildElman(graph);

  TensorMap params;
  params["U"] = parameter("U", {H, K}, InitKind::Glorot);
  params["W"] = parameter("W", {H, H}, InitKind::Orthogonal);
  params["b"] = parameter("b", {H}, InitKind::Uniform, 0.5);
  params["V"] = parameter("V", {K, H}, InitKind::Glorot);
  params["c"] = parameter("c", {K}, InitKind::Uniform, 0.5);

  // Token ids; past each length the padding holds ids out of range, which must never be read.
  Rng rng(7);
  Tensor x(DType::I32, {T, B}), y(DType::I32, {T, B});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b) {
      bool valid = t < kLengths[b];
      x.data<int32_t>()[t * B + b] = valid ? static_cast<int32_t>(rng.nextU64() % K) : 999;
      y.data<int32_t>()[t * B + b] = valid ? static_cast<int32_t>(rng.nextU64() % K) : -1;
    }
  TensorMap data{{"x", x}, {"y", y}};

  Batch batch;
  batch.params = &params;
  batch.data = &data;
  batch.lengths["t"] = kLengths;
  auto outputs = runGraph(graph, batch);
  ASSERT_TRUE(outputs) << outputs.error().message;
  const Tensor &h = outputs->at("h"), &o = outputs->at("o"), &loss = outputs->at("loss");
  ASSERT_EQ(h.shape(), (std::vector<int64_t>{T, B, H}));
  ASSERT_EQ(o.shape(), (std::vector<int64_t>{T, B, K}));
  ASSERT_EQ(loss.shape(), std::vector<int64_t>{});

  Eigen::MatrixXd U = toMatrix(params["U"]), W = toMatrix(params["W"]), V = toMatrix(params["V"]);
  Eigen::VectorXd bias = toMatrix(params["b"]), c = toMatrix(params["c"]);
  double expectedLoss = 0;
  for (int64_t b = 0; b < B; ++b) {
    Eigen::VectorXd state = Eigen::VectorXd::Zero(H);
    for (int64_t t = 0; t < T; ++t) {
      Eigen::VectorXd expectedH = Eigen::VectorXd::Zero(H), expectedO = Eigen::VectorXd::Zero(K);
      if (t < kLengths[b]) {
        int32_t token = x.data<int32_t>()[t * B + b], label = y.data<int32_t>()[t * B + b];
        state = (bias + W * state + U.col(token)).array().tanh();
        expectedH = state;
        expectedO = c + V * state;
        Eigen::ArrayXd exponentials = (expectedO.array() - expectedO.maxCoeff()).exp();
        expectedLoss -= std::log(exponentials(label) / exponentials.sum());
      }
      for (int64_t i = 0; i < H; ++i)
        EXPECT_NEAR(h.data<double>()[(t * B + b) * H + i], expectedH(i), 1e-12)
            << "h, step " << t << ", example " << b;
      for (int64_t i = 0; i < K; ++i)
        EXPECT_NEAR(o.data<double>()[(t * B + b) * K + i], expectedO(i), 1e-12)
            << "o, step " << t << ", example " << b;
    }
  }
  EXPECT_NEAR(loss.data<double>()[0], expectedLoss, 1e-12);
  EXPECT_GT(expectedLoss, 1.0); // not vacuous
}

} // namespace
} // namespace rnnc::ir
