// A benchmark case: one model with its dims, a batch shape and a mode, set up once and then run
// on a backend as often as a measurement wants. `rnnc bench` and the Google Benchmark suite of
// bench/ both time through it, so they time exactly the same thing:
//   parameters  initialised from the seed as the model's `param` declarations say (`rnnc init`)
//   data        a random batch of `batch` examples of `steps` steps on every axis, all full
//               length, from the same seed (`rnnc data`)
//   graph       forward: the model's `forward` graph with all its outputs (what `rnnc run` runs);
//               train:   the `backward` graph `rnnc train` runs (model::buildTrainingGraphs: the
//               loss and every gradient, `grad.<param>` and `grad.<real input>`); no optimiser
//               step.
#pragma once

#include "compiler/backend/Backend.h"
#include "ir/Graph.h"
#include "ir/Interpreter.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace rnnc::driver {

enum class BenchmarkMode { Forward, Train };

/// "forward" or "train"; anything else is a user error naming `option`.
Expected<BenchmarkMode> parseBenchmarkMode(const std::string &option, const std::string &text);
const char *benchmarkModeName(BenchmarkMode mode);

struct BenchmarkSpec {
  std::string modelPath;
  std::map<std::string, long long> dims; ///< -D overrides.
  BenchmarkMode mode = BenchmarkMode::Forward;
  int64_t batch = 1;
  int64_t steps = 1;
  uint64_t seed = 0;
  ir::Precision precision = ir::Precision::Float;
};

class BenchmarkCase {
public:
  /// Loads the model and makes the graph, parameters and data; a bad model, a model without a
  /// loss in train mode, or a batch too large to allocate is a user error.
  static Expected<std::unique_ptr<BenchmarkCase>> create(const BenchmarkSpec &spec);

  const BenchmarkSpec &spec() const { return spec_; }
  const ir::Module &module() const { return *module_; }
  /// The graph that runs (see the file comment).
  const ir::Graph &graph() const { return *graph_; }
  const TensorMap &params() const { return params_; }
  /// The parameters, for a check that replaces their initial values (zero biases, say, would hide
  /// a computation that forgets them).
  TensorMap &params() { return params_; }
  const TensorMap &data() const { return data_; }
  /// Parsing, checking and the pass pipeline (with the backward graph in train mode), in ms.
  double frontendMilliseconds() const { return frontendMilliseconds_; }
  /// Runs the graph once on `backend` with `threads` threads.
  Expected<TensorMap> run(backend::Backend &backend, int threads) const;

private:
  BenchmarkSpec spec_;
  std::unique_ptr<ir::Module> module_;
  const ir::Graph *graph_ = nullptr;
  TensorMap params_, data_;
  double frontendMilliseconds_ = 0;
};

} // namespace rnnc::driver
