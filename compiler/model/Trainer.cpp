#include "compiler/model/Trainer.h"

#include "compiler/model/BackendRegistry.h"
#include "compiler/model/Checkpoint.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "compiler/model/OptimizerStep.h"
#include "compiler/model/Parameters.h"
#include "compiler/passes/DCE.h"
#include "runtime/Init.h"
#include "runtime/Safetensors.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <numbers>

namespace rnnc::model {

namespace {

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

/// The one element of a scalar output as a double.
double scalarValue(const Tensor &tensor) {
  Tensor value = tensor.convert(DType::F64);
  return value.values<double>()[0];
}

/// One run of a graph and its outputs.
struct GraphRun {
  ir::Batch batch;
  TensorMap outputs;
};

/// Fills `run` for `chunk` and runs `graph` on it with `backend`.
Status runOnChunk(const TensorMap &params, backend::Backend &backend, const ir::Graph &graph,
                  const TrainingBatch &chunk, GraphRun &run) {
  run.batch.params = &params;
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

/// Rows [first, first + count) of `tensor` (rows along the first axis).
Tensor rowsOf(const Tensor &tensor, int64_t first, int64_t count) {
  std::vector<int64_t> shape = tensor.shape();
  size_t rowBytes = tensor.byteSize() / size_t(shape[0]);
  shape[0] = count;
  Tensor rows(tensor.dtype(), shape);
  std::memcpy(rows.bytes(), tensor.bytes() + size_t(first) * rowBytes, rows.byteSize());
  return rows;
}

/// Stateful text: copies the final states of `runs` (parts of rows from firstRows) into
/// `carried`.
void keepFinalStates(const std::vector<passes::CarriedState> &states,
                     const std::vector<GraphRun> &runs, const std::vector<int64_t> &firstRows,
                     TensorMap &carried) {
  for (const passes::CarriedState &state : states) {
    Tensor &all = carried.at(state.input);
    size_t rowBytes = all.byteSize() / size_t(all.shape()[0]);
    for (size_t i = 0; i < runs.size(); ++i) {
      const Tensor &final = runs[i].outputs.at(state.output);
      std::memcpy(all.bytes() + size_t(firstRows[i]) * rowBytes, final.bytes(), final.byteSize());
    }
  }
}

double secondsSince(std::chrono::steady_clock::time_point from) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - from).count();
}

} // namespace

/// What one training step measured.
struct Trainer::StepResult {
  double loss = 0;         ///< Nats per character.
  double gradientNorm = 0; ///< Before clipping.
  double learningRate = 0;
  int64_t steps = 0; ///< Time steps of the batch.
};

TrainingBatch Trainer::draw(Rng &rng, int64_t size, int64_t sequence) const {
  if (task_)
    return task_->pack(task_->examples(rng, size));
  return textBatch(characterModel_, randomWindows(split_.train, size, sequence, rng));
}

/// The batch of step 1 of a task, as a safetensors file in the layout of `rnnc data` (inputs,
/// targets and lengths tensors), so that it can be inspected and fed to `rnnc run`.
Status Trainer::dumpTaskBatch(const ir::Graph &forward, const ir::Module &module) const {
  Rng rng(parameterSeed(seed_, "batch.1"));
  TrainingBatch batch = draw(rng, options_.batch, 0);
  TensorMap tensors = batch.data;
  std::vector<std::string> axes = timeAxes(forward);
  for (const auto &[axis, lengths] : batch.lengths) {
    std::vector<int32_t> values(lengths.begin(), lengths.end());
    tensors.emplace(lengthsName(axes, axis),
                    Tensor::fromValues<int32_t>({int64_t(values.size())}, values));
  }
  SafetensorsMetadata metadata = modelMetadata(module);
  metadata["task"] = options_.task->name;
  metadata["seed"] = std::to_string(seed_);
  return writeSafetensors(*options_.dumpTaskData, tensors, metadata);
}

/// Text: reads the corpus, checks the vocabulary against a resumed checkpoint and sets the
/// model's vocabulary dim in `dims`.
Expected<std::u32string> Trainer::setUpText(const std::optional<Checkpoint> &resumed,
                                            std::map<std::string, long long> &dims) {
  auto corpus = readTextCorpus(options_.dataPath);
  if (!corpus)
    return corpus.takeError();
  vocabulary_ = Vocabulary::fromText(*corpus);
  if (resumed) {
    auto saved = Vocabulary::fromCharacters(resumed->vocabulary, *options_.resumePath);
    if (!saved)
      return saved.takeError();
    if (!(*saved == vocabulary_))
      return Error::user(
          "the vocabulary of '" + options_.dataPath + "' (" + std::to_string(vocabulary_.size()) +
          " characters) differs from that of the checkpoint '" + *options_.resumePath + "' (" +
          std::to_string(saved->size()) + "): resume on the corpus it was trained on");
  }
  auto model = findCharacterModel(options_.modelPath, dims);
  if (!model)
    return model.takeError();
  characterModel_ = *model;
  const std::string &vocabularyDim = characterModel_.vocabularyDim;
  if (auto given = options_.dims.find(vocabularyDim);
      given != options_.dims.end() && given->second != vocabulary_.size())
    return Error::user("-D " + vocabularyDim + "=" + std::to_string(given->second) +
                       " conflicts with the corpus: " + vocabularyDim +
                       " is the vocabulary size, here " + std::to_string(vocabulary_.size()) +
                       " characters");
  dims[vocabularyDim] = vocabulary_.size();
  return corpus.take();
}

/// Text: the held-out split and its evaluation batches.
Status Trainer::splitText(const std::u32string &corpus) {
  auto ids = vocabulary_.encode(corpus, options_.dataPath);
  if (!ids)
    return ids.takeError();
  split_ = splitHeldOut(*ids);
  if (split_.heldOut.size() < 2)
    return Error::user("the held-out text (the last 5% of '" + options_.dataPath + "') has " +
                       std::to_string(split_.heldOut.size()) +
                       (split_.heldOut.size() == 1 ? " character" : " characters") +
                       "; measuring bits per character needs at least 2, so the corpus needs "
                       "at least 40 characters");
  if (int64_t(split_.train.size()) <= options_.sequence)
    return Error::user("the training text has " + std::to_string(split_.train.size()) +
                       " characters; --seq " + std::to_string(options_.sequence) +
                       " needs at least " + std::to_string(options_.sequence + 1) +
                       " (use a shorter --seq or more text)");
  std::span<const int32_t> heldOut = split_.heldOut;
  if (options_.validationCharacters)
    heldOut = heldOut.first(std::min(heldOut.size(), size_t(*options_.validationCharacters)));
  if (options_.stateful) {
    for (auto [size, what] : {std::pair{split_.train.size(), "training"},
                              std::pair{heldOut.size(), "held-out"}})
      if (streamWindowCount(size, options_.batch, options_.sequence) == 0)
        return Error::user(
            std::string("--stateful reads the ") + what + " text as --batch " +
            std::to_string(options_.batch) + " streams of at least --seq + 1 = " +
            std::to_string(options_.sequence + 1) + " characters, " +
            std::to_string(options_.batch * (options_.sequence + 1)) + " in all; it has " +
            std::to_string(size) + " (use a smaller --batch or --seq, or more text)");
    heldOutItems_ = streamWindowCount(heldOut.size(), options_.batch, options_.sequence) *
                    options_.batch * options_.sequence;
    return Status::ok();
  }
  heldOutItems_ = int64_t(heldOut.size());
  for (TokenBatch &batch : evaluationBatches(heldOut, options_.batch, options_.sequence))
    evaluation_.push_back(textBatch(characterModel_, std::move(batch)));
  return Status::ok();
}

/// A task: binds it to the model and draws the held-out examples (from their own generator, so
/// they do not depend on the batch size or the number of steps).
Status Trainer::setUpTask(const std::map<std::string, long long> &dims) {
  auto module = loadModule(options_.modelPath, dims);
  if (!module)
    return module.takeError();
  auto task = BoundTask::bind(*options_.task, module.take(), options_.taskLength);
  if (!task)
    return task.takeError();
  task_ = task.take();
  Rng rng(parameterSeed(seed_, "task.held-out"));
  heldOutExamples_ = task_->examples(rng, options_.taskExamples);
  heldOutItems_ = int64_t(heldOutExamples_.size());
  std::span<const TaskExample> examples = heldOutExamples_;
  for (size_t first = 0; first < examples.size(); first += size_t(options_.batch))
    evaluation_.push_back(task_->pack(
        examples.subspan(first, std::min(examples.size() - first, size_t(options_.batch)))));
  history_.setTaskMetric(options_.task->metric == TaskMetric::Accuracy     ? "accuracy"
                         : options_.task->metric == TaskMetric::ExactMatch ? "exact_match"
                                                                           : "mse");
  return Status::ok();
}

/// A data set: the training and held-out examples, checked against the model, the held-out
/// batches, and for a token target with class scores the graph that also measures accuracy.
Status Trainer::setUpDataset(const std::map<std::string, long long> &dims) {
  auto module = loadModule(options_.modelPath, dims);
  if (!module)
    return module.takeError();
  ir::Graph *forward = (*module)->findGraph("forward");
  if (!forward)
    return findGraph(**module, "forward").takeError();
  auto data = Dataset::load(options_.dataPath, *forward);
  if (!data)
    return data.takeError();
  if (options_.validationPath) {
    auto heldOut = Dataset::load(*options_.validationPath, *forward);
    if (!heldOut)
      return heldOut.takeError();
    trainingSet_ = data.take();
    heldOutSet_ = heldOut.take();
  } else {
    // A fixed seed: runs with different --seed are measured on the same examples.
    int64_t heldOut = std::max<int64_t>(
        1, int64_t(std::llround(options_.validationFraction * double(data->size()))));
    if (heldOut >= data->size())
      return Error::user("'" + options_.dataPath + "' has " + std::to_string(data->size()) +
                         (data->size() == 1 ? " example" : " examples") + "; holding out " +
                         std::to_string(heldOut) +
                         " leaves none to train on (give --val FILE, or more examples)");
    Rng rng(parameterSeed(0, "data.held-out"));
    auto [kept, held] = data->split(heldOut, rng);
    trainingSet_ = std::move(kept);
    heldOutSet_ = std::move(held);
  }
  batchesPerEpoch_ = (trainingSet_->size() + options_.batch - 1) / options_.batch;
  heldOutItems_ = heldOutSet_->size();
  for (const std::vector<size_t> &examples : heldOutSet_->sortedBatches(options_.batch))
    evaluation_.push_back(heldOutSet_->pack(examples));
  if (trainingSet_->metric().empty())
    return Status::ok();
  const ir::Op *prediction =
      predictionOutput(*forward, forward->opsOfKind(ir::OpKind::Target).front()->result()->type());
  if (!prediction)
    return Status::ok();
  predictionOutput_ = prediction->nameAttr();
  forward->body().eraseIf([&](const ir::Op &op) {
    return op.kind() == ir::OpKind::Output && op.nameAttr() != "loss" &&
           op.nameAttr() != predictionOutput_;
  });
  passes::eliminateDeadCode(**module);
  evaluationGraph_ = forward;
  evaluationModule_ = module.take();
  history_.setTaskMetric(trainingSet_->metric());
  return Status::ok();
}

std::vector<TrainingBatch> Trainer::datasetBatch(int64_t step, int64_t shards) {
  int64_t epoch = (step - 1) / batchesPerEpoch_;
  if (epoch != plannedEpoch_) {
    Rng rng(parameterSeed(seed_, "epoch." + std::to_string(epoch)));
    epochPlan_ = trainingSet_->epochBatches(options_.batch, rng);
    plannedEpoch_ = epoch;
  }
  std::span<const size_t> examples = epochPlan_[size_t((step - 1) % batchesPerEpoch_)];
  shards = std::min(shards, int64_t(examples.size()));
  std::vector<TrainingBatch> parts;
  size_t first = 0;
  for (int64_t shard = 0; shard < shards; ++shard) {
    size_t size = examples.size() / size_t(shards) + (size_t(shard) < examples.size() % size_t(shards));
    parts.push_back(trainingSet_->pack(examples.subspan(first, size)));
    first += size;
  }
  return parts;
}

std::vector<TrainingBatch> Trainer::statefulBatch(std::span<const int32_t> ids, int64_t window,
                                                  int64_t shards, TensorMap &carried,
                                                  std::vector<int64_t> &firstRows) const {
  if (window == 0 || carried.empty()) {
    carried.clear();
    for (const passes::CarriedState &state : states_) {
      std::vector<int64_t> shape{options_.batch};
      shape.insert(shape.end(), state.type.shape.begin(), state.type.shape.end());
      carried.emplace(state.input, Tensor(DType::F32, shape));
    }
  }
  std::vector<TrainingBatch> parts;
  firstRows.clear();
  int64_t first = 0;
  for (int64_t shard = 0; shard < shards; ++shard) {
    int64_t rows = options_.batch / shards + (shard < options_.batch % shards ? 1 : 0);
    TrainingBatch part = textBatch(
        characterModel_,
        streamWindows(ids, options_.batch, options_.sequence, window, first, rows));
    for (const passes::CarriedState &state : states_)
      part.data.emplace(state.input, rowsOf(carried.at(state.input), first, rows));
    parts.push_back(std::move(part));
    firstRows.push_back(first);
    first += rows;
  }
  return parts;
}

/// Stateful text: the held-out text as `batch` streams, its windows run in order, each from the
/// states the previous one ended in (the parts of a window concurrently); bits per character.
Expected<double> Trainer::statefulHeldOutLoss() {
  std::span<const int32_t> heldOut = split_.heldOut;
  if (options_.validationCharacters)
    heldOut = heldOut.first(std::min(heldOut.size(), size_t(*options_.validationCharacters)));
  int64_t windows = streamWindowCount(heldOut.size(), options_.batch, options_.sequence);
  TensorMap carried;
  std::vector<int64_t> firstRows;
  double nats = 0;
  int64_t items = 0;
  for (int64_t window = 0; window < windows; ++window) {
    std::vector<TrainingBatch> parts = statefulBatch(
        heldOut, window, std::min(options_.threads, options_.batch), carried, firstRows);
    std::vector<GraphRun> runs(parts.size());
    auto evaluate = [&](size_t i, size_t part) {
      return runOnChunk(params_, *backends_[part], *graphs_.forward, parts[i], runs[i]);
    };
    if (Status status = runConcurrently(runs.size(), evaluate); !status)
      return status.takeError();
    keepFinalStates(states_, runs, firstRows, carried);
    for (size_t i = 0; i < runs.size(); ++i) {
      nats += scalarValue(runs[i].outputs.at("loss"));
      items += parts[i].items;
    }
  }
  return nats / double(items) / std::numbers::ln2;
}

Expected<std::unique_ptr<Trainer>> Trainer::create(const TrainerOptions &options) {
  std::unique_ptr<Trainer> trainer(new Trainer());
  trainer->options_ = options;
  std::optional<Checkpoint> resumed;
  std::map<std::string, long long> dims = options.dims;
  if (options.resumePath) {
    auto checkpoint = readCheckpoint(*options.resumePath);
    if (!checkpoint)
      return checkpoint.takeError();
    resumed = checkpoint.take();
    for (const auto &[name, value] : resumed->dims)
      dims.emplace(name, value);
    std::string task = options.task ? options.task->name : "";
    if (resumed->task != task)
      return Error::user(
          "the checkpoint '" + *options.resumePath + "' was trained on " +
          (resumed->task.empty() ? "text (--data)" : "task '" + resumed->task + "'") + ", not on " +
          (task.empty() ? "text" : "task '" + task + "'"));
    if (options.seed && *options.seed != resumed->seed)
      return Error::user("--seed " + std::to_string(*options.seed) +
                         " differs from the seed of the checkpoint (" +
                         std::to_string(resumed->seed) +
                         "): a resumed run continues the checkpoint's sequence of batches");
  }
  trainer->seed_ = resumed ? resumed->seed : options.seed.value_or(0);

  std::u32string corpus;
  if (options.task) {
    if (Status status = trainer->setUpTask(dims); !status)
      return status.takeError();
  } else if (isDatasetPath(options.dataPath)) {
    if (Status status = trainer->setUpDataset(dims); !status)
      return status.takeError();
    if (options.epochs) {
      TrainerOptions &adjusted = trainer->options_;
      adjusted.steps = *options.epochs * trainer->batchesPerEpoch_;
      if (adjusted.schedule.decayEnd == 0)
        adjusted.schedule.decayEnd = *adjusted.steps;
    }
  } else {
    auto text = trainer->setUpText(resumed, dims);
    if (!text)
      return text.takeError();
    corpus = text.take();
  }
  auto module = loadModule(options.modelPath, dims);
  if (!module)
    return module.takeError();

  // Parameters come from the forward graph before training strips it to the loss, which drops
  // any parameter the loss does not read.
  auto forward = findGraph(**module, "forward");
  if (!forward)
    return forward.takeError();
  if (options.dumpTaskData) {
    if (Status dumped = trainer->dumpTaskBatch(**forward, **module); !dumped)
      return dumped.takeError();
    return std::unique_ptr<Trainer>();
  }
  trainer->frozen_ = frozenParameters(**forward);
  if (resumed) {
    if (Status checked = checkParameters(**forward, resumed->params, *options.resumePath); !checked)
      return checked.takeError();
    for (auto &[name, tensor] : resumed->params)
      if (tensor.dtype() != DType::F32)
        return Error::user(*options.resumePath + ": parameter '" + name + "' must be F32");
    // Training keeps every parameter finite, so a non-finite one was put there by hand; naming
    // it here says more than the non-finite loss it would give at the first step.
    if (Status finite = checkFinite(resumed->params, *options.resumePath + ": parameter "); !finite)
      return finite.takeError();
    trainer->params_ = std::move(resumed->params);
    trainer->step_ = resumed->step;
  } else if (options.paramsPath) {
    auto params = readParameters(**forward, *options.paramsPath, options.renames);
    if (!params)
      return params.takeError();
    for (auto &[name, tensor] : *params)
      tensor = tensor.convert(DType::F32); // training is in F32; `rnnc init --dtype f64` loads too
    trainer->params_ = params.take();
  } else {
    auto params = initializeParameters(**forward, trainer->seed_, DType::F32);
    if (!params)
      return params.takeError();
    trainer->params_ = params.take();
  }
  if (options.stateful) {
    auto states = passes::exposeCarriedState(*(*module)->findGraph("forward"));
    if (!states)
      return states.takeError();
    trainer->states_ = states.take();
  }
  auto graphs = buildTrainingGraphs(module.take(), options.pipeline);
  if (!graphs)
    return graphs.takeError();
  trainer->graphs_ = graphs.take();

  trainer->optimizer_ = Optimizer(options.optimizer);
  if (resumed) {
    std::string kind = optimizerName(options.optimizer.kind);
    if (resumed->optimizer != kind)
      return Error::user("the checkpoint '" + *options.resumePath + "' holds " +
                         resumed->optimizer + " state, but this run uses --optimizer " + kind);
    if (Status loaded =
            trainer->optimizer_.loadState(std::move(resumed->optimizerState),
                                          trainedParameters(trainer->params_, trainer->frozen_));
        !loaded)
      return Error::user(*options.resumePath + ": " + loaded.error().message);
    std::string metric = trainer->history_.taskMetric();
    trainer->history_ = TrainingHistory::fromTensor(resumed->history);
    trainer->history_.setTaskMetric(metric);
  }
  if (std::optional<int64_t> steps = trainer->options_.steps; steps && trainer->step_ >= *steps)
    return Error::user("the checkpoint is at step " + std::to_string(trainer->step_) +
                       ", so --steps " + std::to_string(*steps) +
                       " leaves nothing to do (--steps counts from the start of training)");
  if (trainer->isText())
    if (Status split = trainer->splitText(corpus); !split)
      return split.takeError();

  std::string backendName = options.backend;
  if (backendName.empty()) {
    BackendChoice choice =
        defaultBackend({trainer->graphs_.backward, trainer->graphs_.forward});
    backendName = choice.name;
    trainer->backendNotice_ = choice.notice;
  }
  for (int64_t thread = 0; thread < options.threads; ++thread) {
    auto backend = createBackend(backendName);
    if (!backend)
      return backend.takeError();
    trainer->backends_.push_back(backend.take());
  }
  trainer->pool_ = std::make_unique<ThreadPool>(int(options.threads));
  return trainer;
}

Expected<double> Trainer::compile() {
  auto start = std::chrono::steady_clock::now();
  auto prepare = [&](size_t instance) -> Status {
    for (const ir::Graph *graph : {graphs_.backward, graphs_.forward})
      if (Status prepared = backends_[instance]->prepare(*graph, ir::Precision::Float); !prepared)
        return prepared;
    return Status::ok();
  };
  // The first instance fills the compile cache, from which the others then load in parallel.
  if (Status first = prepare(0); !first)
    return first.takeError();
  if (Status others = runConcurrently(backends_.size() - 1,
                                      [&](size_t i, size_t) { return prepare(i + 1); });
      !others)
    return others.takeError();
  return secondsSince(start);
}

/// Runs `task(i, part)` for every i in [0, count) on the pool: part k of the pool's run takes
/// i = k, k + parts, … on backend instance k (whichever thread runs the part, one part uses one
/// instance at a time), so item i always runs on the same instance. Returns the first error in
/// index order.
Status Trainer::runConcurrently(size_t count, const std::function<Status(size_t, size_t)> &task) {
  std::vector<Status> results(count);
  size_t parts = size_t(pool_->size());
  pool_->run([&](int part) {
    for (size_t i = size_t(part); i < count; i += parts) {
      try {
        results[i] = task(i, size_t(part));
      } catch (const std::bad_alloc &) { // the caller catches it on its own thread only
        results[i] = Error::user("out of memory");
      }
    }
  });
  for (Status &result : results)
    if (!result)
      return result;
  return Status::ok();
}

/// The held-out loss of the model on the evaluation batches, per item (summed in batch order,
/// so the result does not depend on the number of threads): bits per character for text, nats
/// per item for a task.
Expected<double> Trainer::heldOutLoss() {
  if (options_.stateful)
    return statefulHeldOutLoss();
  std::vector<GraphRun> runs(evaluation_.size());
  const ir::Graph &graph = evaluationGraph_ ? *evaluationGraph_ : *graphs_.forward;
  auto evaluate = [&](size_t i, size_t part) {
    return runOnChunk(params_, *backends_[part], graph, evaluation_[i], runs[i]);
  };
  if (Status status = runConcurrently(runs.size(), evaluate); !status)
    return status.takeError();
  double nats = 0;
  int64_t items = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    nats += scalarValue(runs[i].outputs.at("loss"));
    items += evaluation_[i].items;
  }
  if (!predictionOutput_.empty()) {
    double sum = 0;
    int64_t count = 0;
    for (size_t i = 0; i < runs.size(); ++i)
      heldOutSet_->addToMetric(evaluation_[i], runs[i].outputs.at(predictionOutput_), sum, count);
    TaskScore score;
    score.metric = heldOutSet_->metric();
    score.value = sum / double(count);
    score.summary = score.metric + " " + formatNumber("%.4f", score.value) + " on " +
                    std::to_string(heldOutItems_) + " held-out examples";
    score_ = score;
    scoredStep_ = step_;
  }
  return nats / double(items) / (isText() ? std::numbers::ln2 : 1);
}

/// One step: a batch, the loss and gradients, and the optimiser step. With several threads the
/// batch is split into one shard per thread (data parallelism) and the shards' sums are added
/// in shard order. A non-finite value is a user error naming the step and tensor; the
/// parameters and optimizer state are then as before the step.
Expected<Trainer::StepResult> Trainer::trainingStep(int64_t step) {
  // Drawing the shards one after the other from one generator gives the windows of the whole
  // batch, whatever the number of shards.
  int64_t shards = std::min(options_.threads, options_.batch);
  std::vector<TrainingBatch> windows;
  std::vector<int64_t> firstRows;
  if (trainingSet_) {
    windows = datasetBatch(step, shards);
  } else if (options_.stateful) {
    int64_t window =
        (step - 1) % streamWindowCount(split_.train.size(), options_.batch, options_.sequence);
    windows = statefulBatch(split_.train, window, shards, carried_, firstRows);
  } else {
    Rng rng(parameterSeed(seed_, "batch." + std::to_string(step)));
    for (int64_t shard = 0; shard < shards; ++shard) {
      int64_t size = options_.batch / shards + (shard < options_.batch % shards ? 1 : 0);
      windows.push_back(draw(rng, size, options_.sequence));
    }
  }
  int64_t items = 0, steps = 0;
  for (const TrainingBatch &window : windows) {
    items += window.items;
    steps += window.steps;
  }
  std::vector<GraphRun> runs(windows.size());
  auto differentiate = [&](size_t i, size_t part) {
    return runOnChunk(params_, *backends_[part], *graphs_.backward, windows[i], runs[i]);
  };
  if (Status status = runConcurrently(runs.size(), differentiate); !status)
    return status.takeError();
  keepFinalStates(states_, runs, firstRows, carried_);

  std::string where = "step " + std::to_string(step) + ": ";
  double perItem = 1.0 / double(items);
  StepResult result;
  result.steps = steps;
  for (const GraphRun &run : runs)
    result.loss += scalarValue(run.outputs.at("loss"));
  result.loss *= perItem;
  if (!std::isfinite(result.loss))
    return Error::user(where + "the training loss is " +
                       // A NaN's sign depends on the backend's arithmetic and means nothing.
                       (std::isnan(result.loss) ? "nan" : std::to_string(result.loss)));
  // The graph's gradients are sums over the batch: average them like the loss. A parameter
  // the loss does not read has no gradient output; its gradient is zero.
  TensorMap gradients;
  for (const auto &[name, param] : params_) {
    if (frozen_.count(name))
      continue;
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
  result.learningRate = options_.schedule.at(step, elapsedSeconds_);

  TensorMap previousParams = params_;
  Optimizer previousOptimizer = optimizer_;
  auto norm = applyOptimizerStep(optimizer_, params_, gradients, options_.clip, result.learningRate,
                                 where + "the gradient of ");
  if (!norm)
    return norm.takeError();
  result.gradientNorm = *norm;
  if (Status finite = checkFinite(params_, where + "after the update, parameter "); !finite) {
    params_ = std::move(previousParams);
    optimizer_ = std::move(previousOptimizer);
    return finite.takeError();
  }
  return result;
}

Status Trainer::saveCheckpoint() const {
  Checkpoint checkpoint;
  checkpoint.params = params_;
  checkpoint.optimizer = optimizerName(options_.optimizer.kind);
  checkpoint.optimizerState = optimizer_.state();
  checkpoint.vocabulary = vocabulary_.characters();
  if (options_.task)
    checkpoint.task = options_.task->name;
  checkpoint.step = step_;
  checkpoint.seed = seed_;
  checkpoint.history = history_.toTensor();
  return writeCheckpoint(*options_.savePath, checkpoint, *graphs_.module);
}

Status Trainer::scoreTask() {
  auto scored = task_->score(*backends_[0], params_, heldOutExamples_, options_.batch);
  if (!scored)
    return scored.takeError();
  score_ = scored.take();
  scoredStep_ = step_;
  return Status::ok();
}

Expected<TrainingOutcome> Trainer::run(const TrainerHooks &hooks) {
  auto writeLogs = [&]() -> Status {
    return hooks.writeLogs ? hooks.writeLogs(history_) : Status::ok();
  };
  auto start = std::chrono::steady_clock::now();
  ProgressState progress;
  progress.step = step_;
  progress.lastStep = options_.steps;
  if (options_.minutes)
    progress.budgetSeconds = *options_.minutes * 60;
  progress.validationBpc = std::numeric_limits<double>::quiet_NaN();
  progress.characters = isText();
  progress.metricName = history_.taskMetric();
  progress.metric = std::numeric_limits<double>::quiet_NaN();
  double lossSum = 0, trainingSeconds = 0;
  int64_t lossCount = 0, timeStepsRun = 0;
  TrainingOutcome outcome;

  auto failAfterSaving = [&](const Error &error) -> Status {
    std::string saved = " (no --save, so nothing was saved)";
    if (options_.savePath) {
      if (Status status = saveCheckpoint(); !status)
        return status;
      saved = "; the last good state (step " + std::to_string(step_) + ") is saved in '" +
              *options_.savePath + "'";
    }
    if (Status status = writeLogs(); !status)
      return status;
    return Error::user(error.message + "; training stopped" + saved);
  };
  auto evaluateAndSave = [&]() -> Status {
    auto loss = heldOutLoss();
    if (!loss)
      return loss.takeError();
    history_.last().validation = *loss;
    progress.validationBpc = *loss;
    if (task_)
      if (Status scored = scoreTask(); !scored)
        return scored;
    if (task_ || !predictionOutput_.empty())
      history_.last().metric = progress.metric = score_->value;
    progress.trainLoss = lossSum / double(std::max<int64_t>(1, lossCount));
    lossSum = 0;
    lossCount = 0;
    if (hooks.evaluated)
      hooks.evaluated(progress);
    if (options_.savePath)
      if (Status status = saveCheckpoint(); !status)
        return status;
    return writeLogs();
  };
  auto stopRequested = [&] { return hooks.stopRequested && hooks.stopRequested(); };

  while (!(options_.steps && step_ >= *options_.steps) &&
         !(progress.budgetSeconds && secondsSince(start) >= *progress.budgetSeconds) &&
         !stopRequested()) {
    auto stepStart = std::chrono::steady_clock::now();
    elapsedSeconds_ = secondsSince(start);
    auto result = trainingStep(step_ + 1);
    if (!result)
      return result.error().kind == ErrorKind::User ? failAfterSaving(result.error()).takeError()
                                                    : result.takeError();
    double stepSeconds = secondsSince(stepStart);
    ++step_;
    ++outcome.stepsRun;
    trainingSeconds += stepSeconds;
    lossSum += result->loss;
    ++lossCount;
    TrainingRecord record;
    record.step = step_;
    record.trainLoss = result->loss;
    record.learningRate = result->learningRate;
    record.gradientNorm = result->gradientNorm;
    record.tokensPerSecond = double(result->steps) / stepSeconds;
    history_.add(record);

    progress.step = step_;
    progress.elapsedSeconds = secondsSince(start);
    progress.secondsPerStep = progress.elapsedSeconds / double(outcome.stepsRun);
    progress.trainLoss = lossSum / double(lossCount);
    timeStepsRun += result->steps;
    progress.tokensPerSecond = double(timeStepsRun) / trainingSeconds;
    if (step_ % options_.evalEvery == 0)
      if (Status status = evaluateAndSave(); !status)
        return status.takeError();
    if (hooks.stepped)
      hooks.stepped(progress);
  }

  outcome.stopped = stopRequested();
  if (!outcome.stopped && outcome.stepsRun > 0 && !history_.records().back().hasValidation())
    if (Status status = evaluateAndSave(); !status)
      return status.takeError();
  if (outcome.stopped || outcome.stepsRun == 0) {
    if (options_.savePath)
      if (Status status = saveCheckpoint(); !status)
        return status.takeError();
    if (Status status = writeLogs(); !status)
      return status.takeError();
  }
  outcome.elapsedSeconds = secondsSince(start);
  outcome.tokensPerSecond = progress.tokensPerSecond;
  return outcome;
}

} // namespace rnnc::model
