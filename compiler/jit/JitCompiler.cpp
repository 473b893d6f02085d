// JitCompiler (JitCompiler.h): the compile cache, else codegen::lowerGraph, codegen::optimizeModule
// and machine code generation with the host target machine; then LLJIT links the object. The main
// JITDylib holds only the runtime ABI's symbols; each kernel's JITDylib links against it.
#include "compiler/jit/JitCompiler.h"

#include "compiler/codegen/Codegen.h"
#include "compiler/codegen/Target.h"
#include "ir/Printer.h"
#include "runtime/ProductTuning.h"

#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/TargetParser/Host.h>

#include <chrono>
#include <filesystem>
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
  std::unique_ptr<CompileCache> cache;
  int64_t kernels = 0;
};

JitCompiler::JitCompiler(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}
JitCompiler::~JitCompiler() = default;

Expected<std::unique_ptr<JitCompiler>> JitCompiler::create(const JitOptions &options) {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return fromLLVM(builder.takeError(), "cannot detect the host for the JIT");
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  if (!options.cpu.empty() || !options.features.empty()) {
    // The same CPU and feature checks (and the same features for a named CPU) as
    // `rnnc compile --cpu --features`.
    auto selected = codegen::createTargetMachine({"", options.cpu, options.features});
    if (!selected)
      return selected.takeError();
    builder->setCPU((*selected)->getTargetCPU().str());
    builder->getFeatures() = llvm::SubtargetFeatures((*selected)->getTargetFeatureString());
  }
  // What LLJIT sets for JITLink on x86-64 anyway, made explicit: the objects compiled here with
  // `machine` (and cached) must be the ones the JIT's own compiler would produce.
  builder->setRelocationModel(llvm::Reloc::PIC_);
  builder->setCodeModel(llvm::CodeModel::Small);
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
  engine->cache = std::make_unique<CompileCache>(options.cache);
  // The products' tuned blockings are remembered beside the kernels, per host CPU: they are
  // measurements of this machine (runtime/ProductTuning.h).
  if (ProductTuner *tuner = ProductTuner::process(); tuner && engine->cache->enabled()) {
    std::error_code error;
    std::filesystem::create_directories(engine->cache->directory(), error);
    tuner->useWisdomFile(engine->cache->directory() + "/product-wisdom-" +
                         llvm::sys::getHostCPUName().str() + ".txt");
  }
  return std::unique_ptr<JitCompiler>(new JitCompiler(std::move(engine)));
}

const CompileCacheStatistics &JitCompiler::cacheStatistics() const {
  return engine_->cache->statistics();
}

namespace {

/// The entry name of `graph`'s kernel. Every kernel has a JITDylib of its own, so the name need
/// not be unique, and a deterministic one keeps cached objects identical.
std::string entryNameOf(const ir::Graph &graph) { return "rnnc_" + graph.name(); }

int64_t instructionCount(const llvm::Module &module) {
  int64_t count = 0;
  for (const llvm::Function &function : module)
    count += static_cast<int64_t>(function.getInstructionCount());
  return count;
}

double millisecondsSince(std::chrono::steady_clock::time_point &start) {
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double, std::milli>(now - start).count();
  start = now;
  return elapsed;
}

} // namespace

CacheKey JitCompiler::cacheKey(const ir::Graph &graph, ir::Precision precision) const {
  const llvm::TargetMachine &machine = *engine_->machine;
  return makeCacheKey({.graphText = ir::printGraph(graph),
                       .precision = precision == ir::Precision::Double ? "f64" : "f32",
                       .triple = machine.getTargetTriple().str(),
                       .cpu = machine.getTargetCPU().str(),
                       .features = machine.getTargetFeatureString().str(),
                       .entryName = entryNameOf(graph)});
}

Expected<std::unique_ptr<CompiledKernel>> JitCompiler::compile(const ir::Graph &graph,
                                                               ir::Precision precision) {
  auto kernel = std::make_unique<CompiledKernel>();
  auto start = std::chrono::steady_clock::now(), stageStart = start;
  backend::CompileReport &report = kernel->report;
  codegen::PlanOptions options;
  options.precision = precision;
  options.vectorBytes = codegen::vectorBytes(*engine_->machine);
  options.entryName = entryNameOf(graph);
  CompileCache &cache = *engine_->cache;
  std::optional<CacheKey> key;
  std::optional<std::string> cached;
  if (cache.enabled()) {
    key = cacheKey(graph, precision);
    cached = cache.load(*key);
  }
  std::unique_ptr<llvm::MemoryBuffer> object;
  if (cached) {
    auto plan = codegen::planKernel(graph, options);
    if (!plan)
      return plan.takeError();
    kernel->plan = plan.take();
    kernel->fromCache = true;
    object = llvm::MemoryBuffer::getMemBufferCopy(*cached, options.entryName);
  } else {
    llvm::LLVMContext context;
    auto lowered = codegen::lowerGraph(graph, context, options);
    if (!lowered)
      return lowered.takeError();
    report.llvmInstructions = instructionCount(*lowered->module);
    report.lowerMilliseconds = millisecondsSince(stageStart);
    codegen::optimizeModule(*lowered->module, *engine_->machine);
    report.optimizedInstructions = instructionCount(*lowered->module);
    report.optimizeMilliseconds = millisecondsSince(stageStart);
    auto compiled = llvm::orc::SimpleCompiler(*engine_->machine)(*lowered->module);
    report.machineCodeMilliseconds = millisecondsSince(stageStart);
    if (!compiled)
      return fromLLVM(compiled.takeError(),
                      "cannot generate the machine code of graph '" + graph.name() + "'");
    object = std::move(*compiled);
    if (key)
      cache.store(*key, std::string_view(object->getBufferStart(), object->getBufferSize()));
    kernel->plan = std::move(lowered->plan);
  }

  llvm::orc::LLJIT &jit = *engine_->jit;
  auto library = jit.createJITDylib("rnnc_kernel_" + std::to_string(engine_->kernels++));
  if (!library)
    return fromLLVM(library.takeError(),
                    "cannot create a JITDylib for graph '" + graph.name() + "'");
  library->addToLinkOrder(jit.getMainJITDylib());
  if (llvm::Error error = jit.addObjectFile(*library, std::move(object)))
    return fromLLVM(std::move(error), "cannot add the kernel of graph '" + graph.name() + "'");
  auto address = jit.lookup(*library, options.entryName);
  if (!address)
    return fromLLVM(address.takeError(), "cannot link the kernel of graph '" + graph.name() + "'");
  kernel->function = address->toPtr<rnnc_rt_kernel_fn>();
  report.linkMilliseconds = millisecondsSince(stageStart);
  report.fromCache = kernel->fromCache;
  kernel->compileMilliseconds = millisecondsSince(start);
  return kernel;
}

} // namespace rnnc::jit
