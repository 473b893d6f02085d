// A synthetic task (runtime/SyntheticTasks.h) bound to a model: which model input or target each
// slot of the task fills, the batches it makes, and how the trained model is judged.
//
// Binding checks the model against the task and names the first mismatch: the number of inputs
// and targets, a sequence where the task gives one value per example (or the reverse), tokens
// where it gives reals, a vocabulary too small for the task's ids, a real vector of another
// size, time axes that the task keeps apart but the model shares (or the reverse), and what the
// metric needs: a generate clause for the target (exact match of free-running generation), or an
// output shaped like the target (the scores of accuracy, the prediction of squared error; the
// last such output in declaration order).
//
// Batches are laid out like every model's data (ModelData.h): sequences time-major [T, B, ...]
// padded with zeros past each example's length, static values [B, ...], lengths per model axis.
#pragma once

#include "compiler/backend/Backend.h"
#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/SyntheticTasks.h"
#include "runtime/Tensor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rnnc::model {

/// The data of one training or evaluation run of a graph.
struct TrainingBatch {
  TensorMap data;
  std::map<std::string, std::vector<int64_t>> lengths; ///< Per model axis.
  int64_t items = 0; ///< What the loss is averaged over: target steps, or examples.
  int64_t steps = 0; ///< Time steps of the batch over all axes (for steps/s).
};

/// How a model did on the held-out examples.
struct TaskScore {
  std::string metric; ///< "exact_match", "accuracy" or "mse".
  double value = 0;
  std::string summary; ///< "accuracy 0.9812 on 512 held-out examples".
  std::string detail;  ///< More, or empty: "token accuracy 0.9950", "baseline 0.167: …".
  std::string example; ///< Generation only: one held-out example, expected and generated.
};

class BoundTask {
public:
  /// Binds `task` to the model in `module` (not yet differentiated: its forward graph still has
  /// every output). `length` is the task's size parameter; 0 means the task's default.
  static Expected<BoundTask> bind(const TaskDefinition &task, std::unique_ptr<ir::Module> module,
                                  int64_t length);

  const TaskDefinition &definition() const { return *task_; }
  int64_t length() const { return settings_.length; }

  /// `count` examples from `rng`.
  std::vector<TaskExample> examples(Rng &rng, int64_t count) const;
  /// The batch of `examples` under the model's names.
  TrainingBatch pack(std::span<const TaskExample> examples) const;

  /// Scores the model with `params` on `examples`, `batchSize` at a time.
  Expected<TaskScore> score(backend::Backend &backend, const TensorMap &params,
                            std::span<const TaskExample> examples, int64_t batchSize) const;

private:
  struct Slot {
    std::string name;
    std::string axis; ///< The model's axis; empty for a static slot.
    int64_t size = 1; ///< Reals: the vector size; tokens: the model's vocabulary.
  };
  BoundTask() = default;
  Expected<std::vector<float>> predictions(backend::Backend &backend, const TensorMap &params,
                                           const TrainingBatch &batch) const;

  const TaskDefinition *task_ = nullptr;
  TaskSettings settings_;
  std::vector<Slot> slots_;
  size_t targetSlot_ = 0;
  std::shared_ptr<ir::Module> module_;    ///< Owns the evaluation graph.
  const ir::Graph *evaluation_ = nullptr; ///< generate (exact match) or forward, reduced.
  std::string predictionOutput_;          ///< The output read by accuracy and squared error.
};

} // namespace rnnc::model
