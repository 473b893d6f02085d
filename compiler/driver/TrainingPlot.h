// The loss plot of a training run, drawn by rnnc itself (no plotting library): one layout — the
// axes (linear, or logarithmic when the loss spans decades), round ticks, the moving-average
// training curve with its window, the validation points and a task's metric (on a right axis),
// all in pixel coordinates — rendered as SVG text or as a PNG image (runtime/PngImage.h). Both renderings
// come from the same layout, so they show the same plot.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rnnc::model {
class TrainingHistory;
}

namespace rnnc::driver {

/// The loss axis: linear, logarithmic, or logarithmic when the plotted losses span more than two
/// decades (a task's loss from 4 to 0.0006 would lie flat on a linear axis).
enum class PlotScale { Auto, Linear, Log };

/// "auto", "linear" or "log" (--plot-scale); nullopt for anything else.
std::optional<PlotScale> parsePlotScale(const std::string &text);

struct PlotLayout {
  double width = 800, height = 480, left = 70, right = 20, top = 40, bottom = 50;
  std::string title, yLabel, validationLabel;
  std::string trainLabel; ///< Says the moving average's window: "training (mean of 20 steps)".
  bool logScale = false;
  struct Tick {
    double position; ///< Pixels: x for the step axis, y for the loss axis.
    std::string label;
  };
  std::vector<Tick> stepTicks, lossTicks;
  using Point = std::pair<double, double>; ///< (x, y) in pixels, y downwards.
  std::vector<Point> train, validation;
  /// A task's metric at each evaluation, on its own linear axis at the right (metricTicks);
  /// empty, with no axis, for text or before the first evaluation.
  std::string metricLabel;
  std::vector<Tick> metricTicks;
  std::vector<Point> metric;
};

/// The layout of `history`'s plot: bits per character for a text run, loss per item for a task,
/// on the axis `scale` asks for (a log axis leaves out losses that are not positive).
PlotLayout layOutPlot(const model::TrainingHistory &history, const std::string &title,
                      PlotScale scale = PlotScale::Auto);

std::string renderSvg(const PlotLayout &layout);
/// The PNG file's bytes.
std::string renderPng(const PlotLayout &layout);

} // namespace rnnc::driver
