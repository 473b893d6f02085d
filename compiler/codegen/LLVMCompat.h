// Every LLVM-version difference the code generator and the JIT depend on, in one place
// (style.md): the rest of compiler/codegen and compiler/jit call these wrappers and never test
// LLVM_VERSION_MAJOR themselves. Written against LLVM 19; the #if branches name the release that
// changed each API.
#pragma once

#include <llvm/ADT/StringMap.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include <string>

namespace rnnc::codegen::compat {

/// The declaration of an overloaded intrinsic (LLVM 20 renamed Intrinsic::getDeclaration to
/// getOrInsertDeclaration).
inline llvm::Function *intrinsic(llvm::Module &module, llvm::Intrinsic::ID id,
                                 llvm::ArrayRef<llvm::Type *> types) {
#if LLVM_VERSION_MAJOR >= 20
  return llvm::Intrinsic::getOrInsertDeclaration(&module, id, types);
#else
  return llvm::Intrinsic::getDeclaration(&module, id, types);
#endif
}

/// The host CPU's features as "+avx2,+fma,..." (LLVM 19 returns the map instead of filling one).
inline std::string hostCpuFeatures() {
  llvm::StringMap<bool> features;
#if LLVM_VERSION_MAJOR >= 19
  features = llvm::sys::getHostCPUFeatures();
#else
  if (!llvm::sys::getHostCPUFeatures(features))
    return "";
#endif
  std::string text;
  for (const auto &feature : features)
    text +=
        (text.empty() ? "" : ",") + std::string(feature.second ? "+" : "-") + feature.first().str();
  return text;
}

/// A target machine for `triple` (LLVM 21 takes the Triple itself rather than its string).
inline llvm::TargetMachine *createTargetMachine(const llvm::Target &target,
                                                const llvm::Triple &triple, const std::string &cpu,
                                                const std::string &features,
                                                llvm::CodeGenOptLevel level) {
  llvm::TargetOptions options;
#if LLVM_VERSION_MAJOR >= 21
  return target.createTargetMachine(triple, cpu, features, options, llvm::Reloc::PIC_, std::nullopt,
                                    level);
#else
  return target.createTargetMachine(triple.str(), cpu, features, options, llvm::Reloc::PIC_,
                                    std::nullopt, level);
#endif
}

} // namespace rnnc::codegen::compat
