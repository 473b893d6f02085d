// Synthetic data sets for `rnnc train --task NAME`: one small task per pattern of the example
// models, each example drawn from a seeded generator, so the same (seed, step) always gives the
// same batch and a run can be reproduced or resumed exactly.
//
// A task describes its data as *slots*, the inputs then the targets in the order a model declares
// them: each a sequence over one of the task's time axes ("source", "target", "steps") or one
// value per example, of token ids below a vocabulary or of real vectors. The driver binds the
// slots to a model's inputs and targets (compiler/model/Task.h); this file knows nothing of
// models. Invariant: every example has, per slot, `steps` >= 1 for a sequence (1 for a static
// slot), tokens.size() == steps and reals.size() == steps * size, with every id below the slot's
// vocabulary and every sequence of one task axis of the same length.
//
// | task       | model pattern          | inputs → targets | | reverse    | encoder–decoder | 1–L
// digits (ids 0–9) → them reversed (ids 1–10, 0 = start)| | add        | encoder–decoder        |
// "a+b", a, b < 10^L (+ = id 10) → a+b in L+1 digits (1–10)  | | parity     | one output per
// sequence| 1–L bits → their sum mod 2                                | | pattern    | one output
// per sequence| 3–L digits → 1 if "1 2 3" occurs (half the examples)      | | neighbours |
// bidirectional tagging  | 2–L digits → per digit, how many neighbours are smaller   | | cumsum |
// output→hidden (Jordan) | 1–L digits → running sum mod 10 (y[0] = 0 is the sum of none)| | series
// | real sequence          | noisy sine x[t] → x[t+1]                                  | | adding
// | long memory (LSTM)     | L steps of (value, marker) → sum of the 2 marked values   | | spell |
// context vector         | one-hot n < C → the L decimal digits of n (ids 1–10)      |
#pragma once

#include "runtime/Init.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rnnc {

/// One input or target of a task.
struct TaskSlot {
  bool isInput = true;
  bool isSequence = true;
  std::string axis; ///< The task's name for the slot's time axis (sequences only).
  bool isToken = true;
  int64_t vocabulary = 0; ///< Tokens: the ids used are below it.
  int64_t size = 0;       ///< Reals: the vector size; 0 means any, the model's.
  std::string meaning;    ///< For messages: "the digits to reverse".
  std::string alphabet;   ///< Tokens: how each id prints ("0123456789"), for examples shown.
};

/// One example: per slot, its steps (1 for a static slot) and its values.
struct TaskExample {
  struct Slot {
    int64_t steps = 1;
    std::vector<int32_t> tokens;
    std::vector<float> reals;
  };
  std::vector<Slot> slots;
};

/// How a trained model is judged on held-out examples.
enum class TaskMetric {
  Accuracy,   ///< argmax of the model's scores equals the target token (per step or per example)
  ExactMatch, ///< greedy generation of the whole target sequence equals it
  MeanSquaredError,
};

struct TaskSettings {
  int64_t length = 0;             ///< The task's size parameter L (0: the task's default).
  std::vector<int64_t> slotSizes; ///< Per slot: the real vector size of the model (reals only).
};

struct TaskDefinition {
  std::string name;
  std::string summary; ///< One line: what the data is and what is predicted.
  std::vector<TaskSlot> slots;
  TaskMetric metric = TaskMetric::Accuracy;
  int64_t defaultLength = 0;
  int64_t minimumLength = 1;
  /// Mean squared error only: what a trivial predictor scores, and its name.
  std::string baselineName;
  std::function<std::vector<float>(const TaskExample &)> baseline;
  std::function<TaskExample(Rng &, const TaskSettings &)> generate;
};

/// The tasks, in the order of the table above.
const std::vector<TaskDefinition> &taskDefinitions();

/// The task called `name`, or nullptr.
const TaskDefinition *findTask(const std::string &name);

/// "reverse, add, …": the names for messages.
std::string taskNames();

} // namespace rnnc
