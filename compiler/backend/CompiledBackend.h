// What every backend that runs generated kernels shares (the JIT, compiler/jit/JitBackend.h, and
// ahead-of-time libraries, compiler/aot/AotBackend.h): the batch is checked by the interpreter's
// own ir::checkBatch, a graph is compiled on its first run once per precision and cached by its
// address (Backend.h: the graph must outlive the backend's use), and kernels run through one
// KernelRunner. A subclass says only how a graph becomes a kernel.
#pragma once

#include "compiler/backend/Backend.h"
#include "compiler/backend/KernelRunner.h"

#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace rnnc::backend {

/// A kernel a compiled backend made: whatever keeps its code alive, and how to call it.
class LoadedKernel {
public:
  virtual ~LoadedKernel() = default;
  virtual RunnableKernel runnable() const = 0;
  /// What compiling it cost; the graph name is filled in by CompiledBackend.
  virtual CompileReport report() const { return {}; }
};

class CompiledBackend : public Backend {
public:
  Expected<TensorMap> run(const ir::Graph &graph, const ir::Batch &batch,
                          const ir::RunOptions &options) final;
  Status prepare(const ir::Graph &graph, ir::Precision precision) final;
  std::vector<CompileReport> compileReports() const final;

protected:
  /// Compiles `graph` in `precision`; called once per graph and precision.
  virtual Expected<std::unique_ptr<LoadedKernel>> compile(const ir::Graph &graph,
                                                          ir::Precision precision) = 0;

private:
  /// The kernel of `graph` in `precision`, compiled on the first request.
  Expected<const LoadedKernel *> kernel(const ir::Graph &graph, ir::Precision precision);

  std::map<std::pair<const ir::Graph *, ir::Precision>, std::unique_ptr<LoadedKernel>> kernels_;
  std::vector<CompileReport> reports_; ///< One per compile, in order.
  KernelRunner runner_;
};

} // namespace rnnc::backend
