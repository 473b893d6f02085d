// CompiledBackend (CompiledBackend.h).
#include "compiler/backend/CompiledBackend.h"

namespace rnnc::backend {

Expected<TensorMap> CompiledBackend::run(const ir::Graph &graph, const ir::Batch &batch,
                                         const ir::RunOptions &options) {
  auto shape = ir::checkBatch(graph, batch);
  if (!shape)
    return shape.takeError();
  auto key = std::make_pair(&graph, options.precision);
  auto found = kernels_.find(key);
  if (found == kernels_.end()) {
    auto compiled = compile(graph, options.precision);
    if (!compiled)
      return compiled.takeError();
    found = kernels_.emplace(key, compiled.take()).first;
    reports_.push_back(found->second->report());
    reports_.back().graph = graph.name();
  }
  return runner_.run(found->second->runnable(), batch, *shape, options);
}

std::vector<CompileReport> CompiledBackend::compileReports() const { return reports_; }

} // namespace rnnc::backend
