#include "compiler/driver/TrainingLog.h"

#include "compiler/driver/TrainingPlot.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>
#include <unistd.h>

namespace rnnc::driver {

namespace {

/// Writes `contents` to a temporary file next to `path`, then renames it over `path`.
Status writeFileAtomically(const std::string &path, const std::string &contents) {
  std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << contents;
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      return Error::user("cannot write '" + path + "'");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary, error);
    return Error::user("cannot write '" + path + "'");
  }
  return Status::ok();
}

} // namespace

std::string formatNumber(const char *pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

TrainingHistory TrainingHistory::fromTensor(const Tensor &history) {
  TrainingHistory result;
  auto values = history.values<double>();
  int64_t columns = history.shape()[1];
  for (int64_t row = 0; row < history.shape()[0]; ++row) {
    const double *v = values.data() + row * columns;
    TrainingRecord record{int64_t(v[0]), v[1], v[2], v[3], v[4], v[5]};
    if (columns == kTaskColumns)
      record.metric = v[6];
    result.records_.push_back(record);
  }
  return result;
}

Tensor TrainingHistory::toTensor() const {
  int64_t columns = metricName_.empty() ? kColumns : kTaskColumns;
  Tensor history(DType::F64, {int64_t(records_.size()), columns});
  auto values = history.values<double>();
  for (size_t row = 0; row < records_.size(); ++row) {
    const TrainingRecord &r = records_[row];
    double fields[kTaskColumns] = {double(r.step), r.trainLoss,       r.validation, r.learningRate,
                                   r.gradientNorm, r.tokensPerSecond, r.metric};
    std::copy(fields, fields + columns, values.begin() + ptrdiff_t(row) * columns);
  }
  return history;
}

Status TrainingHistory::writeCsv(const std::string &path) const {
  std::ostringstream csv;
  bool task = !metricName_.empty();
  csv << "step,train_loss," << (task ? "val_loss" : "val_bpc")
      << ",learning_rate,grad_norm,tokens_per_s" << (task ? "," + metricName_ : "") << "\n";
  for (const TrainingRecord &r : records_) {
    csv << r.step << "," << formatNumber("%.6f", r.trainLoss) << ","
        << (r.hasValidation() ? formatNumber("%.6f", r.validation) : "") << ","
        << formatNumber("%.6g", r.learningRate) << "," << formatNumber("%.6f", r.gradientNorm)
        << "," << formatNumber("%.0f", r.tokensPerSecond);
    if (task)
      csv << "," << (std::isnan(r.metric) ? "" : formatNumber("%.6g", r.metric));
    csv << "\n";
  }
  return writeFileAtomically(path, csv.str());
}

Status TrainingHistory::writePlot(const std::string &path, const std::string &title) const {
  PlotLayout layout = layOutPlot(*this, title);
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return writeFileAtomically(path, extension == ".png" ? renderPng(layout) : renderSvg(layout));
}

} // namespace rnnc::driver
