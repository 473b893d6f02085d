// How `rnnc train` shows its progress: log lines on stdout, one per evaluation, that read well
// in a file or a CI log; and when stderr is a terminal, also a status line on stderr redrawn in
// place — step, progress bar, loss, validation bits/char, tokens/s, elapsed and remaining time —
// with the log lines scrolling above it. What it shows is the Trainer's ProgressState
// (compiler/model/Trainer.h).
#pragma once

#include "compiler/model/Trainer.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace rnnc::driver {

class ProgressDisplay {
public:
  explicit ProgressDisplay(bool terminal) : terminal_(terminal) {}

  /// Redraws the status line (terminal only; at most ten times a second).
  void update(const model::ProgressState &state);
  /// A log line after an evaluation (see message).
  void report(const model::ProgressState &state);
  /// Prints a line on stdout (above the status line, which it clears first).
  void message(const std::string &text);
  /// Removes the status line.
  void finish();

private:
  void clearLine();

  bool terminal_;
  bool lineShown_ = false;
  std::chrono::steady_clock::time_point lastDraw_;
};

/// "1:05", "12:00", "1:02:03" for a duration in seconds.
std::string formatDuration(double seconds);

} // namespace rnnc::driver
