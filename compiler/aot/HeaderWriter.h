// The C header of an ahead-of-time compiled model (`rnnc compile --header`): plain C that a C or
// C++ compiler accepts, declaring every symbol of the object (LibraryDescription.h) and stating,
// per kernel, the index of every tensor in the argument block with its type and layout, so that a
// host fills `args->params[P_K_PARAM_W]` without reading the tables. It includes
// runtime/AotABI.h, the ABI's types and runtime functions.
#pragma once

#include "compiler/aot/LibraryDescription.h"
#include "runtime/Error.h"

#include <string>

namespace rnnc::aot {

/// The header text. Two tensors of a kernel whose names map to the same C macro name are a user
/// error.
Expected<std::string> writeHeader(const LibraryDescription &library);

} // namespace rnnc::aot
