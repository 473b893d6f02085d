// emitMachineCode (MachineCode.h): LLVM's legacy code generation pipeline (or the IR printer)
// into a string.
#include "compiler/aot/MachineCode.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Support/raw_ostream.h>

namespace rnnc::aot {

Expected<std::string> emitMachineCode(llvm::Module &module, llvm::TargetMachine &machine,
                                      MachineCodeKind kind) {
  if (kind == MachineCodeKind::LlvmIr) {
    std::string text;
    llvm::raw_string_ostream stream(text);
    module.print(stream, nullptr);
    stream.flush();
    return text;
  }
  llvm::SmallString<0> bytes;
  llvm::raw_svector_ostream stream(bytes);
  llvm::legacy::PassManager passes;
  bool object = kind == MachineCodeKind::Object;
  if (machine.addPassesToEmitFile(passes, stream, nullptr,
                                  object ? llvm::CodeGenFileType::ObjectFile
                                         : llvm::CodeGenFileType::AssemblyFile))
    return Error::user(std::string("the target cannot emit ") +
                       (object ? "object files" : "assembly"));
  passes.run(module);
  return std::string(bytes.str());
}

} // namespace rnnc::aot
