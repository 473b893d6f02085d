// How `rnnc train` shows its progress: log lines on stdout, one per evaluation, that read well
// in a file or a CI log; and when stderr is a terminal, also a status line on stderr redrawn in
// place — step, progress bar, loss, validation bits/char, tokens/s, elapsed and remaining time —
// with the log lines scrolling above it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace rnnc::driver {

struct ProgressState {
  int64_t step = 0;
  std::optional<int64_t> lastStep;     ///< --steps: the step the run stops at.
  std::optional<double> budgetSeconds; ///< --minutes, in seconds.
  double elapsedSeconds = 0;           ///< Since this run started.
  double secondsPerStep = 0;           ///< Mean over this run so far.
  double trainLoss = 0;                ///< Recent training loss, nats per character (or item).
  /// The latest evaluation (bits per character; for a task, held-out loss per item in nats);
  /// NaN before the first.
  double validationBpc = 0;
  double tokensPerSecond = 0;
  bool characters = true; ///< Text (losses also shown in bits per character), not a task.
  std::string metricName; ///< A task's metric ("accuracy"), empty for text.
  double metric = 0;      ///< Its latest value; NaN before the first evaluation.
};

class ProgressDisplay {
public:
  explicit ProgressDisplay(bool terminal) : terminal_(terminal) {}

  /// Redraws the status line (terminal only; at most ten times a second).
  void update(const ProgressState &state);
  /// A log line after an evaluation (see message).
  void report(const ProgressState &state);
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
