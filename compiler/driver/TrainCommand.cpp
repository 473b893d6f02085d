// `rnnc train`: trains a model through a backend (compiler/backend/Backend.h), the way
// docs/training.md describes, on one of two kinds of data:
//   - `--data`: a character-level language model (Training.h) on a text corpus
//     (runtime/TextData.h), which sets the model's vocabulary dim; the last 5% is held out; each
//     step draws `--batch` random windows of `--seq` + 1 characters;
//   - `--task`: a synthetic task (runtime/SyntheticTasks.h) bound to any model that fits it
//     (Task.h); each step draws `--batch` fresh examples; `--task-examples` others are held out;
// then, the same for both: the batch of a step is seeded by (seed, step); the step runs the
// `backward` graph (split over `--threads` threads; --truncate and --checkpoint shape it),
// averages the loss and gradients over the batch's items (characters, target steps or
// examples), clips the global gradient norm and updates the parameters (runtime/Optimizer.h);
//   - every `--eval-every` steps and at the end it measures the held-out loss (bits per
//     character; a task: loss per item and its metric), logs a line, rewrites the CSV and the
//     plot, and saves the checkpoint;
//   - Ctrl-C stops after the current step, saves, and exits with status 130; a non-finite loss,
//     gradient or parameter stops with an error naming the step and tensor after saving the
//     last good state.
#include "compiler/backend/Backend.h"
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelData.h"
#include "compiler/driver/PipelineFlags.h"
#include "compiler/driver/Task.h"
#include "compiler/driver/Training.h"
#include "compiler/driver/TrainingLog.h"
#include "compiler/driver/TrainingProgress.h"
#include "runtime/Optimizer.h"
#include "runtime/SyntheticTasks.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <limits>
#include <new>
#include <numbers>
#include <thread>
#include <unistd.h>

namespace rnnc::driver {
namespace {

volatile std::sig_atomic_t interruptRequested = 0;

extern "C" void requestInterrupt(int) { interruptRequested = 1; }

/// Turns the first Ctrl-C into a request to stop after the current step, while it lives. The
/// handler resets itself, so a second Ctrl-C kills the process as usual.
class InterruptHandler {
public:
  InterruptHandler() {
    interruptRequested = 0;
    struct sigaction action = {};
    action.sa_handler = requestInterrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, &previous_);
  }
  ~InterruptHandler() { sigaction(SIGINT, &previous_, nullptr); }
  InterruptHandler(const InterruptHandler &) = delete;
  InterruptHandler &operator=(const InterruptHandler &) = delete;

private:
  struct sigaction previous_ = {};
};

struct TrainSettings {
  std::string modelPath, backend = "interp";
  std::string dataPath; ///< --data, or empty for a task.
  const TaskDefinition *task = nullptr;
  int64_t taskLength = 0, taskExamples = 512;
  std::optional<std::string> dumpTaskData;
  passes::PipelineOptions pipeline;
  std::map<std::string, long long> dims;
  std::optional<int64_t> steps;
  std::optional<double> minutes;
  int64_t batch = 32, sequence = 64, evalEvery = 100, threads = 1;
  std::optional<int64_t> validationCharacters;
  OptimizerSettings optimizer;
  LearningRateSchedule schedule;
  double clip = 1;
  std::optional<uint64_t> seed;
  std::optional<std::string> savePath, resumePath, logPath, plotPath;
};

Expected<double> positiveReal(const CommandLine &commandLine, const std::string &name,
                              double defaultValue, bool allowZero = false) {
  auto value = commandLine.getReal(name, defaultValue);
  if (!value)
    return value.takeError();
  if (!std::isfinite(*value) || *value < 0 || (*value == 0 && !allowZero))
    return Error::user("option '" + name + "' must be a " +
                       (allowZero ? "non-negative" : "positive") + " number, got " +
                       *commandLine.get(name));
  return *value;
}

/// True when `path` ends in .svg or .png (any case): the plot formats.
bool isPlotFile(const std::string &path) {
  std::string lower;
  for (char c : path)
    lower += char(std::tolower(static_cast<unsigned char>(c)));
  auto endsWith = [&](const char *suffix) {
    return lower.size() > 4 && lower.compare(lower.size() - 4, 4, suffix) == 0;
  };
  return endsWith(".svg") || endsWith(".png");
}

/// The settings of a run, or nullopt when --help was printed.
Expected<std::optional<TrainSettings>> parseTrainCommandLine(const std::vector<std::string> &args) {
  CommandLine commandLine;
  declareDimOverrides(commandLine);
  declarePipelineFlags(commandLine);
  commandLine.option("--data", "PATH", "a text file or a directory of text files")
      .option("--task", "NAME", "a synthetic task instead of text: " + taskNames())
      .option("--task-length", "L", "the task's size: digits, steps (default: the task's)")
      .option("--task-examples", "N", "held-out examples of the task (default 512)")
      .option("--dump-task-data", "FILE", "write the task's batch of step 1 and exit")
      .option("--steps", "N", "train to step N (counting the steps of a resumed checkpoint)")
      .option("--minutes", "M", "train for M minutes (with --steps: whichever ends first)")
      .option("--batch", "B", "sequences per step (default 32)")
      .option("--seq", "T", "characters per sequence: BPTT length (default 64)")
      .option("--optimizer", "adam|sgd", "the optimiser (default adam)")
      .option("--lr", "LR", "peak learning rate (default 0.002 for adam, 0.1 for sgd)")
      .option("--lr-min", "LR", "learning rate at the end of the cosine decay (default LR/10)")
      .option("--warmup", "N", "steps of linear learning-rate warm-up (default 0)")
      .option("--decay-steps", "N", "the step where the cosine decay ends (default --steps)")
      .option("--momentum", "MU", "momentum of sgd (default 0.9)")
      .option("--clip", "NORM", "clip the global gradient norm to NORM; 0: never (default 1)")
      .option("--seed", "S", "seed of the initial parameters and the batches (default 0)")
      .option("--eval-every", "N", "measure the held-out bits/char every N steps (default 100)")
      .option("--val-chars", "N", "measure on the first N held-out characters (default all)")
      .option("--save", "FILE", "checkpoint file, written at each evaluation and at the end")
      .option("--resume", "FILE", "continue from a checkpoint")
      .option("--log", "FILE", "CSV file of the loss curve, one line per step")
      .option("--plot", "FILE.svg|png", "SVG or PNG plot of the loss curves")
      .option("--backend", "NAME", "what runs the model (default interp)")
      .option("--threads", "N", "split each batch over N threads (default 1)");
  auto modelPath = parseCommandLine(
      commandLine, args,
      "rnnc train MODEL (--data PATH | --task NAME) (--steps N | --minutes M) [--batch B] "
      "[--seq T] [--optimizer adam|sgd] [--lr LR] [--clip NORM] [--seed S] [--save FILE] "
      "[--resume FILE] [--log FILE.csv] [--plot FILE.svg|png] [--backend NAME] "
      "[-D NAME=VALUE]...",
      "model file");
  if (!modelPath)
    return modelPath.takeError();
  if (!*modelPath)
    return std::optional<TrainSettings>();

  TrainSettings settings;
  settings.modelPath = **modelPath;
  auto dims = parseDimOverrides(commandLine.getList("-D"));
  if (!dims)
    return dims.takeError();
  settings.dims = *dims;
  if (commandLine.has("--data") == commandLine.has("--task"))
    return Error::user("give the training data: --data PATH (a text corpus) or --task NAME (a "
                       "synthetic task: " +
                       taskNames() + "), one of them");
  if (commandLine.has("--task")) {
    std::string name = *commandLine.get("--task");
    settings.task = findTask(name);
    if (!settings.task)
      return Error::user("unknown task '" + name + "' (tasks: " + taskNames() + ")");
    for (const char *textOnly : {"--seq", "--val-chars"})
      if (commandLine.has(textOnly))
        return Error::user(std::string("option '") + textOnly +
                           "' applies to text (--data); a task sets its own lengths "
                           "(--task-length)");
    if (commandLine.has("--task-length")) {
      if (settings.task->defaultLength == 0)
        return Error::user("task '" + name + "' has no --task-length (the model sets its size)");
      auto length = commandLine.getInt("--task-length", 0, settings.task->minimumLength, 1 << 16);
      if (!length)
        return length.takeError();
      settings.taskLength = *length;
    }
    auto examples = commandLine.getInt("--task-examples", settings.taskExamples, 1, 1 << 24);
    if (!examples)
      return examples.takeError();
    settings.taskExamples = *examples;
    settings.dumpTaskData = commandLine.get("--dump-task-data");
  } else {
    settings.dataPath = *commandLine.get("--data");
    for (const char *taskOnly : {"--task-length", "--task-examples", "--dump-task-data"})
      if (commandLine.has(taskOnly))
        return Error::user(std::string("option '") + taskOnly + "' applies only with --task");
  }
  if (commandLine.has("--report"))
    return Error::user("option '--report' belongs to rnnc run --grad, which prints what the "
                       "forward saves for a given batch; rnnc train does not print it");
  auto pipeline = pipelineOptions(commandLine, true);
  if (!pipeline)
    return pipeline.takeError();
  settings.pipeline = *pipeline;

  if (!commandLine.has("--steps") && !commandLine.has("--minutes") && !settings.dumpTaskData)
    return Error::user("give the length of the run: --steps N, --minutes M, or both");
  if (commandLine.has("--steps")) {
    auto steps = commandLine.getInt("--steps", 0, 1, 1LL << 40);
    if (!steps)
      return steps.takeError();
    settings.steps = *steps;
  }
  if (commandLine.has("--minutes")) {
    auto minutes = positiveReal(commandLine, "--minutes", 0);
    if (!minutes)
      return minutes.takeError();
    settings.minutes = *minutes;
  }
  struct IntegerOption {
    const char *name;
    int64_t *value;
    long long min, max;
  };
  for (IntegerOption option : {IntegerOption{"--batch", &settings.batch, 1, 1 << 16},
                               IntegerOption{"--seq", &settings.sequence, 1, 1 << 20},
                               IntegerOption{"--eval-every", &settings.evalEvery, 1, 1LL << 40},
                               IntegerOption{"--threads", &settings.threads, 1, 256}}) {
    auto value = commandLine.getInt(option.name, *option.value, option.min, option.max);
    if (!value)
      return value.takeError();
    *option.value = *value;
  }
  if (commandLine.has("--val-chars")) {
    auto characters = commandLine.getInt("--val-chars", 0, 2, 1LL << 40);
    if (!characters)
      return characters.takeError();
    settings.validationCharacters = *characters;
  }

  std::string optimizer = commandLine.get("--optimizer").value_or("adam");
  if (optimizer != "adam" && optimizer != "sgd")
    return Error::user("option '--optimizer' expects adam or sgd, got '" + optimizer + "'");
  settings.optimizer.kind = optimizer == "sgd" ? OptimizerKind::Sgd : OptimizerKind::Adam;
  if (settings.optimizer.kind == OptimizerKind::Adam && commandLine.has("--momentum"))
    return Error::user("option '--momentum' applies only with --optimizer sgd");
  auto momentum = commandLine.getReal("--momentum", 0.9);
  if (!momentum)
    return momentum.takeError();
  if (!(*momentum >= 0 && *momentum < 1))
    return Error::user("option '--momentum' must be in [0, 1), got " +
                       *commandLine.get("--momentum"));
  settings.optimizer.momentum = *momentum;

  auto learningRate = positiveReal(commandLine, "--lr",
                                   settings.optimizer.kind == OptimizerKind::Adam ? 2e-3 : 0.1);
  if (!learningRate)
    return learningRate.takeError();
  auto minimumRate = positiveReal(commandLine, "--lr-min", *learningRate / 10, true);
  if (!minimumRate)
    return minimumRate.takeError();
  if (*minimumRate > *learningRate)
    return Error::user("option '--lr-min' must not exceed the learning rate " +
                       commandLine.get("--lr").value_or(std::to_string(*learningRate)));
  auto warmup = commandLine.getInt("--warmup", 0, 0, 1LL << 40);
  if (!warmup)
    return warmup.takeError();
  auto decayEnd = commandLine.getInt("--decay-steps", settings.steps.value_or(0), 1, 1LL << 40);
  if (!decayEnd)
    return decayEnd.takeError();
  settings.schedule = {*learningRate, *minimumRate, *warmup, *decayEnd};
  auto clip = positiveReal(commandLine, "--clip", 1, true);
  if (!clip)
    return clip.takeError();
  settings.clip = *clip;

  if (commandLine.has("--seed")) {
    auto seed = commandLine.getInt("--seed", 0, 0, std::numeric_limits<long long>::max());
    if (!seed)
      return seed.takeError();
    settings.seed = uint64_t(*seed);
  }
  settings.savePath = commandLine.get("--save");
  settings.resumePath = commandLine.get("--resume");
  settings.logPath = commandLine.get("--log");
  settings.plotPath = commandLine.get("--plot");
  if (settings.plotPath && !isPlotFile(*settings.plotPath))
    return Error::user("option '--plot' writes an SVG or PNG image: give a file name ending in "
                       ".svg or .png, got '" +
                       *settings.plotPath + "'");
  settings.backend = commandLine.get("--backend").value_or("interp");
  return std::optional<TrainSettings>(std::move(settings));
}

/// A TokenBatch of text under the character model's names.
TrainingBatch textBatch(const CharacterModel &model, TokenBatch tokens) {
  TrainingBatch batch;
  batch.data = {{model.input, std::move(tokens.inputs)}, {model.target, std::move(tokens.targets)}};
  if (tokens.lengths) {
    auto lengths = tokens.lengths->values<int32_t>();
    batch.lengths[model.axis] = std::vector<int64_t>(lengths.begin(), lengths.end());
  }
  batch.items = batch.steps = tokens.predictedCharacters;
  return batch;
}

/// Everything a run works on, set up from the settings (and the checkpoint to resume from).
struct TrainingSetup {
  TrainingGraphs graphs;
  // Text (--data):
  CharacterModel model;
  Vocabulary vocabulary;
  TextSplit split;
  // A task (--task):
  std::optional<BoundTask> task;
  std::vector<TaskExample> heldOutExamples;
  /// The held-out batches: text windows, or the held-out examples of a task.
  std::vector<TrainingBatch> evaluation;
  int64_t heldOutItems = 0; ///< Characters, or a task's examples.
  TensorMap params;
  Optimizer optimizer{OptimizerSettings{}};
  TrainingHistory history;
  uint64_t seed = 0;
  int64_t step = 0;
  /// One backend per thread: the Backend interface does not promise that one instance may run
  /// graphs concurrently (a compiled backend keeps its workspace), so threads never share one.
  std::vector<std::unique_ptr<backend::Backend>> backends;

  /// The batch of `size` items (windows or examples) drawn from `rng` for a training step.
  TrainingBatch draw(Rng &rng, int64_t size, int64_t sequence) const {
    if (task)
      return task->pack(task->examples(rng, size));
    return textBatch(model, randomWindows(split.train, size, sequence, rng));
  }
};

/// The batch of step `step` of a task, as a safetensors file in the layout of `rnnc data`
/// (inputs, targets and lengths tensors), so that it can be inspected and fed to `rnnc run`.
Status dumpTaskBatch(const TrainingSetup &setup, const TrainSettings &settings,
                     const ir::Graph &forward, const ir::Module &module) {
  Rng rng(parameterSeed(setup.seed, "batch.1"));
  TrainingBatch batch = setup.draw(rng, settings.batch, 0);
  TensorMap tensors = batch.data;
  std::vector<std::string> axes = timeAxes(forward);
  for (const auto &[axis, lengths] : batch.lengths) {
    std::vector<int32_t> values(lengths.begin(), lengths.end());
    tensors.emplace(lengthsName(axes, axis),
                    Tensor::fromValues<int32_t>({int64_t(values.size())}, values));
  }
  SafetensorsMetadata metadata = modelMetadata(module);
  metadata["task"] = settings.task->name;
  metadata["seed"] = std::to_string(setup.seed);
  return writeSafetensors(*settings.dumpTaskData, tensors, metadata);
}

/// Text: reads the corpus, checks the vocabulary against a resumed checkpoint and sets the
/// model's vocabulary dim in `dims`.
Expected<std::u32string> setUpText(TrainingSetup &setup, const TrainSettings &settings,
                                   const std::optional<Checkpoint> &resumed,
                                   std::map<std::string, long long> &dims) {
  auto corpus = readTextCorpus(settings.dataPath);
  if (!corpus)
    return corpus.takeError();
  setup.vocabulary = Vocabulary::fromText(*corpus);
  if (resumed) {
    auto saved = Vocabulary::fromCharacters(resumed->vocabulary, *settings.resumePath);
    if (!saved)
      return saved.takeError();
    if (!(*saved == setup.vocabulary))
      return Error::user("the vocabulary of '" + settings.dataPath + "' (" +
                         std::to_string(setup.vocabulary.size()) +
                         " characters) differs from that of the checkpoint '" +
                         *settings.resumePath + "' (" + std::to_string(saved->size()) +
                         "): resume on the corpus it was trained on");
  }
  auto model = findCharacterModel(settings.modelPath, dims);
  if (!model)
    return model.takeError();
  setup.model = *model;
  const std::string &vocabularyDim = setup.model.vocabularyDim;
  if (auto given = settings.dims.find(vocabularyDim);
      given != settings.dims.end() && given->second != setup.vocabulary.size())
    return Error::user("-D " + vocabularyDim + "=" + std::to_string(given->second) +
                       " conflicts with the corpus: " + vocabularyDim +
                       " is the vocabulary size, here " + std::to_string(setup.vocabulary.size()) +
                       " characters");
  dims[vocabularyDim] = setup.vocabulary.size();
  return corpus.take();
}

/// Text: the held-out split and its evaluation batches.
Status splitText(TrainingSetup &setup, const TrainSettings &settings,
                 const std::u32string &corpus) {
  auto ids = setup.vocabulary.encode(corpus, settings.dataPath);
  if (!ids)
    return ids.takeError();
  setup.split = splitHeldOut(*ids);
  if (setup.split.heldOut.size() < 2)
    return Error::user("the held-out text (the last 5% of '" + settings.dataPath + "') has " +
                       std::to_string(setup.split.heldOut.size()) +
                       (setup.split.heldOut.size() == 1 ? " character" : " characters") +
                       "; measuring bits per character needs at least 2, so the corpus needs "
                       "at least 40 characters");
  if (int64_t(setup.split.train.size()) <= settings.sequence)
    return Error::user("the training text has " + std::to_string(setup.split.train.size()) +
                       " characters; --seq " + std::to_string(settings.sequence) +
                       " needs at least " + std::to_string(settings.sequence + 1) +
                       " (use a shorter --seq or more text)");
  std::span<const int32_t> heldOut = setup.split.heldOut;
  if (settings.validationCharacters)
    heldOut = heldOut.first(std::min(heldOut.size(), size_t(*settings.validationCharacters)));
  setup.heldOutItems = int64_t(heldOut.size());
  for (TokenBatch &batch : evaluationBatches(heldOut, settings.batch, settings.sequence))
    setup.evaluation.push_back(textBatch(setup.model, std::move(batch)));
  return Status::ok();
}

/// A task: binds it to the model and draws the held-out examples (from their own generator, so
/// they do not depend on the batch size or the number of steps).
Status setUpTask(TrainingSetup &setup, const TrainSettings &settings,
                 const std::map<std::string, long long> &dims) {
  auto module = loadModule(settings.modelPath, dims);
  if (!module)
    return module.takeError();
  auto task = BoundTask::bind(*settings.task, module.take(), settings.taskLength);
  if (!task)
    return task.takeError();
  setup.task = task.take();
  Rng rng(parameterSeed(setup.seed, "task.held-out"));
  setup.heldOutExamples = setup.task->examples(rng, settings.taskExamples);
  setup.heldOutItems = int64_t(setup.heldOutExamples.size());
  std::span<const TaskExample> examples = setup.heldOutExamples;
  for (size_t first = 0; first < examples.size(); first += size_t(settings.batch))
    setup.evaluation.push_back(setup.task->pack(
        examples.subspan(first, std::min(examples.size() - first, size_t(settings.batch)))));
  setup.history.setTaskMetric(settings.task->metric == TaskMetric::Accuracy     ? "accuracy"
                              : settings.task->metric == TaskMetric::ExactMatch ? "exact_match"
                                                                                : "mse");
  return Status::ok();
}

/// The setup of a run, or nullopt after --dump-task-data wrote its file.
Expected<std::optional<TrainingSetup>> setUpTraining(const TrainSettings &settings) {
  TrainingSetup setup;
  std::optional<Checkpoint> resumed;
  std::map<std::string, long long> dims = settings.dims;
  if (settings.resumePath) {
    auto checkpoint = readCheckpoint(*settings.resumePath);
    if (!checkpoint)
      return checkpoint.takeError();
    resumed = checkpoint.take();
    for (const auto &[name, value] : resumed->dims)
      dims.emplace(name, value);
    std::string task = settings.task ? settings.task->name : "";
    if (resumed->task != task)
      return Error::user(
          "the checkpoint '" + *settings.resumePath + "' was trained on " +
          (resumed->task.empty() ? "text (--data)" : "task '" + resumed->task + "'") + ", not on " +
          (task.empty() ? "text" : "task '" + task + "'"));
    if (settings.seed && *settings.seed != resumed->seed)
      return Error::user("--seed " + std::to_string(*settings.seed) +
                         " differs from the seed of the checkpoint (" +
                         std::to_string(resumed->seed) +
                         "): a resumed run continues the checkpoint's sequence of batches");
  }
  setup.seed = resumed ? resumed->seed : settings.seed.value_or(0);

  std::u32string corpus;
  if (settings.task) {
    if (Status status = setUpTask(setup, settings, dims); !status)
      return status.takeError();
  } else {
    auto text = setUpText(setup, settings, resumed, dims);
    if (!text)
      return text.takeError();
    corpus = text.take();
  }
  auto module = loadModule(settings.modelPath, dims);
  if (!module)
    return module.takeError();

  // Parameters come from the forward graph before training strips it to the loss, which drops
  // any parameter the loss does not read.
  auto forward = findGraph(**module, "forward");
  if (!forward)
    return forward.takeError();
  if (settings.dumpTaskData) {
    if (Status dumped = dumpTaskBatch(setup, settings, **forward, **module); !dumped)
      return dumped.takeError();
    return std::optional<TrainingSetup>();
  }
  if (resumed) {
    if (Status checked = checkParameters(**forward, resumed->params, *settings.resumePath);
        !checked)
      return checked.takeError();
    for (auto &[name, tensor] : resumed->params)
      if (tensor.dtype() != DType::F32)
        return Error::user(*settings.resumePath + ": parameter '" + name + "' must be F32");
    setup.params = std::move(resumed->params);
    setup.step = resumed->step;
  } else {
    auto params = initializeParameters(**forward, setup.seed, DType::F32);
    if (!params)
      return params.takeError();
    setup.params = params.take();
  }
  auto graphs = buildTrainingGraphs(module.take(), settings.pipeline);
  if (!graphs)
    return graphs.takeError();
  setup.graphs = graphs.take();

  setup.optimizer = Optimizer(settings.optimizer);
  if (resumed) {
    std::string kind = optimizerName(settings.optimizer.kind);
    if (resumed->optimizer != kind)
      return Error::user("the checkpoint '" + *settings.resumePath + "' holds " +
                         resumed->optimizer + " state, but this run uses --optimizer " + kind);
    if (Status loaded = setup.optimizer.loadState(std::move(resumed->optimizerState), setup.params);
        !loaded)
      return Error::user(*settings.resumePath + ": " + loaded.error().message);
    std::string metric = setup.history.taskMetric();
    setup.history = TrainingHistory::fromTensor(resumed->history);
    setup.history.setTaskMetric(metric);
  }
  if (settings.steps && setup.step >= *settings.steps)
    return Error::user("the checkpoint is at step " + std::to_string(setup.step) + ", so --steps " +
                       std::to_string(*settings.steps) +
                       " leaves nothing to do (--steps counts from the start of training)");
  if (!settings.task)
    if (Status split = splitText(setup, settings, corpus); !split)
      return split.takeError();

  for (int64_t thread = 0; thread < settings.threads; ++thread) {
    auto backend = backend::createBackend(settings.backend);
    if (!backend)
      return backend.takeError();
    setup.backends.push_back(backend.take());
  }
  return std::optional<TrainingSetup>(std::move(setup));
}

/// The one element of a scalar output as a double.
double scalarValue(const Tensor &tensor) {
  Tensor value = tensor.convert(DType::F64);
  return value.values<double>()[0];
}

/// Runs `task(i, thread)` for every i in [0, count) on up to `threads` threads (the calling
/// thread is thread 0; thread k runs i = k, k + threads, …) and returns the first error in index
/// order.
Status runConcurrently(size_t count, int64_t threads,
                       const std::function<Status(size_t, size_t)> &task) {
  std::vector<Status> results(count);
  auto worker = [&](size_t first) {
    for (size_t i = first; i < count; i += size_t(threads)) {
      try {
        results[i] = task(i, first);
      } catch (const std::bad_alloc &) { // runSubcommand catches it on the main thread only
        results[i] = Error::user("out of memory");
      }
    }
  };
  std::vector<std::thread> helpers;
  for (size_t first = 1; first < std::min(count, size_t(threads)); ++first)
    helpers.emplace_back(worker, first);
  worker(0);
  for (std::thread &helper : helpers)
    helper.join();
  for (Status &result : results)
    if (!result)
      return result;
  return Status::ok();
}

/// One run of a graph and its outputs.
struct GraphRun {
  ir::Batch batch;
  TensorMap outputs;
};

/// Fills `run` for `chunk` and runs `graph` on it with `backend`.
Status runOnChunk(TrainingSetup &setup, backend::Backend &backend, const ir::Graph &graph,
                  const TrainingBatch &chunk, GraphRun &run) {
  run.batch.params = &setup.params;
  run.batch.data = &chunk.data;
  run.batch.lengths = chunk.lengths;
  ir::RunOptions options;
  options.precision = ir::Precision::Float;
  auto outputs = backend.run(graph, run.batch, options);
  if (!outputs)
    return outputs.takeError();
  run.outputs = outputs.take();
  return Status::ok();
}

/// The held-out loss of the model on the evaluation batches, per item (summed in batch order,
/// so the result does not depend on the number of threads): bits per character for text, nats
/// per item for a task.
Expected<double> heldOutLoss(TrainingSetup &setup, int64_t threads) {
  std::vector<GraphRun> runs(setup.evaluation.size());
  auto evaluate = [&](size_t i, size_t thread) {
    return runOnChunk(setup, *setup.backends[thread], *setup.graphs.forward, setup.evaluation[i],
                      runs[i]);
  };
  if (Status status = runConcurrently(runs.size(), threads, evaluate); !status)
    return status.takeError();
  double nats = 0;
  int64_t items = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    nats += scalarValue(runs[i].outputs.at("loss"));
    items += setup.evaluation[i].items;
  }
  return nats / double(items) / (setup.task ? 1 : std::numbers::ln2);
}

/// What one training step measured.
struct StepResult {
  double loss = 0;         ///< Nats per character.
  double gradientNorm = 0; ///< Before clipping.
  double learningRate = 0;
  int64_t steps = 0; ///< Time steps of the batch.
};

/// One step: a batch, the loss and gradients, clipping and the update. With several threads the
/// batch is split into one shard per thread (data parallelism) and the shards' sums are added
/// in shard order. A non-finite value is a user error naming the step and tensor; the
/// parameters and optimizer state are then as before the step.
Expected<StepResult> trainingStep(TrainingSetup &setup, const TrainSettings &settings,
                                  int64_t step) {
  // Drawing the shards one after the other from one generator gives the windows of the whole
  // batch, whatever the number of shards.
  Rng rng(parameterSeed(setup.seed, "batch." + std::to_string(step)));
  int64_t shards = std::min(settings.threads, settings.batch);
  std::vector<TrainingBatch> windows;
  int64_t items = 0, steps = 0;
  for (int64_t shard = 0; shard < shards; ++shard) {
    int64_t size = settings.batch / shards + (shard < settings.batch % shards ? 1 : 0);
    windows.push_back(setup.draw(rng, size, settings.sequence));
    items += windows.back().items;
    steps += windows.back().steps;
  }
  std::vector<GraphRun> runs(windows.size());
  auto differentiate = [&](size_t i, size_t thread) {
    return runOnChunk(setup, *setup.backends[thread], *setup.graphs.backward, windows[i], runs[i]);
  };
  if (Status status = runConcurrently(runs.size(), shards, differentiate); !status)
    return status.takeError();

  std::string where = "step " + std::to_string(step) + ": ";
  double perItem = 1.0 / double(items);
  StepResult result;
  result.steps = steps;
  for (const GraphRun &run : runs)
    result.loss += scalarValue(run.outputs.at("loss"));
  result.loss *= perItem;
  if (!std::isfinite(result.loss))
    return Error::user(where + "the training loss is " + std::to_string(result.loss));
  // The graph's gradients are sums over the batch: average them like the loss. A parameter
  // the loss does not read has no gradient output; its gradient is zero.
  TensorMap gradients;
  for (const auto &[name, param] : setup.params) {
    std::vector<double> sums(size_t(param.numElements()));
    for (const GraphRun &run : runs)
      if (auto gradient = run.outputs.find("grad." + name); gradient != run.outputs.end()) {
        auto values = gradient->second.values<float>();
        for (size_t i = 0; i < sums.size(); ++i)
          sums[i] += double(values[i]);
      }
    Tensor &mean = gradients.emplace(name, Tensor(param.dtype(), param.shape())).first->second;
    auto values = mean.values<float>();
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = float(sums[i] * perItem);
  }
  if (Status finite = checkFinite(gradients, where + "the gradient of "); !finite)
    return finite.takeError();
  result.gradientNorm =
      settings.clip > 0 ? clipGlobalNorm(gradients, settings.clip) : globalNorm(gradients);
  result.learningRate = settings.schedule.at(step);

  TensorMap previousParams = setup.params;
  Optimizer previousOptimizer = setup.optimizer;
  if (Status updated = setup.optimizer.step(setup.params, gradients, result.learningRate); !updated)
    return updated.takeError();
  if (Status finite = checkFinite(setup.params, where + "after the update, parameter "); !finite) {
    setup.params = std::move(previousParams);
    setup.optimizer = std::move(previousOptimizer);
    return finite.takeError();
  }
  return result;
}

Status saveCheckpoint(const TrainingSetup &setup, const TrainSettings &settings, int64_t step) {
  Checkpoint checkpoint;
  checkpoint.params = setup.params;
  checkpoint.optimizer = optimizerName(settings.optimizer.kind);
  checkpoint.optimizerState = setup.optimizer.state();
  checkpoint.vocabulary = setup.vocabulary.characters();
  if (settings.task)
    checkpoint.task = settings.task->name;
  checkpoint.step = step;
  checkpoint.seed = setup.seed;
  checkpoint.history = setup.history.toTensor();
  return writeCheckpoint(*settings.savePath, checkpoint, *setup.graphs.module);
}

Status writeLogs(const TrainingSetup &setup, const TrainSettings &settings) {
  if (settings.logPath)
    if (Status written = setup.history.writeCsv(*settings.logPath); !written)
      return written;
  if (settings.plotPath)
    return setup.history.writePlot(
        *settings.plotPath,
        setup.graphs.module->name() + " on " +
            (settings.task ? "task " + settings.task->name : settings.dataPath));
  return Status::ok();
}

std::string withThousands(int64_t value) {
  std::string digits = std::to_string(value), grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

std::string dimsText(const ir::Module &module) {
  std::string text;
  for (const auto &[name, value] : module.dims())
    text += (text.empty() ? "" : ", ") + name + "=" + std::to_string(value);
  return text;
}

int64_t parameterCount(const TensorMap &params) {
  int64_t count = 0;
  for (const auto &entry : params)
    count += entry.second.numElements();
  return count;
}

/// Trains; sets `interrupted` when Ctrl-C stopped the run.
Status trainCommand(const std::vector<std::string> &args, bool &interrupted) {
  auto parsed = parseTrainCommandLine(args);
  if (!parsed)
    return parsed.takeError();
  if (!*parsed)
    return Status::ok();
  const TrainSettings &settings = **parsed;
  auto prepared = setUpTraining(settings);
  if (!prepared)
    return prepared.takeError();
  if (!*prepared)
    return Status::ok(); // --dump-task-data
  TrainingSetup &setup = **prepared;

  ProgressDisplay display(isatty(STDERR_FILENO));
  if (setup.task)
    display.message("task " + settings.task->name +
                    (setup.task->length() ? " (L=" + std::to_string(setup.task->length()) + ")"
                                          : std::string()) +
                    ": " + settings.task->summary + "; " + withThousands(setup.heldOutItems) +
                    " held-out examples");
  else
    display.message("corpus " + settings.dataPath + ": " +
                    withThousands(int64_t(setup.split.train.size() + setup.split.heldOut.size())) +
                    " characters, " + std::to_string(setup.vocabulary.size()) +
                    " distinct; training on " + withThousands(int64_t(setup.split.train.size())) +
                    ", validating on " + withThousands(setup.heldOutItems));
  display.message(
      "model " + setup.graphs.module->name() + " (" + dimsText(*setup.graphs.module) +
      "): " + withThousands(parameterCount(setup.params)) + " parameters; " +
      optimizerName(settings.optimizer.kind) + ", batch " + std::to_string(settings.batch) +
      (setup.task ? "" : " x " + std::to_string(settings.sequence)) + ", backend " +
      setup.backends[0]->name() +
      (settings.threads > 1 ? " on " + std::to_string(settings.threads) + " threads" : "") +
      (setup.step > 0 ? "; resuming at step " + std::to_string(setup.step) : ""));

  InterruptHandler interruptHandler;
  auto start = std::chrono::steady_clock::now();
  auto secondsSince = [](std::chrono::steady_clock::time_point from) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - from).count();
  };
  ProgressState progress;
  progress.step = setup.step;
  progress.lastStep = settings.steps;
  if (settings.minutes)
    progress.budgetSeconds = *settings.minutes * 60;
  progress.validationBpc = std::numeric_limits<double>::quiet_NaN();
  progress.characters = !setup.task;
  progress.metricName = setup.history.taskMetric();
  progress.metric = std::numeric_limits<double>::quiet_NaN();
  std::optional<TaskScore> score;
  int64_t scoredStep = 0;
  double lossSum = 0, trainingSeconds = 0;
  int64_t lossCount = 0, stepsRun = 0, timeStepsRun = 0;

  auto failAfterSaving = [&](const Error &error) -> Status {
    display.finish();
    std::string saved = " (no --save, so nothing was saved)";
    if (settings.savePath) {
      if (Status status = saveCheckpoint(setup, settings, setup.step); !status)
        return status;
      saved = "; the last good state (step " + std::to_string(setup.step) + ") is saved in '" +
              *settings.savePath + "'";
    }
    if (Status status = writeLogs(setup, settings); !status)
      return status;
    return Error::user(error.message + "; training stopped" + saved);
  };
  // A task's metric on the held-out examples with the current parameters.
  auto scoreTask = [&]() -> Status {
    auto scored =
        setup.task->score(*setup.backends[0], setup.params, setup.heldOutExamples, settings.batch);
    if (!scored)
      return scored.takeError();
    score = scored.take();
    scoredStep = setup.step;
    return Status::ok();
  };
  auto evaluateAndSave = [&]() -> Status {
    auto loss = heldOutLoss(setup, settings.threads);
    if (!loss)
      return loss.takeError();
    setup.history.last().validation = *loss;
    progress.validationBpc = *loss;
    if (setup.task) {
      if (Status scored = scoreTask(); !scored)
        return scored;
      setup.history.last().metric = progress.metric = score->value;
    }
    progress.trainLoss = lossSum / double(std::max<int64_t>(1, lossCount));
    lossSum = 0;
    lossCount = 0;
    display.report(progress);
    if (settings.savePath)
      if (Status status = saveCheckpoint(setup, settings, setup.step); !status)
        return status;
    return writeLogs(setup, settings);
  };

  while (!(settings.steps && setup.step >= *settings.steps) &&
         !(progress.budgetSeconds && secondsSince(start) >= *progress.budgetSeconds) &&
         !interruptRequested) {
    auto stepStart = std::chrono::steady_clock::now();
    auto result = trainingStep(setup, settings, setup.step + 1);
    if (!result)
      return result.error().kind == ErrorKind::User ? failAfterSaving(result.error())
                                                    : result.takeError();
    double stepSeconds = secondsSince(stepStart);
    ++setup.step;
    ++stepsRun;
    trainingSeconds += stepSeconds;
    lossSum += result->loss;
    ++lossCount;
    TrainingRecord record;
    record.step = setup.step;
    record.trainLoss = result->loss;
    record.learningRate = result->learningRate;
    record.gradientNorm = result->gradientNorm;
    record.tokensPerSecond = double(result->steps) / stepSeconds;
    setup.history.add(record);

    progress.step = setup.step;
    progress.elapsedSeconds = secondsSince(start);
    progress.secondsPerStep = progress.elapsedSeconds / double(stepsRun);
    progress.trainLoss = lossSum / double(lossCount);
    timeStepsRun += result->steps;
    progress.tokensPerSecond = double(timeStepsRun) / trainingSeconds;
    if (setup.step % settings.evalEvery == 0)
      if (Status status = evaluateAndSave(); !status)
        return status;
    display.update(progress);
  }

  interrupted = interruptRequested != 0;
  if (interrupted) {
    display.message("interrupted at step " + std::to_string(setup.step));
  } else if (stepsRun > 0 && !setup.history.records().back().hasValidation()) {
    if (Status status = evaluateAndSave(); !status)
      return status;
  }
  if (interrupted || stepsRun == 0) {
    if (settings.savePath)
      if (Status status = saveCheckpoint(setup, settings, setup.step); !status)
        return status;
    if (Status status = writeLogs(setup, settings); !status)
      return status;
  }
  display.finish();

  const auto &records = setup.history.records();
  auto lastEvaluated = std::find_if(records.rbegin(), records.rend(),
                                    [](const TrainingRecord &r) { return r.hasValidation(); });
  std::cout << "trained to step " << setup.step << " in " << formatDuration(secondsSince(start))
            << " (" << std::lround(progress.tokensPerSecond) << " tokens/s)\n";
  if (lastEvaluated != records.rend() && !setup.task) {
    char bits[32];
    std::snprintf(bits, sizeof bits, "%.4f", lastEvaluated->validation);
    std::cout << "validation: " << bits << " bits/char on " << withThousands(setup.heldOutItems)
              << " held-out characters (step " << lastEvaluated->step << ")\n";
  }
  if (lastEvaluated != records.rend() && setup.task) {
    char loss[32];
    std::snprintf(loss, sizeof loss, "%.4f", lastEvaluated->validation);
    std::cout << "validation: loss " << loss << " per item on " << withThousands(setup.heldOutItems)
              << " held-out examples (step " << lastEvaluated->step << ")\n";
    if (!score) // evaluated before a --resume: score the restored parameters now
      if (Status scored = scoreTask(); !scored)
        return scored;
    std::cout << "metric: " << score->summary << " (step " << scoredStep
              << (score->detail.empty() ? "" : "; " + score->detail) << ")\n";
    if (!score->example.empty())
      std::cout << score->example << "\n";
  }
  if (settings.savePath)
    std::cout << "checkpoint: " << *settings.savePath << "\n";
  return Status::ok();
}

int runTrain(const std::vector<std::string> &args) {
  bool interrupted = false;
  int status = runSubcommand([&] { return trainCommand(args, interrupted); });
  // Like a program killed by SIGINT (128 + 2), so scripts see that the run did not finish.
  return status == 0 && interrupted ? 130 : status;
}

} // namespace

RNNC_REGISTER_COMMAND("train", "train a character-level language model on a text corpus", runTrain);

} // namespace rnnc::driver
