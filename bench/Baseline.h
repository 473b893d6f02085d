// What the suite (Suite.cpp) and its start-up check (BaselineCheck.h) need of a baseline: a
// computation set up once on a benchmark case's tensors (compiler/driver/BenchmarkCase.h) that
// runs the case's mode and hands back what it computed under rnnc's output names and layouts.
// EigenBaseline.h (the hand-written BPTT) and OneDnnRnn.h (oneDNN's RNN primitives) are the two.
#pragma once

#include <map>
#include <span>
#include <string>

namespace rnnc::bench {

/// Named results, as rnnc names its outputs: "loss", "h", "o", "grad.<name>".
using NamedResults = std::map<std::string, std::span<const float>>;

class Baseline {
public:
  virtual ~Baseline() = default;
  /// How reports and errors name it ("Eigen", "oneDNN").
  virtual const char *name() const = 0;
  /// One forward pass, or one forward and backward pass (the case's mode): what is timed.
  virtual void run() = 0;
  /// What the last run computed in rnnc's layouts (float32, row-major, sequences time-major).
  /// A baseline that keeps its results in its own layout converts them here, outside the timing.
  virtual NamedResults results() = 0;
};

} // namespace rnnc::bench
