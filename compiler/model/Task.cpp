#include "compiler/model/Task.h"

#include "compiler/model/ModelData.h"
#include "compiler/model/TrainingHistory.h"
#include "compiler/passes/DCE.h"

#include <algorithm>
#include <cstdio>

namespace rnnc::model {

namespace {

std::string plural(size_t count, const std::string &word) {
  return std::to_string(count) + " " + word + (count == 1 ? "" : "s");
}

/// "tokens (token<8>)", "reals [1, 2]", with "per step over 't'" or "one per example".
std::string describeData(const ir::Type &type) {
  std::string what =
      type.isToken() ? "token<" + std::to_string(type.vocab) + ">" : ir::shapeString(type.shape);
  return what + (type.isSequence() ? " per step over '" + type.axis + "'" : " (one per example)");
}

std::string describeSlot(const TaskSlot &slot) {
  std::string what = slot.isToken ? "tokens"
                     : slot.size  ? "reals [" + std::to_string(slot.size) + "]"
                                  : "real vectors";
  return what + (slot.isSequence ? " per step" : " (one per example)") + ": " + slot.meaning;
}

/// The ids of a token slot through the task's alphabet.
std::string render(const TaskSlot &slot, std::span<const int32_t> ids) {
  std::string text;
  for (int32_t id : ids)
    text += id >= 0 && size_t(id) < slot.alphabet.size() ? slot.alphabet[size_t(id)] : '?';
  return text;
}

size_t argmax(std::span<const float> scores) {
  return size_t(std::max_element(scores.begin(), scores.end()) - scores.begin());
}

} // namespace

Expected<BoundTask> BoundTask::bind(const TaskDefinition &task, std::unique_ptr<ir::Module> module,
                                    int64_t length) {
  BoundTask bound;
  bound.task_ = &task;
  bound.settings_.length = length ? length : task.defaultLength;
  const std::string mismatch =
      "task '" + task.name + "' does not fit model '" + module->name() + "': ";
  auto forward = findGraph(*module, "forward");
  if (!forward)
    return forward.takeError();
  std::vector<ir::Op *> inputs = (*forward)->opsOfKind(ir::OpKind::Input),
                        targets = (*forward)->opsOfKind(ir::OpKind::Target);
  size_t taskInputs = size_t(std::count_if(task.slots.begin(), task.slots.end(),
                                           [](const TaskSlot &slot) { return slot.isInput; }));
  size_t taskTargets = task.slots.size() - taskInputs;
  if (inputs.size() != taskInputs || targets.size() != taskTargets) {
    auto names = [](const std::vector<ir::Op *> &ops) {
      std::string text;
      for (const ir::Op *op : ops)
        text += (text.empty() ? " (" : ", ") + op->nameAttr();
      return text + (ops.empty() ? "" : ")");
    };
    return Error::user(mismatch + "the task gives " + plural(taskInputs, "input") + " and " +
                       plural(taskTargets, "target") + ", the model declares " +
                       plural(inputs.size(), "input") + names(inputs) + " and " +
                       plural(targets.size(), "target") + names(targets));
  }

  std::vector<const ir::Op *> data(inputs.begin(), inputs.end());
  data.insert(data.end(), targets.begin(), targets.end());
  std::map<std::string, std::string> modelAxisOfTaskAxis;
  for (size_t i = 0; i < task.slots.size(); ++i) {
    const TaskSlot &slot = task.slots[i];
    const ir::Type &type = data[i]->result()->type();
    std::string name = data[i]->nameAttr();
    std::string what = std::string(slot.isInput ? "input '" : "target '") + name + "' is " +
                       describeData(type) + ", but the task gives ";
    if (type.isSequence() != slot.isSequence || type.isToken() != slot.isToken ||
        (!slot.isToken && slot.size && type.shape != std::vector<int64_t>{slot.size}) ||
        (!slot.isToken && type.rank() != 1))
      return Error::user(mismatch + what + describeSlot(slot));
    if (slot.isToken && type.vocab < slot.vocabulary)
      return Error::user(mismatch + what + "ids up to " + std::to_string(slot.vocabulary - 1) +
                         ": " + slot.meaning + " (a vocabulary of at least " +
                         std::to_string(slot.vocabulary) + ")");
    if (slot.isSequence) {
      auto [known, inserted] = modelAxisOfTaskAxis.emplace(slot.axis, type.axis);
      if (!inserted && known->second != type.axis)
        return Error::user(mismatch + "the task gives its " + slot.axis +
                           " sequences over one "
                           "time axis, but the model has them over '" +
                           known->second + "' and '" + type.axis + "'");
      for (const auto &[taskAxis, modelAxis] : modelAxisOfTaskAxis)
        if (taskAxis != slot.axis && modelAxis == type.axis)
          return Error::user(mismatch + "the task gives " + taskAxis + " and " + slot.axis +
                             " sequences of different lengths, but the model has both over '" +
                             type.axis + "'");
    }
    bound.slots_.push_back({name, type.axis, slot.isToken ? type.vocab : type.shape[0]});
    bound.settings_.slotSizes.push_back(slot.isToken ? 0 : type.shape[0]);
    if (!slot.isInput)
      bound.targetSlot_ = i;
  }

  const TaskSlot &targetSlot = task.slots[bound.targetSlot_];
  const ir::Type &targetType = data[bound.targetSlot_]->result()->type();
  const std::string &targetName = bound.slots_[bound.targetSlot_].name;
  ir::Graph *evaluation = nullptr;
  std::string keep;
  if (task.metric == TaskMetric::ExactMatch) {
    evaluation = module->findGraph("generate");
    auto generated = evaluation ? generatedInputs(*evaluation) : std::vector<const ir::Op *>{};
    if (std::none_of(generated.begin(), generated.end(),
                     [&](const ir::Op *op) { return op->nameAttr() == targetName; }))
      return Error::user(mismatch + "the task scores free-running generation of target '" +
                         targetName + "', and the model has no generate clause for it (generate " +
                         targetName + "[" + targetType.axis + "] ~ softmax(...))");
    keep = targetName;
  } else {
    // Scores over the target's classes, or a prediction of the target's shape.
    evaluation = module->findGraph("forward");
    const ir::Op *prediction = predictionOutput(*evaluation, targetType);
    if (!prediction)
      return Error::user(
          mismatch + "the task reads the model's " +
          (targetSlot.isToken ? "scores of the classes of" : "prediction of") + " target '" +
          targetName + "' from an output of type " +
          describeData(targetSlot.isToken ? ir::Type::real({targetType.vocab}, targetType.axis)
                                          : targetType) +
          ", and the model has none");
    keep = prediction->nameAttr();
    bound.predictionOutput_ = keep;
  }
  evaluation->body().eraseIf(
      [&](const ir::Op &op) { return op.kind() == ir::OpKind::Output && op.nameAttr() != keep; });
  passes::eliminateDeadCode(*module);
  bound.evaluation_ = evaluation;
  bound.module_ = std::move(module);
  return bound;
}

std::vector<TaskExample> BoundTask::examples(Rng &rng, int64_t count) const {
  std::vector<TaskExample> result;
  result.reserve(size_t(count));
  for (int64_t i = 0; i < count; ++i)
    result.push_back(task_->generate(rng, settings_));
  return result;
}

TrainingBatch BoundTask::pack(std::span<const TaskExample> examples) const {
  TrainingBatch batch;
  int64_t size = int64_t(examples.size());
  for (size_t s = 0; s < slots_.size(); ++s) {
    const TaskSlot &slot = task_->slots[s];
    const Slot &bound = slots_[s];
    int64_t steps = 1;
    for (const TaskExample &example : examples)
      steps = std::max(steps, example.slots[s].steps);
    std::vector<int64_t> shape =
        slot.isSequence ? std::vector<int64_t>{steps, size} : std::vector<int64_t>{size};
    if (!slot.isToken)
      shape.push_back(bound.size);
    Tensor tensor(slot.isToken ? DType::I32 : DType::F32, shape);
    for (int64_t b = 0; b < size; ++b) {
      const TaskExample::Slot &values = examples[size_t(b)].slots[s];
      for (int64_t t = 0; t < values.steps; ++t) {
        int64_t row = slot.isSequence ? t * size + b : b;
        if (slot.isToken)
          tensor.values<int32_t>()[size_t(row)] = values.tokens[size_t(t)];
        else
          std::copy_n(values.reals.begin() + t * bound.size, bound.size,
                      tensor.values<float>().begin() + row * bound.size);
      }
    }
    batch.data.emplace(bound.name, std::move(tensor));
    if (slot.isSequence && !batch.lengths.count(bound.axis)) {
      std::vector<int64_t> &lengths = batch.lengths[bound.axis];
      for (const TaskExample &example : examples) {
        lengths.push_back(example.slots[s].steps);
        batch.steps += example.slots[s].steps;
      }
    }
  }
  const TaskSlot &target = task_->slots[targetSlot_];
  if (target.isSequence) {
    for (const TaskExample &example : examples)
      batch.items += example.slots[targetSlot_].steps;
  } else {
    batch.items = size;
  }
  if (batch.steps == 0)
    batch.steps = size;
  return batch;
}

Expected<std::vector<float>> BoundTask::predictions(backend::Backend &backend,
                                                    const TensorMap &params,
                                                    const TrainingBatch &batch) const {
  ir::Batch run;
  run.params = &params;
  run.data = &batch.data;
  run.lengths = batch.lengths;
  ir::RunOptions options;
  options.precision = ir::Precision::Float;
  auto outputs = backend.run(*evaluation_, run, options);
  if (!outputs)
    return outputs.takeError();
  auto values = outputs->at(predictionOutput_).values<float>();
  return std::vector<float>(values.begin(), values.end());
}

Expected<TaskScore> BoundTask::score(backend::Backend &backend, const TensorMap &params,
                                     std::span<const TaskExample> examples,
                                     int64_t batchSize) const {
  const TaskSlot &target = task_->slots[targetSlot_];
  const Slot &bound = slots_[targetSlot_];
  double correct = 0, total = 0, exact = 0, squaredError = 0, baselineError = 0;
  std::string example;
  for (size_t first = 0; first < examples.size(); first += size_t(batchSize)) {
    auto chunk = examples.subspan(first, std::min(examples.size() - first, size_t(batchSize)));
    TrainingBatch batch = pack(chunk);
    int64_t size = int64_t(chunk.size());
    if (task_->metric == TaskMetric::ExactMatch) {
      // Free-running: the target is not given; the model reads back what it generates.
      Tensor truth = batch.data.at(bound.name);
      batch.data.erase(bound.name);
      ir::Batch run;
      run.params = &params;
      run.data = &batch.data;
      run.lengths = batch.lengths;
      run.primeLengths[bound.axis] = std::vector<int64_t>(size_t(size), 0);
      run.axisSteps[bound.axis] = truth.shape()[0];
      ir::RunOptions options;
      options.precision = ir::Precision::Float;
      options.greedy = true;
      auto outputs = backend.run(*evaluation_, run, options);
      if (!outputs)
        return outputs.takeError();
      auto generated = outputs->at(bound.name).values<int32_t>();
      auto expected = truth.values<int32_t>();
      for (int64_t b = 0; b < size; ++b) {
        int64_t steps = chunk[size_t(b)].slots[targetSlot_].steps, right = 0;
        std::vector<int32_t> expectedIds, generatedIds;
        for (int64_t t = 0; t < steps; ++t) {
          expectedIds.push_back(expected[size_t(t * size + b)]);
          generatedIds.push_back(generated[size_t(t * size + b)]);
          right += expectedIds.back() == generatedIds.back();
        }
        correct += double(right);
        total += double(steps);
        exact += right == steps;
        if (first == 0 && b == 0) {
          std::string given;
          for (size_t s = 0; s < task_->slots.size(); ++s)
            if (task_->slots[s].isInput && task_->slots[s].isToken)
              given += render(task_->slots[s], chunk[0].slots[s].tokens);
          example = "example: " + (given.empty() ? std::string() : "input " + given + " -> ") +
                    "expected " + render(target, expectedIds) + ", generated " +
                    render(target, generatedIds);
        }
      }
      continue;
    }
    auto predicted = predictions(backend, params, batch);
    if (!predicted)
      return predicted.takeError();
    int64_t width = bound.size; // the classes of a token target, the size of a real one
    for (int64_t b = 0; b < size; ++b) {
      const TaskExample::Slot &truth = chunk[size_t(b)].slots[targetSlot_];
      std::vector<float> baseline =
          task_->baseline ? task_->baseline(chunk[size_t(b)]) : std::vector<float>{};
      for (int64_t t = 0; t < truth.steps; ++t) {
        int64_t row = target.isSequence ? t * size + b : b;
        std::span<const float> scores(predicted->data() + row * width, size_t(width));
        if (target.isToken) {
          correct += int32_t(argmax(scores)) == truth.tokens[size_t(t)];
          total += 1;
          continue;
        }
        for (int64_t d = 0; d < width; ++d) {
          double value = truth.reals[size_t(t * width + d)];
          squaredError += (scores[size_t(d)] - value) * (scores[size_t(d)] - value);
          if (!baseline.empty())
            baselineError += (baseline[size_t(t * width + d)] - value) *
                             (baseline[size_t(t * width + d)] - value);
          total += 1;
        }
      }
    }
  }

  TaskScore score;
  std::string on = " on " + plural(examples.size(), "held-out example");
  switch (task_->metric) {
  case TaskMetric::ExactMatch:
    score.metric = "exact_match";
    score.value = exact / double(examples.size());
    score.summary = "exact_match " + formatNumber("%.4f", score.value) + on;
    score.detail = "token accuracy " + formatNumber("%.4f", correct / total);
    score.example = example;
    break;
  case TaskMetric::Accuracy:
    score.metric = "accuracy";
    score.value = correct / total;
    score.summary = "accuracy " + formatNumber("%.4f", score.value) + on;
    if (target.isSequence)
      score.detail = formatNumber("%.0f", total) + " tags";
    break;
  case TaskMetric::MeanSquaredError:
    score.metric = "mse";
    score.value = squaredError / total;
    score.summary = "mse " + formatNumber("%.5f", score.value) + on;
    score.detail =
        "baseline " + formatNumber("%.5f", baselineError / total) + ": " + task_->baselineName;
    break;
  }
  return score;
}

} // namespace rnnc::model
