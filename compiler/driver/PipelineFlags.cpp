#include "compiler/driver/PipelineFlags.h"

#include "ir/Printer.h"

#include <iostream>

namespace rnnc::driver {

void declarePipelineFlags(CommandLine &commandLine) {
  commandLine.option("--truncate", "K", "truncated BPTT: gradients flow back at most K steps")
      .option("--checkpoint", "K",
              "save the carried states every K steps, recompute the rest in the backward")
      .flag("--report", "print what the forward saves for the backward to stderr")
      .flag("--print-ir-after-all", "print the IR after every pass to stderr");
}

bool hasAutodiffFlags(const CommandLine &commandLine) {
  return commandLine.has("--truncate") || commandLine.has("--checkpoint") ||
         commandLine.has("--report");
}

Expected<passes::PipelineOptions> pipelineOptions(const CommandLine &commandLine, bool backward) {
  auto truncate = commandLine.getInt("--truncate", 0, 1, 1 << 30);
  if (!truncate)
    return truncate.takeError();
  auto checkpoint = commandLine.getInt("--checkpoint", 0, 1, passes::maxCheckpointSegment);
  if (!checkpoint)
    return checkpoint.takeError();
  passes::PipelineOptions options;
  options.backward = backward;
  options.autodiff = {.truncate = *truncate, .checkpoint = *checkpoint};
  if (commandLine.has("--print-ir-after-all"))
    options.afterPass = [](const std::string &pass, const ir::Module &module) {
      std::cerr << "// *** IR Dump After " << pass << " ***\n" << ir::printModule(module);
    };
  return options;
}

} // namespace rnnc::driver
