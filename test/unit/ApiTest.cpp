// The public C++ API (rnnc/rnnc.h) against the command line's code and the reference
// interpreter: compile errors carry the CLI's messages, parameters initialise as `rnnc init`
// does and survive save/load, forward / forward+backward / generate through the JIT agree with
// the interpreter on a batch with mixed lengths, bad tensors are Failures naming them, and the
// optimiser lowers the loss and refuses non-finite gradients; CompileOptions::checkFinite makes a
// non-finite output a Failure naming it.
#include <rnnc/rnnc.h>

#include "compiler/backend/Backend.h"
#include "compiler/driver/DriverCommon.h"
#include "compiler/model/BackendRegistry.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "compiler/model/Parameters.h"
#include "runtime/Safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <unistd.h>

namespace {

const std::string kElman = RNNC_SOURCE_DIR "/examples/elman.rnn";
constexpr int64_t kSteps = 5, kBatch = 3, kVocabulary = 7;

rnnc::CompileOptions smallElman(const std::string &backend = "jit") {
  rnnc::CompileOptions options;
  options.dims = {{"K", kVocabulary}, {"H", 6}};
  options.backend = backend;
  return options;
}

/// Tokens and lengths of one batch with mixed lengths, kept alive with their views.
struct ElmanBatch {
  std::vector<int32_t> x, y, lengths = {int32_t(kSteps), 2, 4};
  ElmanBatch() {
    for (int64_t i = 0; i < kSteps * kBatch; ++i) {
      x.push_back(int32_t((i * 3 + 1) % kVocabulary));
      y.push_back(int32_t((i * 5 + 2) % kVocabulary));
    }
  }
  rnnc::TensorViews views() const {
    return {{"x", rnnc::TensorView::of(x.data(), {kSteps, kBatch})},
            {"y", rnnc::TensorView::of(y.data(), {kSteps, kBatch})},
            {"lengths", rnnc::TensorView::of(lengths.data(), {kBatch})}};
  }
};

rnnc::Model compile(const rnnc::CompileOptions &options) {
  auto model = rnnc::compileFile(kElman, options);
  EXPECT_TRUE(model) << model.error().message;
  return std::move(*model);
}

std::vector<double> valuesOf(const rnnc::TensorView &view) {
  std::vector<double> values;
  for (int64_t i = 0; i < view.elementCount(); ++i)
    values.push_back(view.type == rnnc::ElementType::F64   ? view.as<double>()[i]
                     : view.type == rnnc::ElementType::F32 ? double(view.as<float>()[i])
                                                           : double(view.as<int32_t>()[i]));
  return values;
}

void expectSameOutputs(const rnnc::Outputs &actual, const rnnc::Outputs &expected) {
  ASSERT_EQ(actual.names(), expected.names());
  for (const std::string &name : expected.names()) {
    auto a = actual.get(name), e = expected.get(name);
    ASSERT_TRUE(a && e) << name;
    ASSERT_EQ(a->shape, e->shape) << name;
    ASSERT_EQ(a->type, e->type) << name;
    std::vector<double> av = valuesOf(*a), ev = valuesOf(*e);
    for (size_t i = 0; i < ev.size(); ++i)
      ASSERT_NEAR(av[i], ev[i], 1e-4 * (1 + std::fabs(ev[i]))) << name << " [" << i << "]";
  }
}

TEST(ApiTest, CompileErrorsCarryTheCommandLineMessages) {
  auto unknownDim = rnnc::compileFile(kElman, {.dims = {{"Q", 3}}});
  ASSERT_FALSE(unknownDim);
  auto cli = rnnc::model::loadModule(kElman, {{"Q", 3}});
  ASSERT_FALSE(cli);
  EXPECT_EQ(unknownDim.error().message + "\n", cli.error().message);
  EXPECT_EQ(unknownDim.error().kind, rnnc::Failure::Kind::User);

  auto syntax = rnnc::compileString("model m {\n  dim H = \n}\n", {}, "m.rnn");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().message,
            "m.rnn:2:11: error: expected an integer value for dim 'H', got end of line\n"
            "  dim H = \n"
            "          ^");

  auto missing = rnnc::compileFile("/nonexistent/model.rnn");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            rnnc::model::loadModule("/nonexistent/model.rnn", {}).error().message);

  auto backend = rnnc::compileFile(kElman, {.backend = "gpu"});
  ASSERT_FALSE(backend);
  EXPECT_EQ(backend.error().message, rnnc::model::createBackend("gpu").error().message);
  EXPECT_EQ(backend.error().message.rfind("unknown backend 'gpu' (available: ", 0), 0u);
  EXPECT_EQ(rnnc::compileFile(kElman, {.threads = 0}).error().message,
            "threads must be at least 1, not 0");
  EXPECT_EQ(rnnc::compileFile(kElman, {.backward = false, .truncate = 2}).error().message,
            "truncate and checkpoint apply only with backward");
}

TEST(ApiTest, ParametersInitialiseLikeRnncInitAndRoundTrip) {
  rnnc::Model model = compile(smallElman());
  ASSERT_TRUE(model.parameters().initialize(7));
  auto module = rnnc::model::loadModule(kElman, {{"K", kVocabulary}, {"H", 6}});
  ASSERT_TRUE(module);
  auto expected =
      rnnc::model::initializeParameters(*(*module)->findGraph("forward"), 7, rnnc::DType::F32);
  ASSERT_TRUE(expected);
  EXPECT_EQ(model.parameters().names(), (std::vector<std::string>{"U", "V", "W", "b", "c"}));
  for (const auto &[name, tensor] : *expected) {
    auto view = model.parameters().get(name);
    ASSERT_TRUE(view) << name;
    ASSERT_EQ(view->shape, tensor.shape());
    EXPECT_EQ(std::memcmp(view->data, tensor.bytes(), tensor.byteSize()), 0) << name;
  }

  std::string path = std::filesystem::temp_directory_path() /
                     ("rnnc-api-test-" + std::to_string(::getpid()) + ".safetensors");
  ASSERT_TRUE(model.parameters().save(path));
  auto written = rnnc::readSafetensors(path);
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, *expected);

  // Views stay valid across initialize() and load(); load restores the saved values.
  auto w = model.parameters().get("W");
  ASSERT_TRUE(w);
  float saved = w->as<float>()[0];
  ASSERT_TRUE(model.parameters().initialize(8));
  EXPECT_NE(w->as<float>()[0], saved);
  ASSERT_TRUE(model.parameters().load(path));
  EXPECT_EQ(w->as<float>()[0], saved);

  // A file that does not fit the model: the CLI's message, and nothing changes.
  rnnc::TensorMap wrong = *written;
  wrong.at("W") = rnnc::Tensor(rnnc::DType::F32, {6, 5});
  ASSERT_TRUE(rnnc::writeSafetensors(path, wrong));
  auto refused = model.parameters().load(path);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, path + ": tensor 'W' has shape [6, 5], expected [6, 6]");
  EXPECT_EQ(w->as<float>()[0], saved);
  std::filesystem::remove(path);
  EXPECT_EQ(model.parameters().get("Z").error().message, "no parameter named 'Z'");
}

TEST(ApiTest, JitAgreesWithTheInterpreter) {
  ElmanBatch batch;
  rnnc::Model jit = compile(smallElman("jit")), interp = compile(smallElman("interp"));
  for (rnnc::Model *model : {&jit, &interp})
    ASSERT_TRUE(model->parameters().initialize(3));

  auto forward = jit.forward(batch.views()), expectedForward = interp.forward(batch.views());
  ASSERT_TRUE(forward) << forward.error().message;
  ASSERT_TRUE(expectedForward) << expectedForward.error().message;
  EXPECT_EQ(forward->names(), (std::vector<std::string>{"h", "loss", "o"}));
  expectSameOutputs(*forward, *expectedForward);
  EXPECT_EQ(forward->get("o")->shape, (std::vector<int64_t>{kSteps, kBatch, kVocabulary}));

  auto backward = jit.forwardBackward(batch.views()),
       expectedBackward = interp.forwardBackward(batch.views());
  ASSERT_TRUE(backward) << backward.error().message;
  ASSERT_TRUE(expectedBackward);
  expectSameOutputs(*backward, *expectedBackward);
  ASSERT_TRUE(backward->gradient("W"));
  EXPECT_EQ(backward->gradient("W")->shape, (std::vector<int64_t>{6, 6}));
  EXPECT_NEAR(*backward->loss(), *forward->loss(), 1e-4 * std::fabs(*forward->loss()));

  std::vector<int32_t> prime = {1, 2, 3, 4, 5, 6};
  std::vector<int32_t> primeLengths = {3, 1};
  rnnc::TensorViews primed = {{"x", rnnc::TensorView::of(prime.data(), {3, 2})},
                              {"lengths", rnnc::TensorView::of(primeLengths.data(), {2})}};
  auto generated = jit.generate(primed, {.steps = 4, .seed = 9});
  auto expectedGenerated = interp.generate(primed, {.steps = 4, .seed = 9});
  ASSERT_TRUE(generated) << generated.error().message;
  ASSERT_TRUE(expectedGenerated);
  EXPECT_EQ(valuesOf(*generated->get("x")), valuesOf(*expectedGenerated->get("x")));
  EXPECT_EQ(generated->get("x")->shape, (std::vector<int64_t>{7, 2}));
}

// Inference: forward on the inputs alone gives the outputs that need no target, with the values
// forward gives them with the targets, and no loss; forwardBackward still needs the targets.
TEST(ApiTest, ForwardWithoutTargetsComputesTheOutputs) {
  ElmanBatch batch;
  for (const std::string backend : {"jit", "interp"}) {
    SCOPED_TRACE(backend);
    rnnc::Model model = compile(smallElman(backend));
    ASSERT_TRUE(model.parameters().initialize(3));
    rnnc::TensorViews inputs = batch.views();
    inputs.erase("y");
    auto inference = model.forward(inputs);
    ASSERT_TRUE(inference) << inference.error().message;
    EXPECT_EQ(inference->names(), (std::vector<std::string>{"h", "o"}));
    EXPECT_FALSE(inference->loss());
    auto withTargets = model.forward(batch.views());
    ASSERT_TRUE(withTargets) << withTargets.error().message;
    for (const std::string name : {"h", "o"}) {
      SCOPED_TRACE(name);
      ASSERT_EQ(inference->get(name)->shape, withTargets->get(name)->shape);
      EXPECT_EQ(valuesOf(*inference->get(name)), valuesOf(*withTargets->get(name)));
    }
    EXPECT_EQ(model.forwardBackward(inputs).error().message, "missing target tensor 'y'");
  }
  // Jordan's outputs read the previous target (teacher forcing): generation predicts it.
  auto jordan = rnnc::compileFile(RNNC_SOURCE_DIR "/examples/jordan.rnn", {.dims = {{"H", 4}}});
  ASSERT_TRUE(jordan) << jordan.error().message;
  std::vector<int32_t> x(kSteps * 2, 1);
  EXPECT_EQ(jordan->forward({{"x", rnnc::TensorView::of(x.data(), {kSteps, 2})}}).error().message,
            "every output of model 'jordan' needs its targets ('y'); its generate clause predicts "
            "them");
}

TEST(ApiTest, BadTensorsAreFailuresNamingThem) {
  ElmanBatch batch;
  rnnc::Model model = compile(smallElman());
  rnnc::TensorViews views = batch.views();
  views["z"] = views["x"];
  EXPECT_EQ(model.forward(views).error().message,
            "batch: tensor 'z' is not an input, target or lengths tensor of the model");

  views = batch.views();
  std::vector<int32_t> outOfRange = batch.x;
  outOfRange[4] = 70;
  views["x"] = rnnc::TensorView::of(outOfRange.data(), {kSteps, kBatch});
  auto refused = model.forward(views);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "tensor 'x': token id 70 at index [1, 1] is out of range [0, 7)");

  views = batch.views();
  views["y"] = rnnc::TensorView{nullptr, rnnc::ElementType::I32, {kSteps, kBatch}};
  EXPECT_EQ(model.forward(views).error().message,
            "tensor 'y' of shape [5, 3] has no data (a null pointer)");
  views["y"] = rnnc::TensorView{batch.y.data(), rnnc::ElementType::I32, {kSteps, -1}};
  EXPECT_EQ(model.forward(views).error().message, "tensor 'y' has an invalid shape [5, -1]");
  views["y"] = rnnc::TensorView::of(batch.y.data(), {kSteps - 1, kBatch});
  auto mismatch = model.forward(views);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().kind, rnnc::Failure::Kind::User);
  EXPECT_NE(mismatch.error().message.find("'y'"), std::string::npos) << mismatch.error().message;

  rnnc::Model forwardOnly = compile({.dims = {{"H", 4}}, .backward = false});
  EXPECT_EQ(forwardOnly.forwardBackward(batch.views()).error().message,
            "model 'elman' was compiled without backward");
}

TEST(ApiTest, OptimizerLowersTheLossAndRefusesNonFiniteGradients) {
  ElmanBatch batch;
  rnnc::Model model = compile(smallElman());
  ASSERT_TRUE(model.parameters().initialize(1));
  rnnc::ParameterOptimizer adam({.clipNorm = 1.0});
  double first = 0, last = 0;
  for (int step = 0; step < 20; ++step) {
    auto result = model.forwardBackward(batch.views());
    ASSERT_TRUE(result) << result.error().message;
    (step == 0 ? first : last) = *result->loss();
    auto norm = adam.step(model.parameters(), *result, 0.05);
    ASSERT_TRUE(norm) << norm.error().message;
    EXPECT_GT(*norm, 0);
  }
  EXPECT_LT(last, 0.8 * first);

  auto forward = model.forward(batch.views());
  ASSERT_TRUE(forward);
  EXPECT_EQ(adam.step(model.parameters(), *forward, 0.05).error().message,
            "no gradient 'grad.U' in the outputs (pass the result of forwardBackward)");

  auto w = model.parameters().get("W");
  w->as<float>()[0] = std::nanf("");
  auto poisoned = model.forwardBackward(batch.views());
  ASSERT_TRUE(poisoned);
  float before = model.parameters().get("U")->as<float>()[0];
  auto refused = adam.step(model.parameters(), *poisoned, 0.05);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message.rfind("grad.", 0), 0u) << refused.error().message;
  EXPECT_NE(refused.error().message.find(" is nan"), std::string::npos);
  EXPECT_EQ(model.parameters().get("U")->as<float>()[0], before);
}

TEST(ApiTest, CheckFiniteNamesTheFirstNonFiniteOutput) {
  ElmanBatch batch;
  for (bool check : {false, true}) {
    rnnc::CompileOptions options = smallElman();
    options.checkFinite = check;
    rnnc::Model model = compile(options);
    ASSERT_TRUE(model.parameters().initialize(1));
    ASSERT_TRUE(model.forward(batch.views())) << "all finite";
    // The output bias c feeds o at every step of every example.
    model.parameters().get("c")->as<float>()[1] = INFINITY;
    for (bool backward : {false, true}) {
      auto result = backward ? model.forwardBackward(batch.views()) : model.forward(batch.views());
      if (!check) {
        EXPECT_TRUE(result) << result.error().message;
        continue;
      }
      ASSERT_FALSE(result);
      EXPECT_EQ(result.error().kind, rnnc::Failure::Kind::User);
      EXPECT_EQ(result.error().message,
                "output 'o' is inf at step 0 of example 0 (element [0, 0, 1])");
    }
  }
}

} // namespace
