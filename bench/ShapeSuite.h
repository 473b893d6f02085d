// The shape suite of design.md §5 as a table: which model file, dims, sequence length and batch
// each named shape runs, which hand-written Eigen baseline (EigenRnn.h) and which oneDNN RNN
// primitive (OneDnnRnn.h) compute the same loss and gradients. The suite binary, the baseline
// check and bench/run.sh's peers share these shapes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rnnc::bench {

enum class EigenBaselineKind {
  None,    ///< No Eigen baseline (gated cells: compare with PyTorch).
  TanhRnn, ///< EigenTanhRnn: bench/models/rnn_tanh.rnn.
  Elman,   ///< EigenElman: examples/elman.rnn.
};

/// The oneDNN primitive that computes a shape's cell (OneDnnRnn.h); the same enumerators whether
/// or not the suite was built with oneDNN.
enum class OneDnnBaselineKind {
  None,    ///< No RNN primitive computes it (the char model's softmax output layer).
  TanhRnn, ///< dnnl::vanilla_rnn_forward/backward, tanh: bench/models/rnn_tanh.rnn.
  Lstm,    ///< dnnl::lstm_forward/backward: bench/models/lstm.rnn.
  LbrGru,  ///< dnnl::lbr_gru_forward/backward (linear before reset): bench/models/gru.rnn.
};

struct SuiteShape {
  std::string name;      ///< S1 … S4, L1, G1, C1.
  std::string cell;      ///< What the table calls it ("tanh RNN", "LSTM", …).
  std::string modelPath; ///< Absolute path of the model file.
  std::map<std::string, long long> dims;
  int64_t steps = 1, batch = 1;
  EigenBaselineKind eigen = EigenBaselineKind::None;
  OneDnnBaselineKind onednn = OneDnnBaselineKind::None;
};

/// S1–S4, L1, G1, C1 in the order of design.md §5.
const std::vector<SuiteShape> &shapeSuite();

/// The model file of `kind`'s baseline (for the start-up check on small dims).
std::string baselineModelPath(EigenBaselineKind kind);
std::string baselineModelPath(OneDnnBaselineKind kind);

} // namespace rnnc::bench
