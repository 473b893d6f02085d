// The `aot` backend: runs a graph through the object file `rnnc compile --emit=obj` would write
// for it (ModelLibrary.h, MachineCode.h, for the host), linked into a shared library by the
// system C compiler and loaded with dlopen (SharedLibrary.h), with the same tensor marshalling
// as the JIT (backend::KernelRunner) and the library's own workspace size query. So it tests the
// ahead-of-time path end to end against the interpreter. A graph is compiled on its first run,
// once per precision, and cached by its address (Backend.h).
#pragma once

#include "compiler/backend/Backend.h"

#include <memory>

namespace rnnc::aot {

/// A new AOT backend for the host. No C compiler is a user error; an executable that does not
/// export the runtime ABI (link it with rnnc_aot) is an internal error.
Expected<std::unique_ptr<backend::Backend>> createAotBackend(const backend::BackendOptions &options);

} // namespace rnnc::aot
