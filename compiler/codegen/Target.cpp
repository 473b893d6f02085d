// Target machines and the O3 pipeline (Target.h).
#include "compiler/codegen/Target.h"

#include "compiler/codegen/LLVMCompat.h"

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/PassManager.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
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

void optimizeModule(llvm::Module &module, llvm::TargetMachine &machine) {
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
