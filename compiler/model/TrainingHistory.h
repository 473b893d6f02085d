// The record of a training run, one row per step (the driver writes it as a CSV file and a plot
// of the loss curves: compiler/driver/TrainingLog.h).
//
// The history travels in checkpoints (as the F64 tensor "train.history" [rows, 6], or
// [rows, 7] with the task metric of a `--task` run), so after --resume the CSV and the plot show
// the whole run, not just its continuation.
#pragma once

#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace rnnc::model {

/// `value` through printf's `pattern` ("%.4f"): the one number formatter of the training output
/// (log lines, CSV, plots, task scores).
std::string formatNumber(const char *pattern, double value);

struct TrainingRecord {
  int64_t step = 0;
  double trainLoss = 0; ///< Mean cross-entropy per character of the step's batch, in nats.
  /// Held-out bits per character (a task: held-out loss per item, nats), NaN at steps without an
  /// evaluation.
  double validation = std::numeric_limits<double>::quiet_NaN();
  double learningRate = 0;
  double gradientNorm = 0; ///< Before clipping.
  double tokensPerSecond = 0;
  /// A task's metric on its held-out examples (accuracy, mse …), NaN when not evaluated.
  double metric = std::numeric_limits<double>::quiet_NaN();

  bool hasValidation() const { return !std::isnan(validation); }
};

class TrainingHistory {
public:
  static constexpr int64_t kColumns = 6;
  static constexpr int64_t kTaskColumns = 7; ///< kColumns and the task metric.

  /// The history held in the tensor `history` (F64 [rows, kColumns or kTaskColumns]).
  static TrainingHistory fromTensor(const Tensor &history);
  /// [rows, kColumns], or [rows, kTaskColumns] for a task's history.
  Tensor toTensor() const;

  /// Makes this the history of a task run whose metric is called `metricName` ("accuracy"):
  /// the CSV has `val_loss` for `val_bpc` and a last column named after the metric, and the
  /// plot shows losses in nats per item rather than bits per character.
  void setTaskMetric(std::string metricName) { metricName_ = std::move(metricName); }
  const std::string &taskMetric() const { return metricName_; }

  void add(const TrainingRecord &record) { records_.push_back(record); }
  const std::vector<TrainingRecord> &records() const { return records_; }
  TrainingRecord &last() { return records_.back(); }

private:
  std::vector<TrainingRecord> records_;
  std::string metricName_;
};

} // namespace rnnc::model
