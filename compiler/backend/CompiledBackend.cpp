// CompiledBackend (CompiledBackend.h).
#include "compiler/backend/CompiledBackend.h"

namespace rnnc::backend {

Expected<const LoadedKernel *> CompiledBackend::kernel(const ir::Graph &graph,
                                                       ir::Precision precision) {
  auto key = std::make_pair(&graph, precision);
  auto found = kernels_.find(key);
  if (found == kernels_.end()) {
    auto compiled = compile(graph, precision);
    if (!compiled)
      return compiled.takeError();
    found = kernels_.emplace(key, compiled.take()).first;
    reports_.push_back(found->second->report());
    reports_.back().graph = graph.name();
  }
  return found->second.get();
}

Expected<TensorMap> CompiledBackend::run(const ir::Graph &graph, const ir::Batch &batch,
                                         const ir::RunOptions &options) {
  auto shape = ir::checkBatch(graph, batch);
  if (!shape)
    return shape.takeError();
  auto loaded = kernel(graph, options.precision);
  if (!loaded)
    return loaded.takeError();
  return runner_.run((*loaded)->runnable(), batch, *shape, options);
}

Status CompiledBackend::prepare(const ir::Graph &graph, ir::Precision precision) {
  auto loaded = kernel(graph, precision);
  return loaded ? Status::ok() : Status(loaded.takeError());
}

std::vector<CompileReport> CompiledBackend::compileReports() const { return reports_; }

} // namespace rnnc::backend
