// The synthetic task generators of `rnnc train --task` (runtime/SyntheticTasks.h): the same seed
// gives the same examples, every example keeps the file's invariant (steps, ids below the
// vocabulary, one length per task axis), and each task's target is what its table says.
#include "runtime/SyntheticTasks.h"

#include <gtest/gtest.h>

#include <map>
#include <numeric>

namespace rnnc {
namespace {

TaskSettings settingsFor(const TaskDefinition &task) {
  TaskSettings settings;
  settings.length = task.defaultLength;
  for (const TaskSlot &slot : task.slots)
    settings.slotSizes.push_back(slot.isToken ? 0 : slot.size ? slot.size : 3);
  return settings;
}

std::vector<TaskExample> draw(const TaskDefinition &task, uint64_t seed, int count) {
  Rng rng(seed);
  std::vector<TaskExample> examples;
  for (int i = 0; i < count; ++i)
    examples.push_back(task.generate(rng, settingsFor(task)));
  return examples;
}

bool sameExamples(const std::vector<TaskExample> &a, const std::vector<TaskExample> &b) {
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t s = 0; s < a[i].slots.size(); ++s)
      if (a[i].slots[s].steps != b[i].slots[s].steps ||
          a[i].slots[s].tokens != b[i].slots[s].tokens ||
          a[i].slots[s].reals != b[i].slots[s].reals)
        return false;
  return true;
}

TEST(SyntheticTasksTest, SameSeedSameExamplesOtherSeedOthers) {
  for (const TaskDefinition &task : taskDefinitions()) {
    SCOPED_TRACE(task.name);
    EXPECT_TRUE(sameExamples(draw(task, 7, 50), draw(task, 7, 50)));
    EXPECT_FALSE(sameExamples(draw(task, 7, 50), draw(task, 8, 50)));
  }
}

TEST(SyntheticTasksTest, ExamplesKeepTheInvariant) {
  for (const TaskDefinition &task : taskDefinitions()) {
    SCOPED_TRACE(task.name);
    TaskSettings settings = settingsFor(task);
    for (const TaskExample &example : draw(task, 3, 200)) {
      ASSERT_EQ(example.slots.size(), task.slots.size());
      std::map<std::string, int64_t> axisSteps;
      for (size_t s = 0; s < task.slots.size(); ++s) {
        const TaskSlot &slot = task.slots[s];
        const TaskExample::Slot &values = example.slots[s];
        if (slot.isSequence) {
          EXPECT_GE(values.steps, 1);
          auto [known, inserted] = axisSteps.emplace(slot.axis, values.steps);
          EXPECT_EQ(known->second, values.steps) << "axis " << slot.axis;
        } else {
          EXPECT_EQ(values.steps, 1);
        }
        if (slot.isToken) {
          ASSERT_EQ(int64_t(values.tokens.size()), values.steps);
          for (int32_t id : values.tokens) {
            EXPECT_GE(id, 0);
            EXPECT_LT(id, slot.vocabulary);
          }
        } else {
          EXPECT_EQ(int64_t(values.reals.size()), values.steps * settings.slotSizes[s]);
        }
      }
    }
  }
}

TEST(SyntheticTasksTest, TargetsAreWhatTheTasksSay) {
  for (const TaskExample &example : draw(*findTask("reverse"), 1, 100)) {
    const auto &source = example.slots[0].tokens, &target = example.slots[1].tokens;
    ASSERT_EQ(source.size(), target.size());
    for (size_t i = 0; i < source.size(); ++i)
      EXPECT_EQ(target[i], source[source.size() - 1 - i] + 1);
  }
  for (const TaskExample &example : draw(*findTask("add"), 1, 100)) {
    int64_t a = 0, b = 0, sum = 0;
    bool second = false;
    for (int32_t id : example.slots[0].tokens) {
      if (id == 10)
        second = true;
      else
        (second ? b : a) = (second ? b : a) * 10 + id;
    }
    ASSERT_TRUE(second);
    ASSERT_EQ(example.slots[1].tokens.size(), 4u); // L + 1 digits for L = 3
    for (int32_t id : example.slots[1].tokens)
      sum = sum * 10 + (id - 1);
    EXPECT_EQ(sum, a + b);
  }
  for (const TaskExample &example : draw(*findTask("parity"), 1, 100)) {
    const auto &bits = example.slots[0].tokens;
    EXPECT_EQ(example.slots[1].tokens[0], std::accumulate(bits.begin(), bits.end(), 0) % 2);
  }
  int positives = 0;
  for (const TaskExample &example : draw(*findTask("pattern"), 1, 400))
    positives += example.slots[1].tokens[0];
  EXPECT_GT(positives, 150); // about half, by construction
  EXPECT_LT(positives, 250);
  for (const TaskExample &example : draw(*findTask("neighbours"), 1, 100)) {
    const auto &digits = example.slots[0].tokens, &tags = example.slots[1].tokens;
    for (size_t i = 0; i < digits.size(); ++i) {
      int expected = (i > 0 && digits[i - 1] < digits[i]) +
                     (i + 1 < digits.size() && digits[i + 1] < digits[i]);
      EXPECT_EQ(tags[i], expected);
    }
  }
  for (const TaskExample &example : draw(*findTask("cumsum"), 1, 100)) {
    int sum = 0;
    for (size_t i = 0; i < example.slots[0].tokens.size(); ++i) {
      sum = (sum + example.slots[0].tokens[i]) % 10;
      EXPECT_EQ(example.slots[1].tokens[i], sum);
    }
  }
  for (const TaskExample &example : draw(*findTask("series"), 1, 20)) {
    const auto &x = example.slots[0].reals, &y = example.slots[1].reals; // D = 3
    for (size_t i = 3; i < x.size(); ++i)
      EXPECT_EQ(x[i], y[i - 3]); // the target is the next value
  }
  for (const TaskExample &example : draw(*findTask("adding"), 1, 100)) {
    const auto &steps = example.slots[0].reals;
    ASSERT_EQ(steps.size(), 200u);
    std::vector<size_t> marked;
    float sum = 0;
    for (size_t t = 0; t < 100; ++t) {
      EXPECT_GE(steps[2 * t], 0.0f);
      EXPECT_LT(steps[2 * t], 1.0f);
      if (steps[2 * t + 1] == 1) {
        marked.push_back(t);
        sum += steps[2 * t];
      }
    }
    ASSERT_EQ(marked.size(), 2u);
    EXPECT_LT(marked[0], 50u);
    EXPECT_GE(marked[1], 50u);
    EXPECT_EQ(example.slots[1].reals[0], sum);
  }
  for (const TaskExample &example : draw(*findTask("spell"), 1, 50)) {
    const auto &context = example.slots[0].reals; // C = 3: one digit
    int64_t number = std::max_element(context.begin(), context.end()) - context.begin();
    EXPECT_EQ(std::accumulate(context.begin(), context.end(), 0.0f), 1.0f);
    EXPECT_EQ(example.slots[1].tokens, std::vector<int32_t>{int32_t(number) + 1});
  }
}

TEST(SyntheticTasksTest, NamesAndLookup) {
  EXPECT_EQ(taskNames(),
            "reverse, add, parity, pattern, neighbours, cumsum, series, adding, spell");
  EXPECT_EQ(findTask("nope"), nullptr);
  EXPECT_EQ(findTask("adding")->metric, TaskMetric::MeanSquaredError);
}

} // namespace
} // namespace rnnc
