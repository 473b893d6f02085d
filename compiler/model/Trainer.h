// The Trainer: training a model through a backend (compiler/backend/Backend.h) the way
// docs/training.md describes, on one of three kinds of data:
//   - text: a character-level language model (TrainingGraphs.h) on a corpus (runtime/TextData.h),
//     which sets the model's vocabulary dim; the last 5% is held out; each step draws `batch`
//     random windows of `sequence` + 1 characters, or with `stateful` the next window of each of
//     `batch` consecutive streams, from the states the previous step ended in;
//   - a task: a synthetic task (runtime/SyntheticTasks.h) bound to any model that fits it
//     (Task.h); each step draws `batch` fresh examples; `taskExamples` others are held out;
//   - a data set: any model's inputs and targets from safetensors files (Dataset.h); the held-out
//     examples are `validationPath`'s, or `validationFraction` of the data chosen by a fixed seed;
//     the steps go through epochs, each a shuffle seeded by (seed, epoch) in batches bucketed by
//     length, so step s's batch is a function of (seed, s) as with the others;
// then, the same for both: the batch of a step is seeded by (seed, step); the step runs the
// `backward` graph (split over `threads` backend instances on one ThreadPool, runtime/
// ThreadPool.h), averages the loss and gradients over the batch's items (characters, target
// steps or examples) and makes the optimiser step (OptimizerStep.h);
//   - every `evalEvery` steps and at the end it measures the held-out loss (bits per character;
//     a task: loss per item and its metric; a data set: loss per item and accuracy for a token
//     target, mean squared error for a real one), saves the checkpoint (Checkpoint.h) and calls the
//     hooks that log and plot;
//   - it stops at `steps`, after `minutes`, or when the stop hook asks (Ctrl-C in `rnnc train`);
//     a non-finite loss, gradient or parameter stops it with an error naming the step and tensor
//     after saving the last good state.
// Results do not depend on the number of threads: shards are drawn in order from one generator
// and their sums added in shard order. Nothing here prints: the hooks are the caller's.
#pragma once

#include "compiler/backend/Backend.h"
#include "compiler/model/Checkpoint.h"
#include "compiler/model/Dataset.h"
#include "compiler/model/Parameters.h"
#include "compiler/model/Task.h"
#include "compiler/model/TrainingGraphs.h"
#include "compiler/model/TrainingHistory.h"
#include "compiler/passes/ExposeCarriedState.h"
#include "compiler/passes/Pipeline.h"
#include "runtime/Error.h"
#include "runtime/Optimizer.h"
#include "runtime/SyntheticTasks.h"
#include "runtime/Tensor.h"
#include "runtime/TextData.h"
#include "runtime/ThreadPool.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <set>

namespace rnnc::model {

/// What a training run is: the model, the data, the optimiser and when to stop.
struct TrainerOptions {
  std::string modelPath;
  std::string backend = "interp"; ///< Empty: the JIT when it can run the model, else `interp`.
  /// A text corpus (a file or a directory), a data set (isDatasetPath), or empty for a task.
  std::string dataPath;
  const TaskDefinition *task = nullptr;
  int64_t taskLength = 0, taskExamples = 512;
  /// Write the task's batch of step 1 here instead of training (Trainer::create).
  std::optional<std::string> dumpTaskData;
  passes::PipelineOptions pipeline; ///< The autodiff options (truncation, checkpointing).
  std::map<std::string, long long> dims;
  std::optional<int64_t> steps; ///< Train to this step (counting a resumed checkpoint's).
  std::optional<double> minutes;
  int64_t batch = 32, sequence = 64, evalEvery = 100, threads = 1;
  std::optional<int64_t> validationCharacters;
  OptimizerSettings optimizer;
  LearningRateSchedule schedule;
  double clip = 1; ///< The global gradient norm to clip to; 0: never.
  std::optional<uint64_t> seed;
  std::optional<std::string> savePath, resumePath;
  // A data set:
  std::optional<std::string> validationPath; ///< Held-out examples from their own file(s).
  double validationFraction = 0.05;          ///< Else this fraction of the examples (at least 1).
  std::optional<int64_t> epochs; ///< Train for this many epochs: sets `steps` (and the decay).
  /// Text: each batch row reads consecutive windows and starts from the state the previous step
  /// ended in (ExposeCarriedState.h); the held-out text is evaluated the same way.
  bool stateful = false;
  /// Start from these parameters (Parameters.h readParameters, names mapped by `renames`)
  /// instead of initialising them; unlike resumePath, the step and optimiser start afresh.
  std::optional<std::string> paramsPath;
  std::vector<ParameterRename> renames;
};

/// Where a run is, as a progress display shows it.
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

/// What the caller sees of a run while it trains. Every hook may be empty.
struct TrainerHooks {
  std::function<void(const ProgressState &)> stepped;   ///< After every step.
  std::function<void(const ProgressState &)> evaluated; ///< After every evaluation.
  /// Writes the logs and plots of `history`: after every evaluation, and when a run stops early.
  std::function<Status(const TrainingHistory &)> writeLogs;
  /// Polled before every step; true stops the run after the current one.
  std::function<bool()> stopRequested;
};

/// How a run ended.
struct TrainingOutcome {
  bool stopped = false; ///< The stop hook ended it.
  int64_t stepsRun = 0;
  double elapsedSeconds = 0;
  double tokensPerSecond = 0; ///< Time steps per second of training over this run.
};

class Trainer {
public:
  /// Sets up a run: reads the data (and the checkpoint to resume from), loads the model, builds
  /// the training graphs, initialises or restores the parameters and the optimiser, and makes
  /// one backend per thread. With `dumpTaskData` it writes that file instead and returns null.
  static Expected<std::unique_ptr<Trainer>> create(const TrainerOptions &options);

  /// Compiles the graphs of a run on every backend instance (nothing for the interpreter), so
  /// that the first step's time and the run's tokens/s do not include it. Returns its seconds.
  Expected<double> compile();

  /// Trains until a stop condition (see the file comment), then evaluates and saves unless that
  /// was just done. A user error of a step (a non-finite value) is returned after saving the
  /// last good state, its message saying where it is saved.
  Expected<TrainingOutcome> run(const TrainerHooks &hooks);

  /// Scores a task's model on its held-out examples with the current parameters (the latest
  /// score is kept: score(), scoredStep()).
  Status scoreTask();
  const std::optional<TaskScore> &score() const { return score_; }
  int64_t scoredStep() const { return scoredStep_; }

  const TrainerOptions &options() const { return options_; }
  const ir::Module &module() const { return *graphs_.module; }
  const TensorMap &params() const { return params_; }
  const TrainingHistory &history() const { return history_; }
  int64_t step() const { return step_; }
  std::string backendName() const { return backends_[0]->name(); }
  /// Why the run is on the interpreter when no backend was named and the JIT cannot run the
  /// model (BackendRegistry.h defaultBackend); empty otherwise.
  const std::string &backendNotice() const { return backendNotice_; }
  /// The bound task, or null for text or a data set.
  const BoundTask *task() const { return task_ ? &*task_ : nullptr; }
  /// A data set's training examples, or null.
  const Dataset *dataset() const { return trainingSet_ ? &*trainingSet_ : nullptr; }
  /// A data set: the steps of one epoch.
  int64_t batchesPerEpoch() const { return batchesPerEpoch_; }
  /// Training on text (a character model), not a task or a data set.
  bool isText() const { return !task_ && !trainingSet_; }
  /// Text: the corpus's characters, and how they are split.
  const Vocabulary &vocabulary() const { return vocabulary_; }
  const TextSplit &split() const { return split_; }
  /// Held-out characters, or a task's held-out examples.
  int64_t heldOutItems() const { return heldOutItems_; }

private:
  struct StepResult;
  Trainer() = default;
  Status setUpTask(const std::map<std::string, long long> &dims);
  Expected<std::u32string> setUpText(const std::optional<Checkpoint> &resumed,
                                     std::map<std::string, long long> &dims);
  Status splitText(const std::u32string &corpus);
  Status setUpDataset(const std::map<std::string, long long> &dims);
  /// A data set: the batch of `step` in `shards` consecutive parts.
  std::vector<TrainingBatch> datasetBatch(int64_t step, int64_t shards);
  /// Stateful text: the batch of `step` in `shards` parts of consecutive rows, each with the
  /// rows' initial states from `carried`, which it resets to zeros at the first window of the
  /// streams. The rows of part i start at firstRows[i].
  std::vector<TrainingBatch> statefulBatch(std::span<const int32_t> ids, int64_t window,
                                           int64_t shards, TensorMap &carried,
                                           std::vector<int64_t> &firstRows) const;
  Expected<double> statefulHeldOutLoss();
  Status dumpTaskBatch(const ir::Graph &forward, const ir::Module &module) const;
  TrainingBatch draw(Rng &rng, int64_t size, int64_t sequence) const;
  Status runConcurrently(size_t count, const std::function<Status(size_t, size_t)> &task);
  Expected<double> heldOutLoss();
  Expected<StepResult> trainingStep(int64_t step);
  Status saveCheckpoint() const;

  TrainerOptions options_;
  // Stateful text:
  std::vector<passes::CarriedState> states_;
  TensorMap carried_; ///< The states the last training step ended in, [batch, ...] each.
  TrainingGraphs graphs_;
  // Text:
  CharacterModel characterModel_;
  Vocabulary vocabulary_;
  TextSplit split_;
  // A task:
  std::optional<BoundTask> task_;
  std::vector<TaskExample> heldOutExamples_;
  // A data set:
  std::optional<Dataset> trainingSet_, heldOutSet_;
  int64_t batchesPerEpoch_ = 0;
  int64_t plannedEpoch_ = -1;                    ///< The epoch of epochPlan_.
  std::vector<std::vector<size_t>> epochPlan_;   ///< Its batches.
  std::shared_ptr<ir::Module> evaluationModule_; ///< Owns evaluationGraph_.
  /// The forward graph reduced to the loss and the prediction of the first target (then
  /// predictionOutput_ names it), which the held-out loss runs instead of graphs_.forward.
  const ir::Graph *evaluationGraph_ = nullptr;
  std::string predictionOutput_;
  /// The held-out batches: text windows, the held-out examples of a task or a data set.
  std::vector<TrainingBatch> evaluation_;
  int64_t heldOutItems_ = 0;
  TensorMap params_;
  std::set<std::string> frozen_; ///< Parameters that are not trained (frozenParameters).
  double elapsedSeconds_ = 0;    ///< Into this run, at the current step (a decay by time).
  Optimizer optimizer_{OptimizerSettings{}};
  TrainingHistory history_;
  uint64_t seed_ = 0;
  int64_t step_ = 0;
  std::optional<TaskScore> score_;
  int64_t scoredStep_ = 0;
  /// One backend per thread (per part of the pool's runs): the Backend interface does not
  /// promise that one instance may run graphs concurrently (a compiled backend keeps its
  /// workspace), so two parts never share one.
  std::vector<std::unique_ptr<backend::Backend>> backends_;
  std::string backendNotice_;
  std::unique_ptr<ThreadPool> pool_; ///< `threads` threads and parts, the caller's included.
};

} // namespace rnnc::model
