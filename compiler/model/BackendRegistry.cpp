#include "compiler/model/BackendRegistry.h"

#include "compiler/aot/AotBackend.h"
#include "compiler/codegen/KernelPlan.h"
#include "compiler/jit/JitBackend.h"

#include <functional>
#include <map>

namespace rnnc::model {

namespace {

/// The reference interpreter as a backend.
class InterpreterBackend final : public backend::Backend {
public:
  std::string name() const override { return "interp"; }
  Expected<TensorMap> run(const ir::Graph &graph, const ir::Batch &batch,
                          const ir::RunOptions &options) override {
    return ir::runGraph(graph, batch, options);
  }
};

using BackendFactory = std::function<Expected<std::unique_ptr<backend::Backend>>(
    const backend::BackendOptions &options)>;

/// Every backend, by name.
const std::map<std::string, BackendFactory> &backendTable() {
  static const std::map<std::string, BackendFactory> table = {
      {"interp",
       [](const backend::BackendOptions &) -> Expected<std::unique_ptr<backend::Backend>> {
         return std::unique_ptr<backend::Backend>(std::make_unique<InterpreterBackend>());
       }},
      {"jit", jit::createJitBackend},
      {"aot", aot::createAotBackend},
  };
  return table;
}

} // namespace

std::vector<std::string> backendNames() {
  std::vector<std::string> names;
  for (const auto &entry : backendTable())
    names.push_back(entry.first);
  return names;
}

Expected<std::unique_ptr<backend::Backend>> createBackend(const std::string &name,
                                                          const backend::BackendOptions &options) {
  auto it = backendTable().find(name);
  if (it == backendTable().end()) {
    std::string known;
    for (const std::string &available : backendNames())
      known += (known.empty() ? "" : ", ") + available;
    return Error::user("unknown backend '" + name + "' (available: " + known + ")");
  }
  return it->second(options);
}

BackendChoice defaultBackend(const std::vector<const ir::Graph *> &graphs,
                             ir::Precision precision) {
  codegen::PlanOptions options;
  options.precision = precision;
  for (const ir::Graph *graph : graphs)
    if (auto plan = codegen::planKernel(*graph, options); !plan)
      return {"interp", "running on the interpreter: the JIT cannot compile graph '" +
                            graph->name() + "': " + plan.error().message};
  return {"jit", ""};
}

} // namespace rnnc::model
