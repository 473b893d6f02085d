#include "compiler/driver/TrainingLog.h"

#include "compiler/driver/TrainingPlot.h"
#include "runtime/Files.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

namespace rnnc::driver {

namespace {

/// The file at `path` holding `contents`, written atomically (runtime/Files.h).
Status writeLogFile(const std::string &path, const std::string &contents) {
  if (Status written = writeFileAtomically(path, contents); !written)
    return Error::user("cannot write '" + path + "'");
  return Status::ok();
}

} // namespace

using model::formatNumber;

Status writeHistoryCsv(const model::TrainingHistory &history, const std::string &path) {
  std::ostringstream csv;
  const std::string &metric = history.taskMetric();
  bool task = !metric.empty();
  csv << "step,train_loss," << (task ? "val_loss" : "val_bpc")
      << ",learning_rate,grad_norm,tokens_per_s" << (task ? "," + metric : "") << "\n";
  for (const model::TrainingRecord &r : history.records()) {
    csv << r.step << "," << formatNumber("%.6f", r.trainLoss) << ","
        << (r.hasValidation() ? formatNumber("%.6f", r.validation) : "") << ","
        << formatNumber("%.6g", r.learningRate) << "," << formatNumber("%.6f", r.gradientNorm)
        << "," << formatNumber("%.0f", r.tokensPerSecond);
    if (task)
      csv << "," << (std::isnan(r.metric) ? "" : formatNumber("%.6g", r.metric));
    csv << "\n";
  }
  return writeLogFile(path, csv.str());
}

Status writeHistoryPlot(const model::TrainingHistory &history, const std::string &path,
                        const std::string &title, PlotScale scale) {
  PlotLayout layout = layOutPlot(history, title, scale);
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return writeLogFile(path, extension == ".png" ? renderPng(layout) : renderSvg(layout));
}

} // namespace rnnc::driver
