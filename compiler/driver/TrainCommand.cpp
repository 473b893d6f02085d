// `rnnc train`: the command line of training (compiler/model/Trainer.h does the training): its
// flags, the files it writes beside the checkpoint (the CSV log and the plot, TrainingLog.h), and
// what it prints: the corpus or task and the model before the run, the compile of the JIT
// (`compiling… 1.2 s`: done before the first step, so not counted in its time, the tokens/s or
// --minutes), the progress while it runs (TrainingProgress.h), and the result after. Without
// --backend it trains on the JIT when the JIT can run the model (else on the interpreter, with a
// note saying why), on every core unless --threads says otherwise. The data, steps, evaluation and checkpoints are
// the Trainer's, as docs/training.md describes them.
//   - Ctrl-C stops after the current step, saves, and exits with status 130; a non-finite loss,
//     gradient or parameter stops with an error naming the step and tensor after saving the
//     last good state.
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelCommand.h"
#include "compiler/driver/PipelineFlags.h"
#include "compiler/driver/TrainingLog.h"
#include "compiler/driver/TrainingProgress.h"
#include "compiler/model/Trainer.h"
#include "runtime/Optimizer.h"
#include "runtime/SyntheticTasks.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <limits>
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

/// The run (the Trainer's options) and the files the command writes beside the checkpoint.
struct TrainSettings {
  model::TrainerOptions trainer;
  std::optional<std::string> logPath, plotPath;
  PlotScale plotScale = PlotScale::Auto;
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

/// The options of a data set (--data FILE.safetensors or a directory of them): the held-out
/// examples and --epochs; each is an error with other data, as are text's --seq and --val-chars
/// with a data set.
Status parseDatasetOptions(const CommandLine &commandLine, model::TrainerOptions &trainer) {
  const char *datasetOnly[] = {"--val", "--val-fraction", "--epochs"};
  if (trainer.task || !model::isDatasetPath(trainer.dataPath)) {
    for (const char *option : datasetOnly)
      if (commandLine.has(option))
        return Error::user(std::string("option '") + option +
                           "' applies to a data set (--data FILE.safetensors or a directory of "
                           "them)");
    return Status::ok();
  }
  for (const char *textOnly : {"--seq", "--val-chars"})
    if (commandLine.has(textOnly))
      return Error::user(std::string("option '") + textOnly +
                         "' applies to text; the examples of a data set have their own lengths");
  if (commandLine.has("--val") && commandLine.has("--val-fraction"))
    return Error::user("give the held-out examples with --val PATH or --val-fraction F, not both");
  trainer.validationPath = commandLine.get("--val");
  auto fraction = commandLine.getReal("--val-fraction", trainer.validationFraction);
  if (!fraction)
    return fraction.takeError();
  if (!(*fraction > 0 && *fraction < 1))
    return Error::user("option '--val-fraction' must be in (0, 1), got " +
                       *commandLine.get("--val-fraction"));
  trainer.validationFraction = *fraction;
  if (commandLine.has("--epochs")) {
    if (commandLine.has("--steps"))
      return Error::user("give the length of the run in --epochs or in --steps, not both");
    auto epochs = commandLine.getInt("--epochs", 1, 1, 1 << 30);
    if (!epochs)
      return epochs.takeError();
    trainer.epochs = *epochs;
  }
  return Status::ok();
}

/// The settings of a run, or nullopt when --help was printed.
Expected<std::optional<TrainSettings>> parseTrainCommandLine(const std::vector<std::string> &args) {
  CommandLine commandLine;
  declareDimOverrides(commandLine);
  declarePipelineFlags(commandLine);
  commandLine
      .option("--data", "PATH",
              "a text file or a directory of text files; or a data set: FILE.safetensors or a "
              "directory of them")
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
      .option("--decay-minutes", "M",
              "else end the cosine decay after M minutes of training (with --minutes M: the "
              "rate reaches --lr-min as time runs out, however fast the machine)")
      .option("--momentum", "MU", "momentum of sgd (default 0.9)")
      .option("--clip", "NORM", "clip the global gradient norm to NORM; 0: never (default 1)")
      .option("--seed", "S", "seed of the initial parameters and the batches (default 0)")
      .option("--eval-every", "N", "measure the held-out bits/char every N steps (default 100)")
      .option("--val-chars", "N", "measure on the first N held-out characters (default all)")
      .option("--save", "FILE", "checkpoint file, written at each evaluation and at the end")
      .option("--resume", "FILE", "continue from a checkpoint")
      .option("--params", "FILE", "start from these parameters (rnnc init, PyTorch: --rename)")
      .option("--log", "FILE", "CSV file of the loss curve, one line per step")
      .option("--plot", "FILE.svg|png", "SVG or PNG plot of the loss curves")
      .option("--val", "PATH", "a data set's held-out examples (a file or directory like --data)")
      .option("--val-fraction", "F", "else hold out this fraction of a data set (default 0.05)")
      .option("--epochs", "N", "train a data set for N passes over its examples")
      .flag("--stateful", "text: each batch row reads on where it stopped, from the state the "
                          "previous step ended in")
      .option("--plot-scale", "auto|log|linear",
              "the plot's loss axis (default auto: log when the loss spans decades)");
  declareRenameOption(commandLine);
  declareBackendOption(commandLine, "NAME", "jit when it can run the model, else interp");
  declareThreadsOption(commandLine, "split each batch over N threads");
  auto model = parseModelCommandLine(
      commandLine, args,
      "rnnc train MODEL (--data PATH | --task NAME) (--steps N | --minutes M) [--batch B] "
      "[--seq T] [--optimizer adam|sgd] [--lr LR] [--clip NORM] [--seed S] [--save FILE] "
      "[--resume FILE] [--log FILE.csv] [--plot FILE.svg|png] [--backend NAME] "
      "[-D NAME=VALUE]...\n       rnnc train MODEL --data DATA.safetensors [--val PATH | "
      "--val-fraction F] (--epochs N | --steps N | --minutes M) [options as above]");
  if (!model)
    return model.takeError();
  if (!*model)
    return std::optional<TrainSettings>();

  TrainSettings settings;
  settings.trainer.modelPath = (*model)->path;
  settings.trainer.dims = (*model)->dims;
  if (commandLine.has("--data") == commandLine.has("--task"))
    return Error::user("give the training data: --data PATH (a text corpus) or --task NAME (a "
                       "synthetic task: " +
                       taskNames() + "), one of them");
  if (commandLine.has("--task")) {
    std::string name = *commandLine.get("--task");
    settings.trainer.task = findTask(name);
    if (!settings.trainer.task)
      return Error::user("unknown task '" + name + "' (tasks: " + taskNames() + ")");
    for (const char *textOnly : {"--seq", "--val-chars"})
      if (commandLine.has(textOnly))
        return Error::user(std::string("option '") + textOnly +
                           "' applies to text (--data); a task sets its own lengths "
                           "(--task-length)");
    if (commandLine.has("--task-length")) {
      if (settings.trainer.task->defaultLength == 0)
        return Error::user("task '" + name + "' has no --task-length (the model sets its size)");
      auto length =
          commandLine.getInt("--task-length", 0, settings.trainer.task->minimumLength, 1 << 16);
      if (!length)
        return length.takeError();
      settings.trainer.taskLength = *length;
    }
    auto examples =
        commandLine.getInt("--task-examples", settings.trainer.taskExamples, 1, 1 << 24);
    if (!examples)
      return examples.takeError();
    settings.trainer.taskExamples = *examples;
    settings.trainer.dumpTaskData = commandLine.get("--dump-task-data");
  } else {
    settings.trainer.dataPath = *commandLine.get("--data");
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
  settings.trainer.pipeline = *pipeline;

  if (Status dataset = parseDatasetOptions(commandLine, settings.trainer); !dataset)
    return dataset.takeError();
  settings.trainer.stateful = commandLine.has("--stateful");
  if (settings.trainer.stateful &&
      (settings.trainer.task || model::isDatasetPath(settings.trainer.dataPath)))
    return Error::user("option '--stateful' applies to text: a text corpus given with --data");
  if (!commandLine.has("--steps") && !commandLine.has("--minutes") &&
      !commandLine.has("--epochs") && !settings.trainer.dumpTaskData)
    return Error::user(
        settings.trainer.task || !model::isDatasetPath(settings.trainer.dataPath)
            ? "give the length of the run: --steps N, --minutes M, or both"
            : "give the length of the run: --epochs N or --steps N, --minutes M, or both");
  if (commandLine.has("--steps")) {
    auto steps = commandLine.getInt("--steps", 0, 1, 1LL << 40);
    if (!steps)
      return steps.takeError();
    settings.trainer.steps = *steps;
  }
  if (commandLine.has("--minutes")) {
    auto minutes = positiveReal(commandLine, "--minutes", 0);
    if (!minutes)
      return minutes.takeError();
    settings.trainer.minutes = *minutes;
  }
  struct IntegerOption {
    const char *name;
    int64_t *value;
    long long min, max;
  };
  for (IntegerOption option :
       {IntegerOption{"--batch", &settings.trainer.batch, 1, 1 << 16},
        IntegerOption{"--seq", &settings.trainer.sequence, 1, 1 << 20},
        IntegerOption{"--eval-every", &settings.trainer.evalEvery, 1, 1LL << 40}}) {
    auto value = commandLine.getInt(option.name, *option.value, option.min, option.max);
    if (!value)
      return value.takeError();
    *option.value = *value;
  }
  auto threads = threadCount(commandLine);
  if (!threads)
    return threads.takeError();
  settings.trainer.threads = *threads;
  if (commandLine.has("--val-chars")) {
    auto characters = commandLine.getInt("--val-chars", 0, 2, 1LL << 40);
    if (!characters)
      return characters.takeError();
    settings.trainer.validationCharacters = *characters;
  }

  std::string optimizer = commandLine.get("--optimizer").value_or("adam");
  if (optimizer != "adam" && optimizer != "sgd")
    return Error::user("option '--optimizer' expects adam or sgd, got '" + optimizer + "'");
  settings.trainer.optimizer.kind = optimizer == "sgd" ? OptimizerKind::Sgd : OptimizerKind::Adam;
  if (settings.trainer.optimizer.kind == OptimizerKind::Adam && commandLine.has("--momentum"))
    return Error::user("option '--momentum' applies only with --optimizer sgd");
  auto momentum = commandLine.getReal("--momentum", 0.9);
  if (!momentum)
    return momentum.takeError();
  if (!(*momentum >= 0 && *momentum < 1))
    return Error::user("option '--momentum' must be in [0, 1), got " +
                       *commandLine.get("--momentum"));
  settings.trainer.optimizer.momentum = *momentum;

  auto learningRate = positiveReal(
      commandLine, "--lr", settings.trainer.optimizer.kind == OptimizerKind::Adam ? 2e-3 : 0.1);
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
  auto decayEnd =
      commandLine.getInt("--decay-steps", settings.trainer.steps.value_or(0), 1, 1LL << 40);
  if (!decayEnd)
    return decayEnd.takeError();
  settings.trainer.schedule = {*learningRate, *minimumRate, *warmup, *decayEnd};
  if (commandLine.has("--decay-minutes")) {
    if (commandLine.has("--decay-steps"))
      return Error::user("options '--decay-steps' and '--decay-minutes' cannot be combined");
    auto decayMinutes = positiveReal(commandLine, "--decay-minutes", 0);
    if (!decayMinutes)
      return decayMinutes.takeError();
    settings.trainer.schedule.decaySeconds = *decayMinutes * 60;
  }
  auto clip = positiveReal(commandLine, "--clip", 1, true);
  if (!clip)
    return clip.takeError();
  settings.trainer.clip = *clip;

  if (commandLine.has("--seed")) {
    auto seed = commandLine.getInt("--seed", 0, 0, std::numeric_limits<long long>::max());
    if (!seed)
      return seed.takeError();
    settings.trainer.seed = uint64_t(*seed);
  }
  settings.trainer.savePath = commandLine.get("--save");
  settings.trainer.resumePath = commandLine.get("--resume");
  settings.trainer.paramsPath = commandLine.get("--params");
  if (settings.trainer.paramsPath && settings.trainer.resumePath)
    return Error::user("options '--params' and '--resume' cannot be combined: a checkpoint "
                       "holds its parameters (--resume continues it exactly)");
  auto renames = parameterRenames(commandLine);
  if (!renames)
    return renames.takeError();
  if (!renames->empty() && !settings.trainer.paramsPath)
    return Error::user("option '--rename' applies only with --params");
  settings.trainer.renames = renames.take();
  settings.logPath = commandLine.get("--log");
  settings.plotPath = commandLine.get("--plot");
  if (settings.plotPath && !isPlotFile(*settings.plotPath))
    return Error::user("option '--plot' writes an SVG or PNG image: give a file name ending in "
                       ".svg or .png, got '" +
                       *settings.plotPath + "'");
  if (auto scale = commandLine.get("--plot-scale")) {
    auto parsed = parsePlotScale(*scale);
    if (!parsed)
      return Error::user("option '--plot-scale' expects auto, log or linear, got '" + *scale + "'");
    settings.plotScale = *parsed;
  }
  settings.trainer.backend = commandLine.get("--backend").value_or(""); // "": the Trainer's choice
  return std::optional<TrainSettings>(std::move(settings));
}

/// Writes the CSV log and the plot of `history`, as --log and --plot ask.
Status writeLogs(const model::TrainingHistory &history, const TrainSettings &settings,
                 const ir::Module &module) {
  const model::TrainerOptions &options = settings.trainer;
  if (settings.logPath)
    if (Status written = writeHistoryCsv(history, *settings.logPath); !written)
      return written;
  if (settings.plotPath)
    return writeHistoryPlot(history, *settings.plotPath,
                            module.name() + " on " +
                                (options.task ? "task " + options.task->name : options.dataPath),
                            settings.plotScale);
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

/// The lines printed before a run: the data, then the model and how it is trained.
void describeRun(const model::Trainer &trainer, ProgressDisplay &display) {
  const model::TrainerOptions &options = trainer.options();
  if (const model::Dataset *dataset = trainer.dataset())
    display.message("data set " + options.dataPath + ": " + withThousands(dataset->size()) +
                    " training examples in " + std::to_string(trainer.batchesPerEpoch()) +
                    " batches per epoch" +
                    (options.epochs ? " (" + std::to_string(*options.epochs) +
                                          (*options.epochs == 1 ? " epoch, " : " epochs, ") +
                                          std::to_string(*options.steps) + " steps)"
                                    : std::string()) +
                    "; " + withThousands(trainer.heldOutItems()) + " held-out examples" +
                    (options.validationPath ? " from " + *options.validationPath : std::string()));
  else if (const model::BoundTask *task = trainer.task())
    display.message(
        "task " + options.task->name +
        (task->length() ? " (L=" + std::to_string(task->length()) + ")" : std::string()) + ": " +
        options.task->summary + "; " + withThousands(trainer.heldOutItems()) +
        " held-out examples");
  else
    display.message(
        "corpus " + options.dataPath + ": " +
        withThousands(int64_t(trainer.split().train.size() + trainer.split().heldOut.size())) +
        " characters, " + std::to_string(trainer.vocabulary().size()) + " distinct; training on " +
        withThousands(int64_t(trainer.split().train.size())) + ", validating on " +
        withThousands(trainer.heldOutItems()));
  display.message(
      "model " + trainer.module().name() + " (" + dimsText(trainer.module()) +
      "): " + withThousands(parameterCount(trainer.params())) + " parameters; " +
      optimizerName(options.optimizer.kind) + ", batch " + std::to_string(options.batch) +
      (trainer.isText() ? " x " + std::to_string(options.sequence) : "") + ", backend " +
      trainer.backendName() +
      (options.threads > 1 ? " on " + std::to_string(options.threads) + " threads" : "") +
      (trainer.step() > 0 ? "; resuming at step " + std::to_string(trainer.step()) : ""));
}

/// The lines printed after a run: how far and how fast it trained, the last evaluation, a
/// task's metric, and the checkpoint.
Status summarizeRun(model::Trainer &trainer, const model::TrainingOutcome &outcome) {
  const model::TrainerOptions &options = trainer.options();
  const auto &records = trainer.history().records();
  auto lastEvaluated =
      std::find_if(records.rbegin(), records.rend(),
                   [](const model::TrainingRecord &r) { return r.hasValidation(); });
  std::cout << "trained to step " << trainer.step() << " in "
            << formatDuration(outcome.elapsedSeconds) << " ("
            << std::lround(outcome.tokensPerSecond) << " tokens/s)\n";
  if (lastEvaluated != records.rend() && trainer.isText()) {
    char bits[32];
    std::snprintf(bits, sizeof bits, "%.4f", lastEvaluated->validation);
    std::cout << "validation: " << bits << " bits/char on " << withThousands(trainer.heldOutItems())
              << " held-out characters (step " << lastEvaluated->step << ")\n";
  }
  if (lastEvaluated != records.rend() && !trainer.isText()) {
    char loss[32];
    std::snprintf(loss, sizeof loss, "%.4f", lastEvaluated->validation);
    std::cout << "validation: loss " << loss << " per item on "
              << withThousands(trainer.heldOutItems()) << " held-out examples (step "
              << lastEvaluated->step << ")\n";
    if (!trainer.score() && trainer.task()) // evaluated before a --resume: score it now
      if (Status scored = trainer.scoreTask(); !scored)
        return scored;
    if (const std::optional<model::TaskScore> &score = trainer.score()) {
      std::cout << "metric: " << score->summary << " (step " << trainer.scoredStep()
                << (score->detail.empty() ? "" : "; " + score->detail) << ")\n";
      if (!score->example.empty())
        std::cout << score->example << "\n";
    }
  }
  if (options.savePath)
    std::cout << "checkpoint: " << *options.savePath << "\n";
  return Status::ok();
}

/// Trains; sets `interrupted` when Ctrl-C stopped the run.
Status trainCommand(const std::vector<std::string> &args, bool &interrupted) {
  auto parsed = parseTrainCommandLine(args);
  if (!parsed)
    return parsed.takeError();
  if (!*parsed)
    return Status::ok();
  const TrainSettings &settings = **parsed;
  auto created = model::Trainer::create(settings.trainer);
  if (!created)
    return created.takeError();
  if (!*created)
    return Status::ok(); // --dump-task-data
  model::Trainer &trainer = **created;

  ProgressDisplay display(isatty(STDERR_FILENO));
  describeRun(trainer, display);
  if (!trainer.backendNotice().empty())
    display.message("note: " + trainer.backendNotice());
  if (trainer.backendName() != "interp") {
    auto seconds = trainer.compile();
    if (!seconds)
      return seconds.takeError();
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", *seconds);
    display.message(std::string("compiling… ") + text);
  }
  InterruptHandler interruptHandler;
  model::TrainerHooks hooks;
  hooks.stepped = [&](const model::ProgressState &progress) { display.update(progress); };
  hooks.evaluated = [&](const model::ProgressState &progress) { display.report(progress); };
  hooks.writeLogs = [&](const model::TrainingHistory &history) {
    return writeLogs(history, settings, trainer.module());
  };
  hooks.stopRequested = [] { return interruptRequested != 0; };
  auto outcome = trainer.run(hooks);
  display.finish();
  if (!outcome)
    return outcome.takeError();
  interrupted = outcome->stopped;
  if (interrupted)
    display.message("interrupted at step " + std::to_string(trainer.step()));
  return summarizeRun(trainer, *outcome);
}

int runTrain(const std::vector<std::string> &args) {
  bool interrupted = false;
  int status = runSubcommand([&] { return trainCommand(args, interrupted); });
  // Like a program killed by SIGINT (128 + 2), so scripts see that the run did not finish.
  return status == 0 && interrupted ? 130 : status;
}

} // namespace

RNNC_REGISTER_COMMAND("train", "train a model on text, a data set or a synthetic task", runTrain);

} // namespace rnnc::driver
