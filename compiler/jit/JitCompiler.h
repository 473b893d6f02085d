// In-process compilation of graphs to native kernels with ORC LLJIT: the host's CPU and features
// (JITTargetMachineBuilder::detectHost), LLVM's O3 pipeline (codegen/Target.h), and the runtime
// ABI registered by name (runtime/KernelABI.h) — the JIT resolves nothing from the process
// implicitly. One JitCompiler holds one LLJIT; kernels stay valid as long as it lives.
//
// Every kernel is compiled to an object file in memory and linked into a JITDylib of its own
// (so the same kernel may be loaded twice). With the compile cache (CompileCache.h) on, the
// object is looked up by the graph's key first: a hit skips lowering, optimisation and machine
// code generation, and only the plan, which is cheap, is computed again from the graph. The
// cache directory also keeps the products' wisdom, `product-wisdom-<host CPU>.txt`: the
// blockings the runtime's tuner chose by measurement (runtime/ProductTuning.h), so that a later
// process on the same kind of CPU does not tune those shapes again.
#pragma once

#include "compiler/backend/Backend.h"
#include "compiler/codegen/KernelPlan.h"
#include "compiler/jit/CompileCache.h"
#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/KernelABI.h"

#include <memory>

namespace rnnc::jit {

struct CompiledKernel {
  codegen::KernelPlan plan;
  rnnc_rt_kernel_fn function = nullptr;
  /// Lowering, optimisation and machine code generation (or the cache lookup), and linking, in
  /// milliseconds.
  double compileMilliseconds = 0;
  /// The machine code came from the compile cache.
  bool fromCache = false;
  /// The same time by stage, and the module's size (backend::CompileReport).
  backend::CompileReport report;
};

struct JitOptions {
  /// The CPU and features to compile for (backend::BackendOptions); empty: the host's.
  std::string cpu, features;
  /// By default where the environment says (XDG_CACHE_HOME, RNNC_CACHE); `{}` disables it.
  CompileCacheSettings cache = CompileCacheSettings::fromEnvironment();
};

class JitCompiler {
public:
  static Expected<std::unique_ptr<JitCompiler>> create(const JitOptions &options = {});
  ~JitCompiler();

  /// Lowers, optimises and compiles `graph` for the host. A graph with an op the code generator
  /// cannot lower is a located user error.
  Expected<std::unique_ptr<CompiledKernel>> compile(const ir::Graph &graph,
                                                    ir::Precision precision);

  /// The compile cache's counters (all zero when it is disabled).
  const CompileCacheStatistics &cacheStatistics() const;
  /// The key `graph` has in the compile cache when compiled in `precision` for this host.
  CacheKey cacheKey(const ir::Graph &graph, ir::Precision precision) const;

private:
  struct Engine;
  explicit JitCompiler(std::unique_ptr<Engine> engine);
  std::unique_ptr<Engine> engine_;
};

} // namespace rnnc::jit
