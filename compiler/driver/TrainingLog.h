// The two views of a training run's history (compiler/model/TrainingHistory.h) that a person
// reads: a CSV file and a plot of the loss curves, SVG or PNG (TrainingPlot.h; no plotting
// library). Both files are written atomically: a temporary file renamed over the path.
#pragma once

#include "compiler/driver/TrainingPlot.h"
#include "compiler/model/TrainingHistory.h"
#include "runtime/Error.h"

#include <string>

namespace rnnc::driver {

/// Writes the CSV file: a header `step,train_loss,val_bpc,learning_rate,grad_norm,
/// tokens_per_s` (a task: `val_loss` and a last column, its metric), then one line per step
/// (val_bpc and the metric empty when not evaluated).
Status writeHistoryCsv(const model::TrainingHistory &history, const std::string &path);

/// Writes a line plot of the loss against the step (TrainingPlot.h): the training loss (a
/// moving average) and the validation points on a `scale` axis; PNG when `path` ends in .png,
/// else SVG.
Status writeHistoryPlot(const model::TrainingHistory &history, const std::string &path,
                        const std::string &title, PlotScale scale = PlotScale::Auto);

} // namespace rnnc::driver
