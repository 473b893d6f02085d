// The backends by name (`interp`, `jit`, `aot`): the one table that knows every backend, so that
// compiler/backend/ keeps only the interface (Backend.h) and the backends' directories depend on
// it and not the reverse. `interp`, the reference interpreter as a backend, is defined here.
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

} // namespace rnnc::model
