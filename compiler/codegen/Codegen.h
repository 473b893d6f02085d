// The code generator's entry point: a graph of the IR in, an LLVM module with one kernel function
// specialised on every static shape out (batch size, lengths and prime lengths stay run-time
// arguments; the ABI is runtime/KernelABI.h), together with the plan that says how to call it.
// The module is not optimised; Target.h does that for a chosen CPU.
#pragma once

#include "compiler/codegen/KernelPlan.h"
#include "ir/Graph.h"
#include "runtime/Error.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <memory>

namespace rnnc::codegen {

struct LoweredGraph {
  KernelPlan plan;
  std::unique_ptr<llvm::Module> module;
};

/// Lowers `graph` (verified IR) for `options`. An op without a lowering is a located user error;
/// anything else that goes wrong is an internal error.
Expected<LoweredGraph> lowerGraph(const ir::Graph &graph, llvm::LLVMContext &context,
                                  const PlanOptions &options);

} // namespace rnnc::codegen
