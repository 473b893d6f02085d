// The command-line flags of every subcommand that runs the pass pipeline to differentiate a model
// (`rnnc ir --backward`, `rnnc run --grad`, `rnnc gradcheck`): --truncate K, --checkpoint K,
// --report and --print-ir-after-all, declared and read in one place so that they mean the same
// everywhere.
#pragma once

#include "compiler/driver/DriverCommon.h"
#include "compiler/passes/Pipeline.h"

namespace rnnc::driver {

/// Declares --truncate, --checkpoint, --report and --print-ir-after-all.
void declarePipelineFlags(CommandLine &commandLine);

/// True when --truncate, --checkpoint or --report was given (they need a backward graph).
bool hasAutodiffFlags(const CommandLine &commandLine);

/// The pipeline options the flags give: the autodiff options, and with --print-ir-after-all a
/// hook printing the module to standard error after every pass. `backward` is set to
/// `backward`; the caller sets any other pass it runs.
Expected<passes::PipelineOptions> pipelineOptions(const CommandLine &commandLine, bool backward);

} // namespace rnnc::driver
