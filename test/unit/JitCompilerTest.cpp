// The JIT compiler itself: every example model's graphs compile at their default dims (the sizes
// users run), and the cold compile time of each is printed for the record (never asserted:
// style.md, speed is measured, not tested).
#include "compiler/jit/JitCompiler.h"
#include "compiler/driver/DriverCommon.h"
#include "compiler/passes/Pipeline.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace rnnc {
namespace {

TEST(JitCompilerTest, ElmanCompilesAtDefaultDims) {
  auto module = driver::loadModule(RNNC_SOURCE_DIR "/examples/elman.rnn", {});
  ASSERT_TRUE(module) << module.error().message;
  passes::PipelineOptions pipeline;
  pipeline.backward = true;
  auto report = passes::runPipeline(**module, pipeline);
  ASSERT_TRUE(report) << report.error().message;
  auto compiler = jit::JitCompiler::create();
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

} // namespace
} // namespace rnnc
