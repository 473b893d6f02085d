// The JIT compiler itself: elman's graphs compile at the default dims (the sizes users run); the
// cold compile time of each, and the speed of a training step (backward graph) at the C1 shape
// of design.md as a ratio to the interpreter, are printed for the record — never asserted
// (style.md: speed is measured, not tested).
#include "compiler/jit/JitCompiler.h"
#include "compiler/backend/Backend.h"
#include "compiler/model/BackendRegistry.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "compiler/model/Parameters.h"
#include "compiler/passes/Pipeline.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

namespace rnnc {
namespace {

TEST(JitCompilerTest, ElmanCompilesAtDefaultDims) {
  auto module = model::loadModule(RNNC_SOURCE_DIR "/examples/elman.rnn", {});
  ASSERT_TRUE(module) << module.error().message;
  passes::PipelineOptions pipeline;
  pipeline.backward = true;
  auto report = passes::runPipeline(**module, pipeline);
  ASSERT_TRUE(report) << report.error().message;
  auto compiler = jit::JitCompiler::create({.cache = {}}); // cold compiles: no compile cache
  ASSERT_TRUE(compiler) << compiler.error().message;
  for (const char *name : {"forward", "backward", "generate"}) {
    const ir::Graph *graph = (*module)->findGraph(name);
    ASSERT_NE(graph, nullptr) << name;
    auto kernel = (*compiler)->compile(*graph, ir::Precision::Float);
    ASSERT_TRUE(kernel) << kernel.error().message;
    EXPECT_NE((*kernel)->function, nullptr);
    std::printf("elman %s (K=65, H=128): compiled in %.1f ms\n", name,
                (*kernel)->compileMilliseconds);
  }
}

double millisecondsOf(const std::function<void()> &work) {
  auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

TEST(JitCompilerTest, ElmanTrainingStepAgainstTheInterpreter) {
  // C1: one-hot 65 -> tanh RNN 256 -> softmax 65, T = 64, B = 32.
  auto module = model::loadModule(RNNC_SOURCE_DIR "/examples/elman.rnn", {{"H", 256}});
  ASSERT_TRUE(module) << module.error().message;
  passes::PipelineOptions pipeline;
  pipeline.backward = true;
  ASSERT_TRUE(passes::runPipeline(**module, pipeline));
  const ir::Graph &backward = *(*module)->findGraph("backward");
  auto params = model::initializeParameters(backward, 1, DType::F32);
  ASSERT_TRUE(params) << params.error().message;
  model::RandomDataOptions options;
  options.batch = 32;
  options.steps = 64;
  TensorMap data = model::randomData(backward, options);
  ir::Batch batch{&*params, &data, {}, {}, {}};
  ir::RunOptions run;
  run.precision = ir::Precision::Float;
  auto jit = model::createBackend("jit");
  ASSERT_TRUE(jit) << jit.error().message;
  ASSERT_TRUE((*jit)->run(backward, batch, run)); // compiles
  double jitMilliseconds = millisecondsOf([&] { ASSERT_TRUE((*jit)->run(backward, batch, run)); });
  double interpreterMilliseconds =
      millisecondsOf([&] { ASSERT_TRUE(ir::runGraph(backward, batch, run)); });
  std::printf("elman C1 training step (T=64, B=32, H=256): jit %.1f ms, interpreter %.1f ms "
              "(%.1fx)\n",
              jitMilliseconds, interpreterMilliseconds, interpreterMilliseconds / jitMilliseconds);
}

} // namespace
} // namespace rnnc
