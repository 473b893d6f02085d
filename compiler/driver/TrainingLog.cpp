#include "compiler/driver/TrainingLog.h"

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

std::string format(const char *pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

/// Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten, about
/// `count` of them.
std::vector<double> ticks(double low, double high, int count) {
  double span = std::max(high - low, 1e-12);
  double rough = span / count;
  double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  double step = magnitude;
  for (double factor : {1.0, 2.0, 5.0, 10.0})
    if (factor * magnitude >= rough) {
      step = factor * magnitude;
      break;
    }
  std::vector<double> values;
  for (double value = std::ceil(low / step) * step; value <= high + step * 1e-9; value += step)
    values.push_back(std::abs(value) < step * 1e-9 ? 0 : value);
  return values;
}

/// "%g" without exponents for the tick labels of step counts and bits.
std::string tickLabel(double value) {
  return format(value == std::floor(value) ? "%.0f" : "%g", value);
}

std::string escapeXml(const std::string &text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
    case '&':
      escaped += "&amp;";
      break;
    case '<':
      escaped += "&lt;";
      break;
    case '>':
      escaped += "&gt;";
      break;
    case '"':
      escaped += "&quot;";
      break;
    default:
      escaped += c;
    }
  }
  return escaped;
}

struct Point {
  double step, bits;
};

} // namespace

TrainingHistory TrainingHistory::fromTensor(const Tensor &history) {
  TrainingHistory result;
  auto values = history.values<double>();
  for (int64_t row = 0; row < history.shape()[0]; ++row) {
    const double *v = values.data() + row * kColumns;
    result.records_.push_back({int64_t(v[0]), v[1], v[2], v[3], v[4], v[5]});
  }
  return result;
}

Tensor TrainingHistory::toTensor() const {
  Tensor history(DType::F64, {int64_t(records_.size()), kColumns});
  auto values = history.values<double>();
  for (size_t row = 0; row < records_.size(); ++row) {
    const TrainingRecord &r = records_[row];
    double fields[kColumns] = {double(r.step), r.trainLoss,    r.validationBpc,
                               r.learningRate, r.gradientNorm, r.tokensPerSecond};
    std::copy(fields, fields + kColumns, values.begin() + ptrdiff_t(row * kColumns));
  }
  return history;
}

Status TrainingHistory::writeCsv(const std::string &path) const {
  std::ostringstream csv;
  csv << "step,train_loss,val_bpc,learning_rate,grad_norm,tokens_per_s\n";
  for (const TrainingRecord &r : records_)
    csv << r.step << "," << format("%.6f", r.trainLoss) << ","
        << (r.hasValidation() ? format("%.6f", r.validationBpc) : "") << ","
        << format("%.6g", r.learningRate) << "," << format("%.6f", r.gradientNorm) << ","
        << format("%.0f", r.tokensPerSecond) << "\n";
  return writeFileAtomically(path, csv.str());
}

Status TrainingHistory::writeSvgPlot(const std::string &path, const std::string &title) const {
  // The training loss is noisy from batch to batch: plot a trailing mean over about 1/50 of the
  // run, in bits (nats / ln 2) so that it shares the axis with the validation bits/char.
  std::vector<Point> train, validation;
  size_t window = std::max<size_t>(1, records_.size() / 50);
  double sum = 0;
  for (size_t i = 0; i < records_.size(); ++i) {
    sum += records_[i].trainLoss;
    if (i >= window)
      sum -= records_[i - window].trainLoss;
    double mean = sum / double(std::min(i + 1, window));
    train.push_back({double(records_[i].step), mean / std::numbers::ln2});
    if (records_[i].hasValidation())
      validation.push_back({double(records_[i].step), records_[i].validationBpc});
  }

  const double width = 800, height = 480, left = 70, right = 20, top = 40, bottom = 50;
  double minStep = train.empty() ? 0 : train.front().step;
  double maxStep = train.empty() ? 1 : std::max(train.back().step, minStep + 1);
  double minBits = std::numeric_limits<double>::infinity(), maxBits = -minBits;
  for (const auto *series : {&train, &validation})
    for (const Point &p : *series)
      if (std::isfinite(p.bits)) {
        minBits = std::min(minBits, p.bits);
        maxBits = std::max(maxBits, p.bits);
      }
  if (!std::isfinite(minBits)) {
    minBits = 0;
    maxBits = 1;
  }
  double pad = std::max(0.05 * (maxBits - minBits), 0.05);
  minBits = std::max(0.0, minBits - pad);
  maxBits += pad;
  auto x = [&](double step) {
    return left + (step - minStep) / (maxStep - minStep) * (width - left - right);
  };
  auto y = [&](double bits) {
    return top + (maxBits - bits) / (maxBits - minBits) * (height - top - bottom);
  };
  auto polyline = [&](const std::vector<Point> &points, const char *color) {
    std::string line = "<polyline fill=\"none\" stroke=\"" + std::string(color) +
                       "\" stroke-width=\"1.5\" points=\"";
    for (const Point &p : points)
      if (std::isfinite(p.bits))
        line += format("%.1f,", x(p.step)) + format("%.1f ", y(p.bits));
    return line + "\"/>\n";
  };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << width / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
      << escapeXml(title) << "</text>\n";
  for (double tick : ticks(minStep, maxStep, 8))
    svg << "<line x1=\"" << format("%.1f", x(tick)) << "\" x2=\"" << format("%.1f", x(tick))
        << "\" y1=\"" << top << "\" y2=\"" << height - bottom << "\" stroke=\"#e5e5e5\"/>\n"
        << "<text x=\"" << format("%.1f", x(tick)) << "\" y=\"" << height - bottom + 16
        << "\" text-anchor=\"middle\">" << tickLabel(tick) << "</text>\n";
  for (double tick : ticks(minBits, maxBits, 6))
    svg << "<line x1=\"" << left << "\" x2=\"" << width - right << "\" y1=\""
        << format("%.1f", y(tick)) << "\" y2=\"" << format("%.1f", y(tick))
        << "\" stroke=\"#e5e5e5\"/>\n"
        << "<text x=\"" << left - 6 << "\" y=\"" << format("%.1f", y(tick) + 4)
        << "\" text-anchor=\"end\">" << tickLabel(tick) << "</text>\n";
  svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << width - left - right
      << "\" height=\"" << height - top - bottom << "\" fill=\"none\" stroke=\"black\"/>\n"
      << "<text x=\"" << (left + width - right) / 2 << "\" y=\"" << height - 12
      << "\" text-anchor=\"middle\">step</text>\n"
      << "<text transform=\"translate(18," << (top + height - bottom) / 2
      << ") rotate(-90)\" text-anchor=\"middle\">bits per character</text>\n"
      << polyline(train, "#1f77b4") << polyline(validation, "#ff7f0e");
  for (const Point &p : validation)
    if (std::isfinite(p.bits))
      svg << "<circle cx=\"" << format("%.1f", x(p.step)) << "\" cy=\"" << format("%.1f", y(p.bits))
          << "\" r=\"2.5\" fill=\"#ff7f0e\"/>\n";
  double legendX = width - right - 190, legendY = top + 18;
  svg << "<line x1=\"" << legendX << "\" x2=\"" << legendX + 24 << "\" y1=\"" << legendY
      << "\" y2=\"" << legendY << "\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n"
      << "<text x=\"" << legendX + 30 << "\" y=\"" << legendY + 4
      << "\">training (moving average)</text>\n"
      << "<line x1=\"" << legendX << "\" x2=\"" << legendX + 24 << "\" y1=\"" << legendY + 18
      << "\" y2=\"" << legendY + 18 << "\" stroke=\"#ff7f0e\" stroke-width=\"2\"/>\n"
      << "<text x=\"" << legendX + 30 << "\" y=\"" << legendY + 22
      << "\">validation (held-out)</text>\n"
      << "</svg>\n";
  return writeFileAtomically(path, svg.str());
}

} // namespace rnnc::driver
