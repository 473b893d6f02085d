#include "compiler/driver/TrainingPlot.h"

#include "compiler/model/TrainingHistory.h"
#include "runtime/PngImage.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <sstream>

namespace rnnc::driver {

using model::formatNumber;

namespace {

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

/// Ticks of a log axis over [low, high] (both > 0): the powers of ten, with 2 and 5 times them
/// when the range spans fewer than three decades.
std::vector<double> logTicks(double low, double high) {
  bool fine = std::log10(high / low) < 3;
  std::vector<double> values;
  for (double decade = std::pow(10.0, std::floor(std::log10(low))); decade <= high;
       decade *= 10)
    for (double factor : {1.0, 2.0, 5.0})
      if ((factor == 1 || fine) && decade * factor >= low * (1 - 1e-9) &&
          decade * factor <= high * (1 + 1e-9))
        values.push_back(decade * factor);
  return values;
}

/// "%g" without exponents for the tick labels of step counts and losses.
std::string tickLabel(double value) {
  return formatNumber(value == std::floor(value) ? "%.0f" : "%g", value);
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

} // namespace

/// A task's metric at its evaluations on a linear axis of its own, drawn at the right (a task's
/// plot keeps a right margin for its labels).
template <typename StepToX>
void layOutMetric(const model::TrainingHistory &history, const StepToX &x, PlotLayout &layout) {
  std::vector<std::pair<double, double>> values;
  for (const model::TrainingRecord &record : history.records())
    if (std::isfinite(record.metric))
      values.push_back({double(record.step), record.metric});
  if (values.empty())
    return;
  layout.metricLabel = history.taskMetric() + " (right axis)";
  double low = values.front().second, high = low;
  for (const auto &value : values) {
    low = std::min(low, value.second);
    high = std::max(high, value.second);
  }
  double pad = std::max(0.05 * (high - low), 0.005);
  low -= pad;
  high += pad;
  auto y = [&](double value) {
    return layout.top + (high - value) / (high - low) * (layout.height - layout.top - layout.bottom);
  };
  for (double tick : ticks(low, high, 6))
    layout.metricTicks.push_back({y(tick), tickLabel(tick)});
  for (const auto &[step, value] : values)
    layout.metric.push_back({x(step), y(value)});
}

std::optional<PlotScale> parsePlotScale(const std::string &text) {
  if (text == "auto")
    return PlotScale::Auto;
  if (text == "linear")
    return PlotScale::Linear;
  if (text == "log")
    return PlotScale::Log;
  return std::nullopt;
}

PlotLayout layOutPlot(const model::TrainingHistory &history, const std::string &title,
                      PlotScale axis) {
  PlotLayout layout;
  layout.title = title;
  bool task = !history.taskMetric().empty();
  if (task)
    layout.right = 70; // room for the metric's axis labels
  // A text run plots bits (nats / ln 2) so that the training loss shares the axis with the
  // validation bits/char; a task plots its loss per item in nats.
  double scale = task ? 1 : 1 / std::numbers::ln2;
  layout.yLabel = task ? "loss per item" : "bits per character";
  // The training loss is noisy from batch to batch: plot a trailing mean over about 1/50 of
  // the run.
  const auto &records = history.records();
  std::vector<std::pair<double, double>> train, validation; // (step, loss)
  size_t window = std::max<size_t>(1, records.size() / 50);
  double sum = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    sum += records[i].trainLoss;
    if (i >= window)
      sum -= records[i - window].trainLoss;
    double mean = sum / double(std::min(i + 1, window));
    train.push_back({double(records[i].step), mean * scale});
    if (records[i].hasValidation())
      validation.push_back({double(records[i].step), records[i].validation});
  }

  layout.trainLabel = window == 1 ? std::string("training")
                                   : "training (mean of " + std::to_string(window) + " steps)";
  // The log axis: asked for, or automatic when the positive losses span more than two decades.
  double minPositive = std::numeric_limits<double>::infinity(), maxPositive = 0;
  for (const auto *series : {&train, &validation})
    for (const auto &p : *series)
      if (std::isfinite(p.second) && p.second > 0) {
        minPositive = std::min(minPositive, p.second);
        maxPositive = std::max(maxPositive, p.second);
      }
  layout.logScale = maxPositive > 0 && (axis == PlotScale::Log ||
                                        (axis == PlotScale::Auto && maxPositive > 100 * minPositive));
  auto plotted = [&](double loss) { return std::isfinite(loss) && (!layout.logScale || loss > 0); };

  double minStep = train.empty() ? 0 : train.front().first;
  double maxStep = train.empty() ? 1 : std::max(train.back().first, minStep + 1);
  double minLoss = std::numeric_limits<double>::infinity(), maxLoss = -minLoss;
  for (const auto *series : {&train, &validation})
    for (const auto &p : *series)
      if (std::isfinite(p.second)) {
        minLoss = std::min(minLoss, p.second);
        maxLoss = std::max(maxLoss, p.second);
      }
  if (!std::isfinite(minLoss)) {
    minLoss = 0;
    maxLoss = 1;
  }
  if (layout.logScale) {
    // Pad by 5% of the axis in log space, and reach out to the decades' round ticks.
    double pad = std::max(0.05 * std::log10(maxPositive / minPositive), 0.02);
    minLoss = std::pow(10.0, std::log10(minPositive) - pad);
    maxLoss = std::pow(10.0, std::log10(maxPositive) + pad);
  } else {
    double pad = std::max(0.05 * (maxLoss - minLoss), task ? 0.005 : 0.05);
    minLoss = std::max(0.0, minLoss - pad);
    maxLoss += pad;
  }
  // The position of a loss along the axis, 0 at minLoss and 1 at maxLoss.
  auto fraction = [&](double loss) {
    return layout.logScale ? std::log10(loss / minLoss) / std::log10(maxLoss / minLoss)
                           : (loss - minLoss) / (maxLoss - minLoss);
  };
  auto x = [&](double step) {
    return layout.left +
           (step - minStep) / (maxStep - minStep) * (layout.width - layout.left - layout.right);
  };
  auto y = [&](double loss) {
    return layout.top + (1 - fraction(loss)) * (layout.height - layout.top - layout.bottom);
  };
  for (double tick : ticks(minStep, maxStep, 8))
    layout.stepTicks.push_back({x(tick), tickLabel(tick)});
  for (double tick : layout.logScale ? logTicks(minLoss, maxLoss) : ticks(minLoss, maxLoss, 6))
    layout.lossTicks.push_back({y(tick), tickLabel(tick)});
  for (const auto &[step, loss] : train)
    if (plotted(loss))
      layout.train.push_back({x(step), y(loss)});
  for (const auto &[step, loss] : validation)
    if (plotted(loss))
      layout.validation.push_back({x(step), y(loss)});
  if (layout.logScale)
    layout.yLabel += " (log scale)";
  layOutMetric(history, x, layout);
  return layout;
}

std::string renderSvg(const PlotLayout &layout) {
  const double width = layout.width, height = layout.height, left = layout.left,
               right = layout.right, top = layout.top, bottom = layout.bottom;
  auto polyline = [&](const std::vector<PlotLayout::Point> &points, const char *color) {
    std::string line = "<polyline fill=\"none\" stroke=\"" + std::string(color) +
                       "\" stroke-width=\"1.5\" points=\"";
    for (const auto &[px, py] : points)
      line += formatNumber("%.1f,", px) + formatNumber("%.1f ", py);
    return line + "\"/>\n";
  };
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << width / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
      << escapeXml(layout.title) << "</text>\n";
  for (const PlotLayout::Tick &tick : layout.stepTicks)
    svg << "<line x1=\"" << formatNumber("%.1f", tick.position) << "\" x2=\""
        << formatNumber("%.1f", tick.position) << "\" y1=\"" << top << "\" y2=\"" << height - bottom
        << "\" stroke=\"#e5e5e5\"/>\n"
        << "<text x=\"" << formatNumber("%.1f", tick.position) << "\" y=\"" << height - bottom + 16
        << "\" text-anchor=\"middle\">" << tick.label << "</text>\n";
  for (const PlotLayout::Tick &tick : layout.lossTicks)
    svg << "<line x1=\"" << left << "\" x2=\"" << width - right << "\" y1=\""
        << formatNumber("%.1f", tick.position) << "\" y2=\"" << formatNumber("%.1f", tick.position)
        << "\" stroke=\"#e5e5e5\"/>\n"
        << "<text x=\"" << left - 6 << "\" y=\"" << formatNumber("%.1f", tick.position + 4)
        << "\" text-anchor=\"end\">" << tick.label << "</text>\n";
  svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << width - left - right
      << "\" height=\"" << height - top - bottom << "\" fill=\"none\" stroke=\"black\"/>\n"
      << "<text x=\"" << (left + width - right) / 2 << "\" y=\"" << height - 12
      << "\" text-anchor=\"middle\">step</text>\n"
      << "<text transform=\"translate(18," << (top + height - bottom) / 2
      << ") rotate(-90)\" text-anchor=\"middle\">" << escapeXml(layout.yLabel) << "</text>\n"
      << (layout.metric.empty() ? "" : polyline(layout.metric, "#2ca02c"))
      << polyline(layout.train, "#1f77b4") << polyline(layout.validation, "#ff7f0e");
  for (const PlotLayout::Tick &tick : layout.metricTicks)
    svg << "<text x=\"" << width - right + 6 << "\" y=\"" << formatNumber("%.1f", tick.position + 4)
        << "\" fill=\"#2ca02c\">" << tick.label << "</text>\n";
  for (const auto &[px, py] : layout.metric)
    svg << "<circle cx=\"" << formatNumber("%.1f", px) << "\" cy=\"" << formatNumber("%.1f", py)
        << "\" r=\"2.5\" fill=\"#2ca02c\"/>\n";
  for (const auto &[px, py] : layout.validation)
    svg << "<circle cx=\"" << formatNumber("%.1f", px) << "\" cy=\"" << formatNumber("%.1f", py)
        << "\" r=\"2.5\" fill=\"#ff7f0e\"/>\n";
  double legendX = width - right - 190, legendY = top + 18;
  svg << "<line x1=\"" << legendX << "\" x2=\"" << legendX + 24 << "\" y1=\"" << legendY
      << "\" y2=\"" << legendY << "\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n"
      << "<text x=\"" << legendX + 30 << "\" y=\"" << legendY + 4
      << "\">" << escapeXml(layout.trainLabel) << "</text>\n"
      << "<line x1=\"" << legendX << "\" x2=\"" << legendX + 24 << "\" y1=\"" << legendY + 18
      << "\" y2=\"" << legendY + 18 << "\" stroke=\"#ff7f0e\" stroke-width=\"2\"/>\n"
      << "<text x=\"" << legendX + 30 << "\" y=\"" << legendY + 22
      << "\">validation (held-out)</text>\n";
  if (!layout.metric.empty())
    svg << "<line x1=\"" << legendX << "\" x2=\"" << legendX + 24 << "\" y1=\"" << legendY + 36
        << "\" y2=\"" << legendY + 36 << "\" stroke=\"#2ca02c\" stroke-width=\"2\"/>\n"
        << "<text x=\"" << legendX + 30 << "\" y=\"" << legendY + 40 << "\">"
        << escapeXml(layout.metricLabel) << "</text>\n";
  svg << "</svg>\n";
  return svg.str();
}

std::string renderPng(const PlotLayout &layout) {
  enum Color : uint8_t { White, Black, Grid, Blue, Orange, Green };
  PngImage image(int(layout.width), int(layout.height),
                 {{255, 255, 255}, {0, 0, 0}, {229, 229, 229}, {31, 119, 180}, {255, 127, 14},
                  {44, 160, 44}});
  int left = int(layout.left), right = int(layout.width - layout.right), top = int(layout.top),
      bottom = int(layout.height - layout.bottom);
  for (const PlotLayout::Tick &tick : layout.stepTicks) {
    int x = int(std::lround(tick.position));
    image.line(x, top, x, bottom, Grid);
    image.text(x - PngImage::textWidth(tick.label) / 2, bottom + 6, tick.label, Black);
  }
  for (const PlotLayout::Tick &tick : layout.lossTicks) {
    int y = int(std::lround(tick.position));
    image.line(left, y, right, y, Grid);
    image.text(left - 6 - PngImage::textWidth(tick.label), y - PngImage::kGlyphHeight / 2,
               tick.label, Black);
  }
  image.line(left, top, right, top, Black);
  image.line(left, bottom, right, bottom, Black);
  image.line(left, top, left, bottom, Black);
  image.line(right, top, right, bottom, Black);
  auto polyline = [&](const std::vector<PlotLayout::Point> &points, uint8_t color) {
    for (size_t i = 1; i < points.size(); ++i)
      image.thickLine(points[i - 1].first, points[i - 1].second, points[i].first, points[i].second,
                      color);
    if (points.size() == 1)
      image.dot(points[0].first, points[0].second, 1, color);
  };
  polyline(layout.metric, Green); // under the loss curves, which the tests find by colour
  for (const auto &[x, y] : layout.metric)
    image.dot(x, y, 2.5, Green);
  for (const PlotLayout::Tick &tick : layout.metricTicks)
    image.text(right + 6, int(std::lround(tick.position)) - PngImage::kGlyphHeight / 2, tick.label,
               Green);
  polyline(layout.train, Blue);
  polyline(layout.validation, Orange);
  for (const auto &[x, y] : layout.validation)
    image.dot(x, y, 2.5, Orange);
  int legendX = right - 250, legendY = top + 18;
  image.thickLine(legendX, legendY, legendX + 24, legendY, Blue);
  image.text(legendX + 30, legendY - PngImage::kGlyphHeight / 2, layout.trainLabel, Black);
  image.thickLine(legendX, legendY + 18, legendX + 24, legendY + 18, Orange);
  image.text(legendX + 30, legendY + 18 - PngImage::kGlyphHeight / 2, "validation (held-out)",
             Black);
  if (!layout.metric.empty()) {
    image.thickLine(legendX, legendY + 36, legendX + 24, legendY + 36, Green);
    image.text(legendX + 30, legendY + 36 - PngImage::kGlyphHeight / 2, layout.metricLabel, Black);
  }
  image.text(int(layout.width) / 2 - PngImage::textWidth(layout.title) / 2, 12, layout.title,
             Black);
  image.text((left + right) / 2 - PngImage::textWidth("step") / 2, int(layout.height) - 20, "step",
             Black);
  // No rotated text: the loss axis is named above its top end.
  image.text(8, top - PngImage::kGlyphHeight - 6, layout.yLabel, Black);
  return image.encode();
}

} // namespace rnnc::driver
