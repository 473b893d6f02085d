#include "compiler/driver/TrainingProgress.h"

#include "compiler/model/TrainingHistory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numbers>

namespace rnnc::driver {

using model::formatNumber;

namespace {

/// "21.3k" tokens/s.
std::string formatRate(double perSecond) {
  return perSecond >= 1000 ? formatNumber("%.1fk", perSecond / 1000)
                           : formatNumber("%.0f", perSecond);
}

/// The seconds left until the run stops: at --steps or at the end of --minutes, whichever
/// comes first; nullopt when neither is known.
std::optional<double> remainingSeconds(const model::ProgressState &state) {
  std::optional<double> remaining;
  if (state.lastStep && state.secondsPerStep > 0)
    remaining = double(*state.lastStep - state.step) * state.secondsPerStep;
  if (state.budgetSeconds) {
    double left = std::max(0.0, *state.budgetSeconds - state.elapsedSeconds);
    remaining = remaining ? std::min(*remaining, left) : left;
  }
  return remaining;
}

/// The fraction of the run done, in [0, 1].
double fractionDone(const model::ProgressState &state) {
  double done = 0;
  if (auto remaining = remainingSeconds(state); remaining && state.elapsedSeconds > 0)
    done = state.elapsedSeconds / (state.elapsedSeconds + *remaining);
  if (state.lastStep && !state.budgetSeconds)
    done = double(state.step) / double(std::max<int64_t>(1, *state.lastStep));
  return std::clamp(done, 0.0, 1.0);
}

std::string stepText(const model::ProgressState &state) {
  std::string text = "step " + std::to_string(state.step);
  if (state.lastStep)
    text += "/" + std::to_string(*state.lastStep);
  return text;
}

std::string validationText(const model::ProgressState &state) {
  if (!state.characters)
    return (std::isnan(state.validationBpc) ? "val -"
                                            : "val " + formatNumber("%.4f", state.validationBpc)) +
           (state.metricName.empty()
                ? ""
                : "  " + state.metricName + " " +
                      (std::isnan(state.metric) ? "-" : formatNumber("%.4f", state.metric)));
  return std::isnan(state.validationBpc)
             ? "val -"
             : "val " + formatNumber("%.3f", state.validationBpc) + " bpc";
}

} // namespace

std::string formatDuration(double seconds) {
  auto total = int64_t(std::llround(std::max(0.0, seconds)));
  char buffer[32];
  if (total >= 3600)
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", (long long)(total / 3600),
                  (long long)(total / 60 % 60), (long long)(total % 60));
  else
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld", (long long)(total / 60),
                  (long long)(total % 60));
  return buffer;
}

void ProgressDisplay::clearLine() {
  if (lineShown_)
    std::cerr << "\r\033[K";
  lineShown_ = false;
}

void ProgressDisplay::update(const model::ProgressState &state) {
  if (!terminal_)
    return;
  auto now = std::chrono::steady_clock::now();
  if (lineShown_ && now - lastDraw_ < std::chrono::milliseconds(100))
    return;
  lastDraw_ = now;
  constexpr int kBarWidth = 24;
  int filled = int(std::lround(fractionDone(state) * kBarWidth));
  std::string bar =
      "[" + std::string(size_t(filled), '#') + std::string(size_t(kBarWidth - filled), '-') + "]";
  std::string eta;
  if (auto remaining = remainingSeconds(state))
    eta = " < " + formatDuration(*remaining);
  clearLine();
  std::cerr << stepText(state) << " " << bar << " loss " << formatNumber("%.3f", state.trainLoss)
            << " | " << validationText(state) << " | " << formatRate(state.tokensPerSecond)
            << " tok/s | " << formatDuration(state.elapsedSeconds) << eta << std::flush;
  lineShown_ = true;
}

void ProgressDisplay::report(const model::ProgressState &state) {
  std::string line =
      stepText(state) + "  loss " + formatNumber("%.4f", state.trainLoss) +
      (state.characters ? " (" + formatNumber("%.3f", state.trainLoss / std::numbers::ln2) + " bpc)"
                        : std::string()) +
      "  " + validationText(state) + "  " + formatRate(state.tokensPerSecond) + " tok/s  elapsed " +
      formatDuration(state.elapsedSeconds);
  if (auto remaining = remainingSeconds(state))
    line += "  eta " + formatDuration(*remaining);
  message(line);
}

void ProgressDisplay::message(const std::string &text) {
  clearLine();
  std::cerr << std::flush;
  std::cout << text << "\n" << std::flush;
}

void ProgressDisplay::finish() {
  if (terminal_) {
    clearLine();
    std::cerr << std::flush;
  }
}

} // namespace rnnc::driver
