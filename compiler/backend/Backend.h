// Backends: what runs a graph of the IR on a batch. Every backend has the reference
// interpreter's contract (ir/Interpreter.h: tensor layouts, lengths, generation, sampling), so
// any two can be compared output for output. `interp` is the interpreter itself; compiled
// backends (`jit`, `aot`) live in their own directories, are listed in the table of
// Backend.cpp, and compile a graph on its first run.
#pragma once

#include "ir/Graph.h"
#include "ir/Interpreter.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <memory>
#include <string>
#include <vector>

namespace rnnc::backend {

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
};

/// A backend by name; an unknown name is a user error listing the available ones.
Expected<std::unique_ptr<Backend>> createBackend(const std::string &name);
/// The registered backend names, sorted.
std::vector<std::string> backendNames();

} // namespace rnnc::backend
