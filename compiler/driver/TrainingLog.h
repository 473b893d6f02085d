// The record of a training run, one row per step, and the two views of it a person reads: a CSV
// file and an SVG plot of the loss curves (written by hand: no plotting library).
//
// The history travels in checkpoints (as the F64 tensor "train.history" [rows, 6]), so after
// --resume the CSV and the plot show the whole run, not just its continuation.
#pragma once

#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace rnnc::driver {

struct TrainingRecord {
  int64_t step = 0;
  double trainLoss = 0; ///< Mean cross-entropy per character of the step's batch, in nats.
  /// Held-out bits per character, NaN at steps without an evaluation.
  double validationBpc = std::numeric_limits<double>::quiet_NaN();
  double learningRate = 0;
  double gradientNorm = 0; ///< Before clipping.
  double tokensPerSecond = 0;

  bool hasValidation() const { return !std::isnan(validationBpc); }
};

class TrainingHistory {
public:
  static constexpr int64_t kColumns = 6;

  /// The history held in the tensor `history` (F64 [rows, kColumns]).
  static TrainingHistory fromTensor(const Tensor &history);
  Tensor toTensor() const;

  void add(const TrainingRecord &record) { records_.push_back(record); }
  const std::vector<TrainingRecord> &records() const { return records_; }
  TrainingRecord &last() { return records_.back(); }

  /// Writes the CSV file: a header `step,train_loss,val_bpc,learning_rate,grad_norm,
  /// tokens_per_s`, then one line per step (val_bpc empty when not evaluated). Atomic: a
  /// temporary file renamed over `path`.
  Status writeCsv(const std::string &path) const;

  /// Writes an SVG line plot of bits per character against the step: the training loss (a
  /// moving average, converted to bits) and the validation points. Atomic like writeCsv.
  Status writeSvgPlot(const std::string &path, const std::string &title) const;

private:
  std::vector<TrainingRecord> records_;
};

} // namespace rnnc::driver
