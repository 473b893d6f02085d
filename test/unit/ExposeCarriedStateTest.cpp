// exposeCarriedState (compiler/passes/ExposeCarriedState.h), the graph change of stateful
// training: elman's and lstm_lm's carried states become inputs `state.<name>` and outputs
// `state.<name>.final`; fed zeros the graph computes the loss it computed before, fed another
// state a different one, and the final state is the recurrence's value at each example's last
// step. A graph without a forward recurrence over one step is a user error.
#include "compiler/passes/ExposeCarriedState.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "compiler/model/Parameters.h"
#include "ir/Interpreter.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

namespace rnnc::passes {
namespace {

struct Outputs {
  TensorMap original, stateful;
};

/// Runs the forward graph of `model` as loaded and after exposeCarriedState, on the same random
/// batch (of lengths 6, 4 and 5) and parameters, with each state input filled by `fill`.
Outputs runBoth(const std::string &model, double fill, std::vector<CarriedState> &states) {
  auto original = model::loadModule(RNNC_SOURCE_DIR "/examples/" + model, {{"K", 7}, {"H", 3}});
  auto stateful = model::loadModule(RNNC_SOURCE_DIR "/examples/" + model, {{"K", 7}, {"H", 3}});
  EXPECT_TRUE(original && stateful);
  ir::Graph &forward = *(*stateful)->findGraph("forward");
  auto exposed = exposeCarriedState(forward);
  EXPECT_TRUE(exposed) << exposed.error().message;
  states = *exposed;
  EXPECT_TRUE(ir::verifyModule(**stateful));
  const ir::Graph &before = *(*original)->findGraph("forward");
  auto params = model::initializeParameters(before, 1, DType::F64);
  model::RandomDataOptions options;
  options.batch = 3;
  options.steps = 6;
  options.realType = DType::F64;
  TensorMap data = model::randomData(before, options);
  ir::Batch batch;
  batch.params = &*params;
  batch.data = &data;
  batch.lengths["t"] = {6, 4, 5};
  Outputs outputs;
  outputs.original = *ir::runGraph(before, batch);
  TensorMap withState = data;
  for (const CarriedState &state : states) {
    Tensor tensor(DType::F64, {3, state.type.shape.at(0)});
    for (double &value : tensor.values<double>())
      value = fill;
    withState.emplace(state.input, tensor);
  }
  batch.data = &withState;
  auto run = ir::runGraph(forward, batch);
  EXPECT_TRUE(run) << run.error().message;
  outputs.stateful = *run;
  return outputs;
}

double loss(const TensorMap &outputs) { return outputs.at("loss").values<double>()[0]; }

TEST(ExposeCarriedStateTest, ZeroStateKeepsTheLossAndAnotherChangesIt) {
  for (const char *model : {"elman.rnn", "lstm_lm.rnn"}) {
    SCOPED_TRACE(model);
    std::vector<CarriedState> states;
    Outputs zero = runBoth(model, 0, states);
    EXPECT_EQ(loss(zero.original), loss(zero.stateful));
    Outputs other = runBoth(model, 0.5, states);
    EXPECT_GT(std::abs(loss(other.original) - loss(other.stateful)), 1e-6);
  }
}

TEST(ExposeCarriedStateTest, TheFinalStateIsTheLastStepOfTheRecurrence) {
  std::vector<CarriedState> states;
  Outputs outputs = runBoth("elman.rnn", 0, states);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].input, "state.h");
  EXPECT_EQ(states[0].output, "state.h.final");
  // h is [T, B, H]: example b's last step is lengths[b] - 1.
  const Tensor &h = outputs.original.at("h");
  const Tensor &final = outputs.stateful.at("state.h.final");
  ASSERT_EQ(final.shape(), (std::vector<int64_t>{3, 3}));
  std::vector<int64_t> lengths{6, 4, 5};
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t i = 0; i < 3; ++i)
      EXPECT_EQ(final.values<double>()[size_t(b * 3 + i)],
                h.values<double>()[size_t(((lengths[size_t(b)] - 1) * 3 + b) * 3 + i)]);
  std::vector<CarriedState> lstm;
  runBoth("lstm_lm.rnn", 0, lstm);
  ASSERT_EQ(lstm.size(), 2u);
  EXPECT_EQ(lstm[0].input, "state.c");
  EXPECT_EQ(lstm[1].input, "state.h");
}

TEST(ExposeCarriedStateTest, AGraphWithoutRecurrenceIsAnError) {
  auto module = model::loadModuleFromSource(
      "model plain {\n  dim K = 3\n  input x[t]: token<K>\n  target y[t]: token<K>\n"
      "  param V: [K, K] = glorot\n  output o[t] = V @ onehot(x[t])\n"
      "  loss = sum_t nll(softmax(o[t]), y[t])\n}\n",
      "plain.rnn", {});
  ASSERT_TRUE(module) << module.error().message;
  auto exposed = exposeCarriedState(*(*module)->findGraph("forward"));
  ASSERT_FALSE(exposed);
  EXPECT_EQ(exposed.error().message,
            "graph 'forward' has no recurrence whose state --stateful could carry");
}

} // namespace
} // namespace rnnc::passes
