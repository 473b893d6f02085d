// AotBackend (AotBackend.h).
#include "compiler/aot/AotBackend.h"

#include "compiler/aot/MachineCode.h"
#include "compiler/aot/ModelLibrary.h"
#include "compiler/aot/SharedLibrary.h"
#include "compiler/backend/CompiledBackend.h"
#include "compiler/codegen/Target.h"

#include <utility>

namespace rnnc::aot {

namespace {

/// The shared library of one graph's kernel, its plan, and the addresses in the library.
struct AotKernel final : public backend::LoadedKernel {
  backend::RunnableKernel runnable() const override { return call; }

  codegen::KernelPlan plan;
  std::unique_ptr<SharedLibrary> library;
  backend::RunnableKernel call;
};

class AotBackend final : public backend::CompiledBackend {
public:
  explicit AotBackend(std::unique_ptr<llvm::TargetMachine> machine)
      : machine_(std::move(machine)) {}

  std::string name() const override { return "aot"; }

private:
  Expected<std::unique_ptr<backend::LoadedKernel>> compile(const ir::Graph &graph,
                                                           ir::Precision precision) override {
    // The kernel's kind names its symbols; every library is loaded RTLD_LOCAL, so the same
    // names in two libraries do not clash.
    std::string kind = "kernel";
    LibraryOptions options;
    options.prefix = "rnnc_aot";
    options.source = graph.name();
    options.precision = precision;
    ir::Module model(graph.name());
    auto library = compileLibrary(model, {{kind, &graph}}, options, *machine_);
    if (!library)
      return library.takeError();
    auto object = emitMachineCode(*library->module, *machine_, MachineCodeKind::Object);
    if (!object)
      return object.takeError();
    auto shared = SharedLibrary::link(*object);
    if (!shared)
      return shared.takeError();
    const KernelDescription &description = library->description.kernels.front();
    auto kernel = std::make_unique<AotKernel>();
    kernel->plan = std::move(library->plans.front());
    kernel->library = shared.take();
    kernel->call.plan = &kernel->plan;
    kernel->call.entry =
        reinterpret_cast<rnnc_rt_kernel_fn>(kernel->library->symbol(description.entry));
    kernel->call.workspaceBytes = reinterpret_cast<int64_t (*)(int64_t, const int64_t *)>(
        kernel->library->symbol(description.workspaceFunction));
    if (!kernel->call.entry || !kernel->call.workspaceBytes)
      return Error::internal("the linked library of graph '" + graph.name() +
                             "' lacks its kernel or workspace function");
    return std::unique_ptr<backend::LoadedKernel>(std::move(kernel));
  }

  std::unique_ptr<llvm::TargetMachine> machine_;
};

} // namespace

Expected<std::unique_ptr<backend::Backend>> createAotBackend(const backend::BackendOptions &options) {
  if (Status exported = checkRuntimeExported(); !exported)
    return exported.takeError();
  if (auto compiler = cCompilerCommand(); !compiler)
    return compiler.takeError();
  auto machine = codegen::createTargetMachine({"", options.cpu, options.features});
  if (!machine)
    return machine.takeError();
  return std::unique_ptr<backend::Backend>(std::make_unique<AotBackend>(machine.take()));
}

} // namespace rnnc::aot
