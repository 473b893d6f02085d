// JitCompiler (JitCompiler.h): codegen::lowerGraph, codegen::optimizeModule with the host target
// machine, then LLJIT for the machine code. Every kernel gets a unique entry name in the main
// JITDylib, whose only other symbols are the runtime ABI's.
#include "compiler/jit/JitCompiler.h"

#include "compiler/codegen/Codegen.h"
#include "compiler/codegen/Target.h"

#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/TargetSelect.h>

#include <chrono>
#include <mutex>

namespace rnnc::jit {

namespace {

Error fromLLVM(llvm::Error error, const std::string &what) {
  return Error::internal(what + ": " + llvm::toString(std::move(error)));
}

} // namespace

struct JitCompiler::Engine {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::unique_ptr<llvm::TargetMachine> machine;
  int64_t kernels = 0;
};

JitCompiler::JitCompiler(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}
JitCompiler::~JitCompiler() = default;

Expected<std::unique_ptr<JitCompiler>> JitCompiler::create() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return fromLLVM(builder.takeError(), "cannot detect the host for the JIT");
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto machine = builder->createTargetMachine();
  if (!machine)
    return fromLLVM(machine.takeError(), "cannot create the JIT's target machine");
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*builder)).create();
  if (!jit)
    return fromLLVM(jit.takeError(), "cannot create the JIT");

  llvm::orc::SymbolMap symbols;
  for (const RuntimeSymbol &symbol : runtimeSymbols())
    symbols[(*jit)->mangleAndIntern(symbol.name)] = {
        llvm::orc::ExecutorAddr::fromPtr(symbol.address),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  if (llvm::Error error =
          (*jit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(symbols))))
    return fromLLVM(std::move(error), "cannot register the runtime with the JIT");

  auto engine = std::make_unique<Engine>();
  engine->jit = std::move(*jit);
  engine->machine = std::move(*machine);
  return std::unique_ptr<JitCompiler>(new JitCompiler(std::move(engine)));
}

Expected<std::unique_ptr<CompiledKernel>> JitCompiler::compile(const ir::Graph &graph,
                                                               ir::Precision precision) {
  auto start = std::chrono::steady_clock::now();
  codegen::PlanOptions options;
  options.precision = precision;
  options.entryName = "rnnc_" + graph.name() + "_" + std::to_string(engine_->kernels++);
  auto context = std::make_unique<llvm::LLVMContext>();
  auto lowered = codegen::lowerGraph(graph, *context, options);
  if (!lowered)
    return lowered.takeError();
  codegen::optimizeModule(*lowered->module, *engine_->machine);
  llvm::orc::ThreadSafeModule module(std::move(lowered->module), std::move(context));
  if (llvm::Error error = engine_->jit->addIRModule(std::move(module)))
    return fromLLVM(std::move(error), "cannot add the kernel of graph '" + graph.name() + "'");
  auto address = engine_->jit->lookup(options.entryName);
  if (!address)
    return fromLLVM(address.takeError(),
                    "cannot compile the kernel of graph '" + graph.name() + "'");
  auto kernel = std::make_unique<CompiledKernel>();
  kernel->plan = std::move(lowered->plan);
  kernel->function = address->toPtr<rnnc_rt_kernel_fn>();
  kernel->compileMilliseconds =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return kernel;
}

} // namespace rnnc::jit
