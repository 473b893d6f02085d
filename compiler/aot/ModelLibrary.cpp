// libraryGraphs and compileLibrary (ModelLibrary.h).
#include "compiler/aot/ModelLibrary.h"

#include "compiler/aot/AbiTables.h"
#include "compiler/codegen/Codegen.h"
#include "compiler/codegen/Target.h"

#include <llvm/Linker/Linker.h>

namespace rnnc::aot {

namespace {

/// Gives every definition of `module` but `entry` internal linkage.
void internalizeAllBut(llvm::Module &module, const std::string &entry) {
  for (llvm::Function &function : module)
    if (!function.isDeclaration() && function.getName() != entry && !function.hasLocalLinkage())
      function.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &global : module.globals())
    if (!global.isDeclaration() && !global.hasLocalLinkage())
      global.setLinkage(llvm::GlobalValue::InternalLinkage);
}

/// The header names the file, never a comment terminator.
std::string commentSafe(std::string text) {
  for (size_t at = text.find("*/"); at != std::string::npos; at = text.find("*/"))
    text.replace(at, 2, "* /");
  return text;
}

} // namespace

Expected<std::vector<LibraryGraph>> libraryGraphs(ir::Module &module,
                                                  passes::PipelineOptions pipeline) {
  const ir::Graph *forward = module.findGraph("forward");
  if (!forward)
    return Error::user("model '" + module.name() + "' has no forward graph to compile");
  // A model without a loss has nothing to differentiate: its library has no backward kernel.
  // Hoisted like every compiled graph (PipelineOptions::hoist).
  pipeline.backward = forward->findOutput("loss") && !module.findGraph("backward");
  if (auto report = passes::runPipeline(module, pipeline); !report)
    return report.takeError();
  std::vector<LibraryGraph> graphs;
  for (const char *kind : {"forward", "backward", "generate"})
    if (const ir::Graph *graph = module.findGraph(kind))
      graphs.push_back({kind, graph});
  return graphs;
}

Expected<ModelLibrary> compileLibrary(const ir::Module &model,
                                      const std::vector<LibraryGraph> &graphs,
                                      const LibraryOptions &options,
                                      llvm::TargetMachine &machine) {
  ModelLibrary library;
  library.context = std::make_unique<llvm::LLVMContext>();
  LibraryDescription &description = library.description;
  description.modelName = model.name();
  description.prefix = options.prefix;
  description.source = commentSafe(options.source);
  description.dims = model.dims();
  description.modelSymbol = options.prefix + "_model";

  for (const LibraryGraph &graph : graphs) {
    codegen::PlanOptions planOptions;
    planOptions.precision = options.precision;
    planOptions.vectorBytes = codegen::vectorBytes(machine);
    planOptions.entryName = options.prefix + "_" + graph.kind;
    auto lowered = codegen::lowerGraph(*graph.graph, *library.context, planOptions);
    if (!lowered)
      return lowered.takeError();
    internalizeAllBut(*lowered->module, planOptions.entryName);
    if (!library.module) {
      library.module = std::move(lowered->module);
      library.module->setModuleIdentifier(options.prefix);
    } else if (llvm::Linker::linkModules(*library.module, std::move(lowered->module))) {
      return Error::internal("cannot link the " + graph.kind + " kernel into the library");
    }
    library.plans.push_back(std::move(lowered->plan));
    description.kernels.push_back(
        describeKernel(options.prefix, graph.kind, library.plans.back()));
  }
  if (!library.module)
    return Error::internal("a library without kernels");
  if (Status tables = emitAbiTables(description, *library.module); !tables)
    return tables.takeError();
  codegen::optimizeModule(*library.module, machine);
  return library;
}

} // namespace rnnc::aot
