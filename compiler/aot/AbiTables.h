// Writes the data half of the AOT ABI into the LLVM module that holds a model's kernels: per
// kernel its workspace size function and its rnnc_kernel_info table, and the model's
// rnnc_model_info table (runtime/AotABI.h; symbol names in LibraryDescription.h). The tables
// are constant data with external linkage, so a C host reads them through the generated header
// without any rnnc code; the kernels' entries must already be defined in the module.
#pragma once

#include "compiler/aot/LibraryDescription.h"
#include "runtime/Error.h"

#include <llvm/IR/Module.h>

namespace rnnc::aot {

/// Adds the tables and workspace functions of `library` to `module`. An entry the module does
/// not define is an internal error.
Status emitAbiTables(const LibraryDescription &library, llvm::Module &module);

} // namespace rnnc::aot
