// The `jit` backend: runs a graph through a kernel compiled in process (JitCompiler.h) with the
// reference interpreter's contract (ir/Interpreter.h): the batch is checked by the interpreter's
// own ir::checkBatch, outputs have the same names, layouts and dtypes, sampling draws the same
// tokens, and run-time errors carry the same messages. A graph is compiled on its first run, once
// per precision, and cached by its address (Backend.h: the graph must outlive the backend's use).
#pragma once

#include "compiler/backend/Backend.h"

#include <memory>

namespace rnnc::jit {

/// A new JIT backend (its own LLJIT instance); an internal error when LLVM cannot target the host.
Expected<std::unique_ptr<backend::Backend>> createJitBackend(const backend::BackendOptions &options);

} // namespace rnnc::jit
