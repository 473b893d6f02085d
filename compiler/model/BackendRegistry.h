// The backends by name (`interp`, `jit`, `aot`): the one table that knows every backend, so that
// compiler/backend/ keeps only the interface (Backend.h) and the backends' directories depend on
// it and not the reverse. `interp`, the reference interpreter as a backend, is defined here, and
// the choice of a backend when the user names none (the JIT when it can run the model).
#pragma once

#include "compiler/backend/Backend.h"
#include "runtime/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace rnnc::model {

/// A backend by name; an unknown name (or CPU) is a user error listing the available ones.
Expected<std::unique_ptr<backend::Backend>>
createBackend(const std::string &name, const backend::BackendOptions &options = {});
/// The registered backend names, sorted.
std::vector<std::string> backendNames();

/// The backend a command runs `graphs` on when the user names none (`rnnc train`, `sample`,
/// `run`): the JIT when it can compile every graph (the code generator plans it), else the
/// interpreter, with `notice` saying in one line why.
struct BackendChoice {
  std::string name;
  std::string notice; ///< Empty for the JIT.
};
BackendChoice defaultBackend(const std::vector<const ir::Graph *> &graphs,
                             ir::Precision precision = ir::Precision::Float);

} // namespace rnnc::model
