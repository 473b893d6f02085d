// A model compiled ahead of time into one LLVM module: every kernel (each graph lowered by the
// code generator with entry name <prefix>_<kind>, exactly as the JIT lowers it), the ABI tables
// and workspace size functions (AbiTables.h), optimised for one target machine. The command
// `rnnc compile` writes it as an object and a header; the `aot` backend links it and runs it.
//
// Invariant: the module's only external definitions are the symbols of LibraryDescription.h;
// everything else a kernel module defined is made internal before the modules are linked, so two
// kernels never clash and a program can link several models.
#pragma once

#include "compiler/aot/LibraryDescription.h"
#include "compiler/codegen/KernelPlan.h"
#include "compiler/passes/Pipeline.h"
#include "ir/Graph.h"
#include "runtime/Error.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>
#include <vector>

namespace rnnc::aot {

/// A graph to compile and the kernel it becomes: "forward", "backward" or "generate".
struct LibraryGraph {
  std::string kind;
  const ir::Graph *graph = nullptr;
};

struct LibraryOptions {
  std::string prefix;         ///< Of every symbol (symbolPrefix).
  std::string source;         ///< The model file's name, for the header.
  ir::Precision precision = ir::Precision::Float;
};

struct ModelLibrary {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
  /// One plan per kernel, in the order of description.kernels; they point into the graphs.
  std::vector<codegen::KernelPlan> plans;
  LibraryDescription description;
};

/// The kernels of a model a library holds: forward, backward (derived from the forward by the
/// pass pipeline with `pipeline`, unless the module already has it) and generate when the model
/// has a generate clause. Runs the pipeline on `module`.
Expected<std::vector<LibraryGraph>> libraryGraphs(ir::Module &module,
                                                  passes::PipelineOptions pipeline);

/// Lowers, links and optimises `graphs` of `model` for `machine`.
Expected<ModelLibrary> compileLibrary(const ir::Module &model,
                                      const std::vector<LibraryGraph> &graphs,
                                      const LibraryOptions &options, llvm::TargetMachine &machine);

} // namespace rnnc::aot
