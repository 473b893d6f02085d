// The pass pipeline: the ordered list of IR-to-IR passes, read as a table of contents
// (Pipeline.cpp), with an option to verify the module after every pass and a hook to print it.
#pragma once

#include "compiler/passes/Autodiff.h"
#include "ir/Graph.h"
#include "runtime/Error.h"

#include <functional>
#include <optional>
#include <string>

namespace rnnc::passes {

struct PipelineOptions {
  /// Derive the `backward` graph (autodiff, then the clean-up passes).
  bool backward = false;
  AutodiffOptions autodiff;
  /// Time-parallel hoisting (HoistTimeParallel.h) of every graph. On for everything that runs a
  /// model (compiled kernels need it to batch products over time; the interpreter gives the same
  /// results either way); `rnnc ir` prints unhoisted IR unless asked.
  bool hoist = true;
  /// Run ir::verifyModule after every pass; a failure is an internal error naming the pass.
  bool verifyEachPass = true;
  /// Called after every pass with its name (for --print-ir-after-all).
  std::function<void(const std::string &pass, const ir::Module &module)> afterPass;
};

struct PipelineReport {
  std::optional<AutodiffReport> autodiff; ///< When the backward graph was derived.
};

Expected<PipelineReport> runPipeline(ir::Module &module, const PipelineOptions &options);

} // namespace rnnc::passes
