#include "runtime/SyntheticTasks.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <numeric>

namespace rnnc {

namespace {

/// Uniform in [low, high].
int64_t uniformInt(Rng &rng, int64_t low, int64_t high) {
  return low + int64_t(rng.nextU64() % uint64_t(high - low + 1));
}

TaskExample::Slot tokenSlot(std::vector<int32_t> tokens) {
  TaskExample::Slot slot;
  slot.steps = int64_t(tokens.size());
  slot.tokens = std::move(tokens);
  return slot;
}

TaskExample::Slot realSlot(int64_t steps, std::vector<float> reals) {
  TaskExample::Slot slot;
  slot.steps = steps;
  slot.reals = std::move(reals);
  return slot;
}

std::vector<int32_t> randomDigits(Rng &rng, int64_t count, int32_t base = 10) {
  std::vector<int32_t> digits(static_cast<size_t>(count));
  for (int32_t &digit : digits)
    digit = int32_t(rng.nextU64() % uint64_t(base));
  return digits;
}

/// The decimal digits of `value`, most significant first, zero-padded to `width`, as ids
/// digit + 1 (0 is the decoder's start token).
std::vector<int32_t> digitIds(int64_t value, int64_t width) {
  std::vector<int32_t> ids(static_cast<size_t>(width));
  for (int64_t i = width - 1; i >= 0; --i, value /= 10)
    ids[size_t(i)] = int32_t(value % 10) + 1;
  return ids;
}

/// The digits of `value` without leading zeros, as ids 0–9.
std::vector<int32_t> plainDigits(int64_t value) {
  std::vector<int32_t> digits;
  do {
    digits.insert(digits.begin(), int32_t(value % 10));
    value /= 10;
  } while (value > 0);
  return digits;
}

int64_t powerOfTen(int64_t exponent) {
  int64_t value = 1;
  for (int64_t i = 0; i < exponent; ++i)
    value *= 10;
  return value;
}

constexpr const char *kDigits = "0123456789";
constexpr const char *kStartAndDigits = "^0123456789"; // id 0 is the decoder's start token

/// A tagging example: `low`-`high` random digits and the tag `tag(digits, i)` of each.
TaskExample taggedDigits(Rng &rng, int64_t low, int64_t high,
                         const std::function<int32_t(const std::vector<int32_t> &, size_t)> &tag) {
  std::vector<int32_t> digits = randomDigits(rng, uniformInt(rng, low, high));
  std::vector<int32_t> tags(digits.size());
  for (size_t i = 0; i < digits.size(); ++i)
    tags[i] = tag(digits, i);
  return TaskExample{{tokenSlot(std::move(digits)), tokenSlot(std::move(tags))}};
}

TaskSlot tokens(bool isInput, std::string axis, std::string alphabet, std::string meaning) {
  int64_t vocabulary = int64_t(alphabet.size());
  return {isInput,    true, std::move(axis),    true,
          vocabulary, 0,    std::move(meaning), std::move(alphabet)};
}

TaskSlot staticToken(std::string alphabet, std::string meaning) {
  int64_t vocabulary = int64_t(alphabet.size());
  return {false, false, {}, true, vocabulary, 0, std::move(meaning), std::move(alphabet)};
}

TaskSlot reals(bool isInput, bool isSequence, std::string axis, int64_t size, std::string meaning) {
  return {isInput, isSequence, std::move(axis), false, 0, size, std::move(meaning), {}};
}

std::vector<TaskDefinition> makeDefinitions() {
  std::vector<TaskDefinition> tasks;

  TaskDefinition reverse;
  reverse.name = "reverse";
  reverse.summary = "strings of 1-L digits; the target is the string reversed";
  reverse.slots = {
      tokens(true, "source", kDigits, "the digits to reverse (ids 0-9)"),
      tokens(false, "target", kStartAndDigits, "the reversed digits (ids 1-10, 0 = start)")};
  reverse.metric = TaskMetric::ExactMatch;
  reverse.defaultLength = 6;
  reverse.generate = [](Rng &rng, const TaskSettings &settings) {
    std::vector<int32_t> source = randomDigits(rng, uniformInt(rng, 1, settings.length));
    std::vector<int32_t> target(source.rbegin(), source.rend());
    for (int32_t &id : target)
      ++id;
    return TaskExample{{tokenSlot(std::move(source)), tokenSlot(std::move(target))}};
  };
  tasks.push_back(std::move(reverse));

  TaskDefinition add;
  add.name = "add";
  add.summary = "'a+b' with a, b < 10^L in digits; the target is a+b in L+1 digits";
  add.slots = {
      tokens(true, "source", "0123456789+", "the digits of 'a+b' (ids 0-9, '+' = 10)"),
      tokens(false, "target", kStartAndDigits, "the digits of the sum (ids 1-10, 0 = start)")};
  add.metric = TaskMetric::ExactMatch;
  add.defaultLength = 3;
  add.generate = [](Rng &rng, const TaskSettings &settings) {
    int64_t limit = powerOfTen(settings.length);
    int64_t a = uniformInt(rng, 0, limit - 1), b = uniformInt(rng, 0, limit - 1);
    std::vector<int32_t> source = plainDigits(a);
    source.push_back(10);
    for (int32_t digit : plainDigits(b))
      source.push_back(digit);
    return TaskExample{
        {tokenSlot(std::move(source)), tokenSlot(digitIds(a + b, settings.length + 1))}};
  };
  tasks.push_back(std::move(add));

  TaskDefinition parity;
  parity.name = "parity";
  parity.summary = "strings of 1-L bits; the class is their sum mod 2";
  parity.slots = {tokens(true, "steps", "01", "the bits (ids 0-1)"),
                  staticToken("01", "the parity (classes 0-1)")};
  parity.defaultLength = 8;
  parity.generate = [](Rng &rng, const TaskSettings &settings) {
    std::vector<int32_t> bits = randomDigits(rng, uniformInt(rng, 1, settings.length), 2);
    int32_t sum = 0;
    for (int32_t bit : bits)
      sum ^= bit;
    return TaskExample{{tokenSlot(std::move(bits)), tokenSlot({sum})}};
  };
  tasks.push_back(std::move(parity));

  TaskDefinition pattern;
  pattern.name = "pattern";
  pattern.summary = "strings of 3-L digits; class 1 when '1 2 3' occurs in them (half do)";
  pattern.slots = {tokens(true, "steps", kDigits, "the digits (ids 0-9)"),
                   staticToken("01", "whether '1 2 3' occurs (classes 0-1)")};
  pattern.defaultLength = 12;
  pattern.minimumLength = 3;
  pattern.generate = [](Rng &rng, const TaskSettings &settings) {
    std::vector<int32_t> digits = randomDigits(rng, uniformInt(rng, 3, settings.length));
    if (rng.nextU64() % 2 == 0) { // a positive example: write the pattern somewhere
      size_t at = size_t(uniformInt(rng, 0, int64_t(digits.size()) - 3));
      digits[at] = 1, digits[at + 1] = 2, digits[at + 2] = 3;
    }
    int32_t found = 0;
    for (size_t i = 0; i + 2 < digits.size(); ++i)
      found |= digits[i] == 1 && digits[i + 1] == 2 && digits[i + 2] == 3;
    return TaskExample{{tokenSlot(std::move(digits)), tokenSlot({found})}};
  };
  tasks.push_back(std::move(pattern));

  TaskDefinition neighbours;
  neighbours.name = "neighbours";
  neighbours.summary = "strings of 2-L digits; each digit is tagged with how many of its two "
                       "neighbours are smaller (0-2): the left one and the right one";
  neighbours.slots = {tokens(true, "steps", kDigits, "the digits (ids 0-9)"),
                      tokens(false, "steps", "012", "the tags (0-2)")};
  neighbours.defaultLength = 12;
  neighbours.minimumLength = 2;
  neighbours.generate = [](Rng &rng, const TaskSettings &settings) {
    return taggedDigits(rng, 2, settings.length, [](const std::vector<int32_t> &digits, size_t i) {
      return int32_t(i > 0 && digits[i - 1] < digits[i]) +
             int32_t(i + 1 < digits.size() && digits[i + 1] < digits[i]);
    });
  };
  tasks.push_back(std::move(neighbours));

  TaskDefinition cumsum;
  cumsum.name = "cumsum";
  cumsum.summary = "strings of 1-L digits; the tag of each is the running sum mod 10, which "
                   "the model reads back as its previous output";
  cumsum.slots = {tokens(true, "steps", kDigits, "the digits (ids 0-9)"),
                  tokens(false, "steps", kDigits, "the running sums mod 10 (0-9)")};
  cumsum.metric = TaskMetric::ExactMatch;
  cumsum.defaultLength = 10;
  cumsum.generate = [](Rng &rng, const TaskSettings &settings) {
    return taggedDigits(rng, 1, settings.length, [](const std::vector<int32_t> &digits, size_t i) {
      return std::accumulate(digits.begin(), digits.begin() + ptrdiff_t(i) + 1, 0) % 10;
    });
  };
  tasks.push_back(std::move(cumsum));

  TaskDefinition series;
  series.name = "series";
  series.summary = "L steps of sin(w t + phase) + N(0, 0.1^2) noise, w in [0.1, 0.4] per "
                   "example and dimension; the target is the next value";
  series.slots = {reals(true, true, "steps", 0, "the series x[t]"),
                  reals(false, true, "steps", 0, "the next value x[t+1]")};
  series.metric = TaskMetric::MeanSquaredError;
  series.defaultLength = 50;
  series.minimumLength = 2;
  series.baselineName = "predicting x[t+1] = x[t]";
  series.baseline = [](const TaskExample &example) { return example.slots[0].reals; };
  series.generate = [](Rng &rng, const TaskSettings &settings) {
    int64_t size = settings.slotSizes.at(0), steps = settings.length;
    std::vector<float> values(size_t((steps + 1) * size));
    for (int64_t d = 0; d < size; ++d) {
      double frequency = 0.1 + 0.3 * rng.uniform01();
      double phase = 2 * std::numbers::pi * rng.uniform01();
      for (int64_t t = 0; t <= steps; ++t)
        values[size_t(t * size + d)] =
            float(std::sin(frequency * double(t) + phase) + 0.1 * rng.normal());
    }
    std::vector<float> inputs(values.begin(), values.end() - size);
    std::vector<float> targets(values.begin() + size, values.end());
    return TaskExample{{realSlot(steps, std::move(inputs)), realSlot(steps, std::move(targets))}};
  };
  tasks.push_back(std::move(series));

  TaskDefinition adding;
  adding.name = "adding";
  adding.summary = "the adding problem: L steps of (value in [0, 1), marker); one marker in "
                   "each half; the target is the sum of the two marked values";
  adding.slots = {reals(true, true, "steps", 2, "(value, marker) per step"),
                  reals(false, false, {}, 1, "the sum of the marked values")};
  adding.metric = TaskMetric::MeanSquaredError;
  adding.defaultLength = 100;
  adding.minimumLength = 2;
  adding.baselineName = "always answering 1";
  adding.baseline = [](const TaskExample &) { return std::vector<float>{1.0f}; };
  adding.generate = [](Rng &rng, const TaskSettings &settings) {
    int64_t steps = settings.length, half = steps / 2;
    std::vector<float> inputs(size_t(steps * 2));
    for (int64_t t = 0; t < steps; ++t)
      inputs[size_t(2 * t)] = float(rng.uniform01());
    int64_t first = uniformInt(rng, 0, half - 1), second = uniformInt(rng, half, steps - 1);
    inputs[size_t(2 * first + 1)] = 1;
    inputs[size_t(2 * second + 1)] = 1;
    float sum = inputs[size_t(2 * first)] + inputs[size_t(2 * second)];
    return TaskExample{{realSlot(steps, std::move(inputs)), realSlot(1, {sum})}};
  };
  tasks.push_back(std::move(adding));

  TaskDefinition spell;
  spell.name = "spell";
  spell.summary = "a one-hot context vector for a number n below its size C; the target is "
                  "n in decimal digits (as many as C-1 has), generated from the context alone";
  spell.slots = {reals(true, false, {}, 0, "the one-hot number"),
                 tokens(false, "target", kStartAndDigits, "the digits (ids 1-10, 0 = start)")};
  spell.metric = TaskMetric::ExactMatch;
  spell.defaultLength = 0; // unused: the context size sets the number of digits
  spell.minimumLength = 0;
  spell.generate = [](Rng &rng, const TaskSettings &settings) {
    int64_t size = settings.slotSizes.at(0);
    int64_t number = uniformInt(rng, 0, size - 1);
    std::vector<float> context(static_cast<size_t>(size));
    context[size_t(number)] = 1;
    int64_t width = int64_t(plainDigits(size - 1).size());
    return TaskExample{{realSlot(1, std::move(context)), tokenSlot(digitIds(number, width))}};
  };
  tasks.push_back(std::move(spell));
  return tasks;
}

} // namespace

const std::vector<TaskDefinition> &taskDefinitions() {
  static const std::vector<TaskDefinition> tasks = makeDefinitions();
  return tasks;
}

const TaskDefinition *findTask(const std::string &name) {
  for (const TaskDefinition &task : taskDefinitions())
    if (task.name == name)
      return &task;
  return nullptr;
}

std::string taskNames() {
  std::string names;
  for (const TaskDefinition &task : taskDefinitions())
    names += (names.empty() ? "" : ", ") + task.name;
  return names;
}

} // namespace rnnc
