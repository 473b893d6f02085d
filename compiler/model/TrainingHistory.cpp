#include "compiler/model/TrainingHistory.h"

#include <algorithm>
#include <cstdio>

namespace rnnc::model {

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

} // namespace rnnc::model
