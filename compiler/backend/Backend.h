// Backends: what runs a graph of the IR on a batch. Every backend has the reference
// interpreter's contract (ir/Interpreter.h: tensor layouts, lengths, generation, sampling), so
// any two can be compared output for output. This directory holds only the interface and what
// compiled backends share (CompiledBackend, KernelRunner); the backends themselves live in their
// own directories (`jit`, `aot`) and are created by name through the registry of the model layer
// (compiler/model/BackendRegistry.h), which also holds `interp`, the interpreter itself.
#pragma once

#include "ir/Graph.h"
#include "ir/Interpreter.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <memory>
#include <string>
#include <vector>

namespace rnnc::backend {

/// What compiling one graph cost a compiled backend, by stage (all zero but `fromCache` and
/// `linkMilliseconds` when the machine code came from the compile cache).
struct CompileReport {
  std::string graph;
  bool fromCache = false;
  double lowerMilliseconds = 0;       ///< Planning and LLVM IR generation.
  double optimizeMilliseconds = 0;    ///< LLVM's optimisation pipeline.
  double machineCodeMilliseconds = 0; ///< Instruction selection to an object file.
  double linkMilliseconds = 0;        ///< Loading and linking the object (and the cache lookup).
  int64_t llvmInstructions = 0;       ///< LLVM IR instructions as generated, before optimisation.
  int64_t optimizedInstructions = 0;  ///< After optimisation.
};

/// One backend instance is used by one thread at a time (compiled backends keep a workspace
/// per instance); run batches in parallel with one instance per thread.
class Backend {
public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  /// Runs `graph` on `batch`. The graph must stay alive and unchanged while the backend is
  /// used (compiled backends cache by graph).
  virtual Expected<TensorMap> run(const ir::Graph &graph, const ir::Batch &batch,
                                  const ir::RunOptions &options) = 0;
  /// Makes `graph` ready to run in `precision` (a compiled backend compiles it now rather than
  /// on its first run, so that a caller can time the compile apart from the runs).
  virtual Status prepare(const ir::Graph &, ir::Precision) { return Status::ok(); }
  /// What compiling each graph run so far cost (empty for a backend that does not compile).
  virtual std::vector<CompileReport> compileReports() const { return {}; }
};

/// What a compiled backend compiles for: the host by default, or a CPU (`haswell`) and features
/// (`+avx2,+fma`) as `rnnc compile --cpu --features` take them (codegen/Target.h), so that code
/// for a smaller instruction set can be run and timed on a larger machine. The interpreter
/// ignores them.
struct BackendOptions {
  std::string cpu, features;
};

} // namespace rnnc::backend
