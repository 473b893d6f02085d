// `rnnc graph <file>`: writes one graph of a model as Graphviz DOT: the folded circuit diagram
// (scans as clusters with their one-step delays) or, with --unfold N, the unfolded
// computational graph.
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelCommand.h"
#include "compiler/model/ModelLoading.h"
#include "ir/Dot.h"
#include "ir/Unfold.h"
#include "ir/Verifier.h"

namespace rnnc::driver {

namespace {

int runGraph(const std::vector<std::string> &args) {
  CommandLine commandLine;
  declareDimOverrides(commandLine, "override a dim of a .rnn model");
  commandLine.option("--unfold", "N", "draw the graph unrolled to exactly N steps")
      .option("--graph", "NAME", "the graph to draw (default: the first, usually forward)")
      .option("-o", "FILE", "write the DOT to FILE instead of standard output")
      .flag("--help", "show this help");
  auto input = parseInputFileCommandLine(commandLine, args, "graph");
  if (!input)
    return reportError(input.error());
  if (!*input)
    return 0;
  auto unfoldSteps = commandLine.getInt("--unfold", 0, 1, 1 << 16);
  if (!unfoldSteps)
    return reportError(unfoldSteps.error());

  auto module = model::loadModule((*input)->path, (*input)->dims);
  if (!module)
    return reportError(module.error());
  if ((*module)->graphs().empty())
    return reportError(Error::user("module @" + (*module)->name() + " has no graph to draw"));
  std::string name = commandLine.get("--graph").value_or((*module)->graphs()[0]->name());
  const ir::Graph *graph = (*module)->findGraph(name);
  if (!graph)
    return reportError(
        Error::user("module @" + (*module)->name() + " has no graph '@" + name + "'"));

  ir::Graph unfolded(name);
  if (commandLine.has("--unfold")) {
    if (Status status = ir::unfoldGraph(*graph, *unfoldSteps, unfolded); !status)
      return reportError(status.error());
    if (Status status = ir::verifyGraph(unfolded); !status) // a bug in unfolding
      return reportError(Error::internal(status.error().message));
    graph = &unfolded;
  }

  if (Status written = writeOutput(commandLine.get("-o"), ir::printDot(*graph)); !written)
    return reportError(written.error());
  return 0;
}

} // namespace

RNNC_REGISTER_COMMAND("graph", "write a model's graph as Graphviz DOT (--unfold N to unroll)",
                      runGraph);

} // namespace rnnc::driver
