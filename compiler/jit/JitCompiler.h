// In-process compilation of graphs to native kernels with ORC LLJIT: the host's CPU and features
// (JITTargetMachineBuilder::detectHost), LLVM's O3 pipeline (codegen/Target.h), and the runtime
// ABI registered by name (runtime/KernelABI.h) — the JIT resolves nothing from the process
// implicitly. One JitCompiler holds one LLJIT; kernels stay valid as long as it lives.
#pragma once

#include "compiler/codegen/KernelPlan.h"
#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/KernelABI.h"

#include <memory>

namespace rnnc::jit {

struct CompiledKernel {
  codegen::KernelPlan plan;
  rnnc_rt_kernel_fn function = nullptr;
  /// Lowering, optimisation and machine code generation, in milliseconds.
  double compileMilliseconds = 0;
};

class JitCompiler {
public:
  static Expected<std::unique_ptr<JitCompiler>> create();
  ~JitCompiler();

  /// Lowers, optimises and compiles `graph` for the host. A graph with an op the code generator
  /// cannot lower is a located user error.
  Expected<std::unique_ptr<CompiledKernel>> compile(const ir::Graph &graph,
                                                    ir::Precision precision);

private:
  struct Engine;
  explicit JitCompiler(std::unique_ptr<Engine> engine);
  std::unique_ptr<Engine> engine_;
};

} // namespace rnnc::jit
