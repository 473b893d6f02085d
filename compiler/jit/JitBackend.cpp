// JitBackend (JitBackend.h): a CompiledBackend whose kernels JitCompiler compiles in process.
#include "compiler/jit/JitBackend.h"

#include "compiler/backend/CompiledBackend.h"
#include "compiler/jit/JitCompiler.h"

#include <utility>

namespace rnnc::jit {

namespace {

class JitKernel final : public backend::LoadedKernel {
public:
  explicit JitKernel(std::unique_ptr<CompiledKernel> kernel) : kernel_(std::move(kernel)) {}
  backend::RunnableKernel runnable() const override {
    return {&kernel_->plan, kernel_->function, nullptr};
  }
  backend::CompileReport report() const override { return kernel_->report; }

private:
  std::unique_ptr<CompiledKernel> kernel_;
};

class JitBackend final : public backend::CompiledBackend {
public:
  explicit JitBackend(std::unique_ptr<JitCompiler> compiler) : compiler_(std::move(compiler)) {}

  std::string name() const override { return "jit"; }

private:
  Expected<std::unique_ptr<backend::LoadedKernel>> compile(const ir::Graph &graph,
                                                           ir::Precision precision) override {
    auto compiled = compiler_->compile(graph, precision);
    if (!compiled)
      return compiled.takeError();
    return std::unique_ptr<backend::LoadedKernel>(std::make_unique<JitKernel>(compiled.take()));
  }

  std::unique_ptr<JitCompiler> compiler_;
};

} // namespace

Expected<std::unique_ptr<backend::Backend>> createJitBackend(const backend::BackendOptions &options) {
  JitOptions jitOptions;
  jitOptions.cpu = options.cpu;
  jitOptions.features = options.features;
  auto compiler = JitCompiler::create(jitOptions);
  if (!compiler)
    return compiler.takeError();
  return std::unique_ptr<backend::Backend>(std::make_unique<JitBackend>(compiler.take()));
}

} // namespace rnnc::jit
