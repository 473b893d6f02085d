// The pass pipeline: the ordered list of IR-to-IR passes, read as a table of contents
// (Pipeline.cpp), with an option to verify the module after every pass and a hook to print it,
// and a way to run chosen passes alone by name.
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

/// Runs the pipeline: every pass the options enable, in the pipeline's order.
Expected<PipelineReport> runPipeline(ir::Module &module, const PipelineOptions &options);

/// Runs the passes named in `list` (comma-separated, e.g. "simplify,cse,dce"; a name may
/// repeat), in that order, whatever the options enable (`rnnc ir --passes=…`, like opt's
/// -passes=). An unknown name is a user error naming it and the known passes; nothing runs then.
Expected<PipelineReport> runPassList(ir::Module &module, const std::string &list,
                                     const PipelineOptions &options);

} // namespace rnnc::passes
