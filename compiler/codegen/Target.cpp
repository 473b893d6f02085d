// Target machines and the O3 pipeline (Target.h).
#include "compiler/codegen/Target.h"

#include "compiler/codegen/LLVMCompat.h"

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/PassManager.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/TargetParser/Host.h>

#include <mutex>

namespace rnnc::codegen {

namespace {

void initializeTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  });
}

} // namespace

Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetSelection &selection) {
  initializeTargets();
  bool host = selection.triple.empty();
  llvm::Triple triple(host ? llvm::sys::getProcessTriple()
                           : llvm::Triple::normalize(selection.triple));
  std::string problem;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple.str(), problem);
  if (!target)
    return Error::user("unknown target '" + triple.str() + "': " + problem);
  std::string cpu = selection.cpu;
  std::string features = selection.features;
  if (cpu.empty() && host) {
    cpu = llvm::sys::getHostCPUName().str();
    std::string hostFeatures = compat::hostCpuFeatures();
    features = features.empty() ? hostFeatures : hostFeatures + "," + features;
  }
  if (cpu.empty())
    cpu = "generic";
  std::unique_ptr<llvm::TargetMachine> machine(compat::createTargetMachine(
      *target, triple, cpu, features, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return Error::user("cannot create a target machine for '" + triple.str() + "'");
  if (!machine->getMCSubtargetInfo()->isCPUStringValid(cpu))
    return Error::user("unknown CPU '" + cpu + "' for target '" + triple.str() + "'");
  return machine;
}

int64_t vectorBytes(const llvm::TargetMachine &machine) {
  // The subtarget knows the features the CPU name implies, not only the explicit ones.
  const llvm::MCSubtargetInfo *subtarget = machine.getMCSubtargetInfo();
  if (subtarget->checkFeatures("+avx512f"))
    return 64;
  if (subtarget->checkFeatures("+avx"))
    return 32;
  return 16;
}

namespace {

/// Loop strength reduction, which LLVM's code generator runs on every loop, took 60 % of the
/// machine code time of elman's backward kernel (`llc -time-passes`: 0.21 of 0.35 s) and gains
/// nothing measurable now that the products run in the runtime: the generated loops are short
/// element-wise passes. The option is LLVM's own (`llc -disable-lsr`), global to the process, so
/// it is set once, before the first kernel reaches the code generator.
void disableLoopStrengthReduction() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto &options = llvm::cl::getRegisteredOptions();
    auto found = options.find("disable-lsr");
    if (found != options.end())
      if (auto *option = static_cast<llvm::cl::opt<bool> *>(found->second))
        option->setValue(true);
  });
}

} // namespace

void optimizeModule(llvm::Module &module, llvm::TargetMachine &machine) {
  disableLoopStrengthReduction();
  module.setTargetTriple(machine.getTargetTriple().str());
  module.setDataLayout(machine.createDataLayout());
  for (llvm::Function &function : module) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", machine.getTargetCPU());
    if (!machine.getTargetFeatureString().empty())
      function.addFnAttr("target-features", machine.getTargetFeatureString());
  }

  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager sccs;
  llvm::ModuleAnalysisManager modules;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  // The generated loops are element-wise passes and reductions that the loop vectoriser already
  // interleaves; unrolling them again doubled the module (3,685 against 2,186 instructions for
  // elman's backward) and its machine code time without making the kernels faster.
  tuning.LoopUnrolling = false;
  llvm::PassBuilder passes(&machine, tuning);
  passes.registerModuleAnalyses(modules);
  passes.registerCGSCCAnalyses(sccs);
  passes.registerFunctionAnalyses(functions);
  passes.registerLoopAnalyses(loops);
  passes.crossRegisterProxies(loops, functions, sccs, modules);
  llvm::ModulePassManager pipeline =
      passes.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  pipeline.run(module, modules);
}

} // namespace rnnc::codegen
