// Machine code of an optimised LLVM module for a target machine, as an ELF object or as assembly
// text, in memory, or the module itself as LLVM IR text. Used by `rnnc compile
// --emit=obj|asm|llvm` and by the `aot` backend, so that the object a backend links is the one the
// command writes (and the driver includes no LLVM header).
#pragma once

#include "runtime/Error.h"

#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <string>

namespace rnnc::aot {

enum class MachineCodeKind { Object, Assembly, LlvmIr };

/// The bytes of the object file or the assembly text of `module` (already given the machine's
/// triple and data layout by codegen::optimizeModule), or its LLVM IR text. A target that cannot
/// emit the kind is a user error.
Expected<std::string> emitMachineCode(llvm::Module &module, llvm::TargetMachine &machine,
                                      MachineCodeKind kind);

} // namespace rnnc::aot
