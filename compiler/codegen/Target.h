// The machine a kernel is compiled for and the optimisation pipeline it goes through: the host
// by default (its CPU name and features, so AVX2 + FMA or AVX-512 where present), or a triple,
// CPU and feature string given on the command line (`rnnc compile --target --cpu`). Shared by
// the JIT and `rnnc compile --emit=llvm`, so the printed IR is the IR the JIT runs.
#pragma once

#include "runtime/Error.h"

#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>

namespace rnnc::codegen {

struct TargetSelection {
  std::string triple;   ///< Empty: the host's.
  std::string cpu;      ///< Empty: the host CPU when the triple is the host's, else "generic".
  std::string features; ///< "+avx2,+fma"; added to the host's features for the host CPU.
};

/// A target machine for `selection` at the highest code generation level. An unknown triple or
/// CPU is a user error.
Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetSelection &selection);

/// The width in bytes of the widest vector registers `machine` has: 64 with AVX-512, 32 with AVX,
/// else 16.
int64_t vectorBytes(const llvm::TargetMachine &machine);

/// Gives `module` the target's triple and data layout and every function its CPU and features,
/// then runs LLVM's O3 pipeline (with the loop and SLP vectorisers, without the loop unroller)
/// for that target. Also turns off LLVM's loop strength reduction in the code generator, for the
/// whole process (Target.cpp says why).
void optimizeModule(llvm::Module &module, llvm::TargetMachine &machine);

} // namespace rnnc::codegen
