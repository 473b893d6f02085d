// The oneDNN baselines of the shape suite: oneDNN's own RNN primitives computing the cell of a
// benchmark case (compiler/driver/BenchmarkCase.h) on the case's parameters and random batch, used
// the way a user who keeps the weights in oneDNN's format uses them:
//   - tanh RNN (S1–S4): dnnl::vanilla_rnn_forward/backward with eltwise_tanh; LSTM (L1):
//     dnnl::lstm_forward/backward; GRU (G1): dnnl::lbr_gru_forward/backward, the
//     linear-before-reset GRU that bench/models/gru.rnn (PyTorch's nn.GRU) computes;
//   - one layer, left to right, zero initial state, no final state; data time-major (tnc);
//   - weights and biases in the layouts the primitives choose (format_tag::any), reordered from
//     rnnc's parameters once at setup: rnnc's gate order is permuted to oneDNN's where they differ
//     and rnnc's two bias vectors (input and hidden) summed into oneDNN's one per gate (the GRU
//     keeps the hidden candidate bias apart: oneDNN's fourth bias);
//   - forward: one forward_inference execution, then L = Σ_t ‖h(t) − y(t)‖²; train: one
//     forward_training execution, L and diff_dst_layer = 2(h − y), the weight gradients zeroed
//     (the backward primitive accumulates into them) and one backward execution, which yields the
//     gradients of the weights, the biases and the input (diff_src_layer);
//   - every memory object, the workspace and the scratchpad (user-managed, so that no execution
//     allocates) made once.
// results() converts the gradients back to rnnc's names and layouts, outside what run() times.
// Threads: Debian's oneDNN runs on OpenMP; setOneDnnThreads sets OpenMP's thread count, and a
// baseline is created after it, for the thread count it runs with.
//
// This header has no oneDNN in it: only bench/CMakeLists.txt's RNNC_BENCH_ONEDNN builds
// OneDnnRnn.cpp, and the suite guards its uses with #ifdef RNNC_BENCH_ONEDNN.
#pragma once

#include "bench/Baseline.h"
#include "bench/ShapeSuite.h"
#include "compiler/driver/BenchmarkCase.h"
#include "runtime/Error.h"

#include <memory>
#include <string>

namespace rnnc::bench {

/// OpenMP's thread count for oneDNN's primitives (omp_set_num_threads).
void setOneDnnThreads(int threads);
int oneDnnThreads();
/// The library's version, "2.6.3".
std::string oneDnnVersion();
/// The instruction set limit in effect: the ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA) variable as
/// set, or "unset", and the instruction set oneDNN's kernels use ("avx512_core").
std::string oneDnnIsaLimit();
std::string oneDnnEffectiveIsa();

class OneDnnBaseline final : public Baseline {
public:
  /// A user error when the case's tensors are not those of `kind`'s model (a missing tensor, a
  /// wrong dtype or shape), the case is not float32, or oneDNN refuses the primitive.
  static Expected<std::unique_ptr<OneDnnBaseline>> create(OneDnnBaselineKind kind,
                                                          const driver::BenchmarkCase &source);
  ~OneDnnBaseline() override;
  const char *name() const override { return "oneDNN"; }
  void run() override;
  NamedResults results() override;

private:
  struct State;
  explicit OneDnnBaseline(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

} // namespace rnnc::bench
