// The loss plot of a training run, drawn by rnnc itself (no plotting library): one layout — the
// axes, round ticks, the moving-average training curve and the validation points, all in pixel
// coordinates — rendered as SVG text or as a PNG image (runtime/PngImage.h). Both renderings
// come from the same layout, so they show the same plot.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace rnnc::model {
class TrainingHistory;
}

namespace rnnc::driver {

struct PlotLayout {
  double width = 800, height = 480, left = 70, right = 20, top = 40, bottom = 50;
  std::string title, yLabel, validationLabel;
  struct Tick {
    double position; ///< Pixels: x for the step axis, y for the loss axis.
    std::string label;
  };
  std::vector<Tick> stepTicks, lossTicks;
  using Point = std::pair<double, double>; ///< (x, y) in pixels, y downwards.
  std::vector<Point> train, validation;
};

/// The layout of `history`'s plot: bits per character for a text run, loss per item for a task.
PlotLayout layOutPlot(const model::TrainingHistory &history, const std::string &title);

std::string renderSvg(const PlotLayout &layout);
/// The PNG file's bytes.
std::string renderPng(const PlotLayout &layout);

} // namespace rnnc::driver
