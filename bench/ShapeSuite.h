// The shape suite of design.md §5 as a table: which model file, dims, sequence length and batch
// each named shape runs, and which hand-written Eigen baseline (EigenRnn.h) computes the same loss
// and gradients. The suite binary, the baseline check and bench/run.sh's peers share these shapes.
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

struct SuiteShape {
  std::string name;      ///< S1 … S4, L1, G1, C1.
  std::string cell;      ///< What the table calls it ("tanh RNN", "LSTM", …).
  std::string modelPath; ///< Absolute path of the model file.
  std::map<std::string, long long> dims;
  int64_t steps = 1, batch = 1;
  EigenBaselineKind eigen = EigenBaselineKind::None;
};

/// S1–S4, L1, G1, C1 in the order of design.md §5.
const std::vector<SuiteShape> &shapeSuite();

/// The model file of `kind`'s baseline (for the start-up check on small dims).
std::string baselineModelPath(EigenBaselineKind kind);

} // namespace rnnc::bench
