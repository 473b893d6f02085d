// The training plot (compiler/driver/TrainingPlot.h): a loss falling from 4 to 0.0006 is drawn on
// a log axis (automatically, as it spans more than two decades), whose decades are equally spaced
// and place each value where its logarithm says; a loss within one decade stays linear unless
// asked; the legend names the moving average's window; a task's metric has an axis of its own at
// the right. The PNG is decoded here with zlib and the validation point and the metric found at
// the pixels their axes put them.
#include "compiler/driver/TrainingPlot.h"

#include "compiler/model/TrainingHistory.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <map>
#include <string>

namespace rnnc::driver {
namespace {

/// 100 steps of a loss falling geometrically from `first` to `last`, validated every 10 steps
/// with the value of the training loss there, and at step 50 with exactly `at50`; the accuracy
/// at each evaluation (0.4 at step 50).
model::TrainingHistory fallingLoss(double first, double last, double at50) {
  model::TrainingHistory history;
  history.setTaskMetric("accuracy"); // a task: the plot shows the loss in nats, unscaled
  for (int step = 1; step <= 100; ++step) {
    model::TrainingRecord record;
    record.step = step;
    record.trainLoss = first * std::pow(last / first, (step - 1) / 99.0);
    if (step % 10 == 0) {
      record.validation = step == 50 ? at50 : record.trainLoss;
      record.metric = step == 50 ? 0.4 : 0.1 + 0.008 * step; // accuracy rising to 0.9
    }
    history.add(record);
  }
  return history;
}

std::map<std::string, double> tickPositions(const PlotLayout &layout) {
  std::map<std::string, double> positions;
  for (const PlotLayout::Tick &tick : layout.lossTicks)
    positions[tick.label] = tick.position;
  return positions;
}

uint32_t bigEndian(const std::string &bytes, size_t at) {
  return uint32_t(uint8_t(bytes[at])) << 24 | uint32_t(uint8_t(bytes[at + 1])) << 16 |
         uint32_t(uint8_t(bytes[at + 2])) << 8 | uint32_t(uint8_t(bytes[at + 3]));
}

/// The palette indices of an 8-bit palette PNG without filters, decoded with zlib.
struct DecodedPng {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> rows; ///< height rows of a filter byte and width indices
  uint8_t at(int x, int y) const { return rows[size_t(y) * (width + 1) + 1 + size_t(x)]; }
};

DecodedPng decode(const std::string &png) {
  DecodedPng image;
  std::string compressed;
  for (size_t at = 8; at + 12 <= png.size();) {
    uint32_t length = bigEndian(png, at);
    std::string type = png.substr(at + 4, 4);
    if (type == "IHDR") {
      image.width = bigEndian(png, at + 8);
      image.height = bigEndian(png, at + 12);
    } else if (type == "IDAT") {
      compressed += png.substr(at + 8, length);
    }
    at += 12 + length;
  }
  image.rows.resize(size_t(image.height) * (image.width + 1));
  uLongf size = image.rows.size();
  EXPECT_EQ(uncompress(image.rows.data(), &size,
                       reinterpret_cast<const Bytef *>(compressed.data()), compressed.size()),
            Z_OK);
  EXPECT_EQ(size, image.rows.size());
  return image;
}

TEST(TrainingPlotTest, LossSpanningDecadesIsOnALogAxis) {
  PlotLayout layout = layOutPlot(fallingLoss(4, 0.0006, 0.01), "task");
  ASSERT_TRUE(layout.logScale);
  EXPECT_EQ(layout.yLabel, "loss per item (log scale)");
  EXPECT_EQ(layout.trainLabel, "training (mean of 2 steps)");
  std::map<std::string, double> ticks = tickPositions(layout);
  ASSERT_TRUE(ticks.count("0.001") && ticks.count("0.01") && ticks.count("0.1") && ticks.count("1"))
      << layout.lossTicks.size() << " ticks";
  EXPECT_EQ(ticks.size(), 4u); // four decades: only the powers of ten
  double decade = ticks["0.001"] - ticks["0.01"];
  EXPECT_GT(decade, 50); // larger losses higher up, by a decade's worth of pixels
  EXPECT_NEAR(ticks["0.01"] - ticks["0.1"], decade, 1e-6);
  EXPECT_NEAR(ticks["0.1"] - ticks["1"], decade, 1e-6);

  // Validation points: step 50's (0.01) on the 0.01 tick; step 100's training loss 0.0006
  // log10(0.6) of a decade below the 0.001 tick.
  ASSERT_EQ(layout.validation.size(), 10u);
  EXPECT_NEAR(layout.validation[4].second, ticks["0.01"], 1e-6);
  EXPECT_NEAR(layout.validation[9].second, ticks["0.001"] - std::log10(0.6) * decade, 1e-6);

  DecodedPng png = decode(renderPng(layout));
  ASSERT_EQ(png.width, 800u);
  ASSERT_EQ(png.height, 480u);
  constexpr uint8_t kOrange = 4, kGrid = 2, kWhite = 0;
  auto [x, y] = layout.validation[4];
  EXPECT_EQ(png.at(int(std::lround(x)), int(std::lround(y))), kOrange);
  // The 0.1 grid line runs across the plot where no curve is, and nothing is drawn far from it.
  EXPECT_EQ(png.at(int(layout.left) + 5, int(std::lround(ticks["0.1"]))), kGrid);
  EXPECT_EQ(png.at(5, 5), kWhite);

  // The accuracy on its own axis at the right: 0.4 on the 0.4 tick, higher values higher up.
  EXPECT_EQ(layout.metricLabel, "accuracy (right axis)");
  ASSERT_EQ(layout.metric.size(), 10u);
  std::map<std::string, double> metricTicks;
  for (const PlotLayout::Tick &tick : layout.metricTicks)
    metricTicks[tick.label] = tick.position;
  ASSERT_TRUE(metricTicks.count("0.4") && metricTicks.count("0.8"));
  EXPECT_LT(metricTicks["0.8"], metricTicks["0.4"]);
  EXPECT_NEAR(layout.metric[4].second, metricTicks["0.4"], 1e-6);
  EXPECT_EQ(layout.metric[4].first, layout.validation[4].first);
  constexpr uint8_t kGreen = 5;
  EXPECT_EQ(png.at(int(std::lround(layout.metric[4].first)),
                   int(std::lround(layout.metric[4].second))),
            kGreen);
}

TEST(TrainingPlotTest, LossWithinADecadeStaysLinearUnlessAsked) {
  model::TrainingHistory history = fallingLoss(3, 2, 2.5);
  PlotLayout automatic = layOutPlot(history, "task");
  EXPECT_FALSE(automatic.logScale);
  EXPECT_EQ(automatic.yLabel, "loss per item");
  // Linear: equal steps of loss are equal steps of pixels.
  std::map<std::string, double> ticks = tickPositions(automatic);
  ASSERT_TRUE(ticks.count("2") && ticks.count("2.4") && ticks.count("2.8"));
  EXPECT_NEAR(ticks["2"] - ticks["2.4"], ticks["2.4"] - ticks["2.8"], 1e-6);

  PlotLayout log = layOutPlot(history, "task", PlotScale::Log);
  EXPECT_TRUE(log.logScale);
  std::map<std::string, double> logTicks = tickPositions(log);
  ASSERT_TRUE(logTicks.count("2") && logTicks.count("5") == 0);
  EXPECT_FALSE(layOutPlot(fallingLoss(4, 0.0006, 0.01), "task", PlotScale::Linear).logScale);

  EXPECT_EQ(parsePlotScale("log"), PlotScale::Log);
  EXPECT_EQ(parsePlotScale("auto"), PlotScale::Auto);
  EXPECT_EQ(parsePlotScale("Log"), std::nullopt);
}

} // namespace
} // namespace rnnc::driver
