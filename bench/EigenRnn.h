// The hand-written Eigen baselines of the shape suite: back-propagation through time for the
// vanilla tanh RNN, written the way a careful engineer writes it with a BLAS-like library, so that
// rnnc's ratio against it means something (design.md §5):
//   - the input projection of all T·B rows is one GEMM (a row gather for one-hot input);
//   - only the recurrent product h(t−1) Wᵀ stays in the loop over time, one GEMM over the batch,
//     accumulated in place into the pre-activations, with tanh applied in place;
//   - the backward loop carries δ(t) = (g(t) + δ(t+1) W) ⊙ (1 − h(t)²), one GEMM per step;
//   - the weight gradients are single large GEMMs over all T·B rows after the loop;
//   - float32 row-major buffers, allocated once, Eigen::Map over caller memory, noalias products.
// Layouts are rnnc's (ir/Interpreter.h): parameters row-major, sequences time-major [T, B, …], and
// the loss and parameter gradients summed over the batch. Threads: Eigen's own (OpenMP) GEMM
// parallelism (setEigenThreads).
//
// This header has no Eigen in it: the baselines are compiled for the host CPU (-march=native) into
// a shared library whose Eigen code stays private to it (hidden visibility), so that its template
// instantiations are never merged with the differently compiled ones of rnnc's interpreter.
#pragma once

#include "bench/Baseline.h"

#include <cstdint>
#include <memory>

#define RNNC_BENCH_EXPORT __attribute__((visibility("default")))

namespace rnnc::bench {

/// The threads Eigen's products may use: 1 when built without OpenMP, whatever is asked.
RNNC_BENCH_EXPORT void setEigenThreads(int threads);
RNNC_BENCH_EXPORT int eigenThreads();

/// L = Σ_i (h_i − y_i)² over `count` elements; with a non-null `gradient`, also ∂L/∂h = 2(h − y)
/// into it. The loss of the tanh RNN, LSTM and GRU shapes, shared by every baseline of them (the
/// oneDNN ones too, so that the loop is compiled for the host like the rest of the baselines).
RNNC_BENCH_EXPORT float squaredError(const float *h, const float *y, int64_t count,
                                     float *gradient);

struct RnnShape {
  int64_t steps = 1, batch = 1;
  int64_t input = 1;  ///< I: the input width (the vocabulary for the token model).
  int64_t hidden = 1; ///< H.
};

/// bench/models/rnn_tanh.rnn: h(t) = tanh(b + W h(t−1) + U x(t)), L = Σ_t ‖h(t) − y(t)‖².
class RNNC_BENCH_EXPORT EigenTanhRnn {
public:
  explicit EigenTanhRnn(const RnnShape &shape);
  ~EigenTanhRnn();
  /// U [H, I], W [H, H], b [H]; x [T, B, I], y [T, B, H].
  struct Inputs {
    const float *U, *W, *b, *x, *y;
  };
  /// The forward pass: h and the loss.
  void forward(const Inputs &inputs);
  /// Forward and backward: the loss, grad.U, grad.W, grad.b and grad.x.
  void train(const Inputs &inputs);
  /// After forward: loss and h; after train: loss and the gradients.
  NamedResults results(bool train) const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

/// examples/elman.rnn (the C1 character model): h(t) = tanh(b + W h(t−1) + U onehot(x(t))),
/// o(t) = c + V h(t), L = −Σ_t log softmax(o(t))[y(t)]. `shape.input` is the vocabulary K.
class RNNC_BENCH_EXPORT EigenElman {
public:
  explicit EigenElman(const RnnShape &shape);
  ~EigenElman();
  /// U [H, K], W [H, H], b [H], V [K, H], c [K]; x, y [T, B] token ids.
  struct Inputs {
    const float *U, *W, *b, *V, *c;
    const int32_t *x, *y;
  };
  /// The forward pass: h, o and the loss.
  void forward(const Inputs &inputs);
  /// Forward and backward: the loss, grad.U, grad.W, grad.b, grad.V and grad.c.
  void train(const Inputs &inputs);
  NamedResults results(bool train) const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace rnnc::bench
