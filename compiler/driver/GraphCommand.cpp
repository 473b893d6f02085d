// `rnnc graph <file>`: writes one graph of a model as Graphviz DOT: the folded circuit diagram
// (scans as clusters with their one-step delays) or, with --unfold N, the unfolded
// computational graph.
#include "compiler/driver/DriverCommon.h"
#include "compiler/model/ModelLoading.h"
#include "ir/Dot.h"
#include "ir/Unfold.h"
#include "ir/Verifier.h"

#include <fstream>
#include <iostream>

namespace rnnc::driver {

namespace {

int runGraph(const std::vector<std::string> &args) {
  CommandLine commandLine;
  commandLine.listOption("-D", "NAME=VALUE", "override a dim of a .rnn model")
      .option("--unfold", "N", "draw the graph unrolled to exactly N steps")
      .option("--graph", "NAME", "the graph to draw (default: the first, usually forward)")
      .option("-o", "FILE", "write the DOT to FILE instead of standard output")
      .flag("--help", "show this help");
  if (Status status = commandLine.parse(args); !status)
    return reportError(status.error());
  if (commandLine.has("--help")) {
    std::cout << "usage: rnnc graph <file.rnn|file.rnnir> [options]\n" << commandLine.usage();
    return 0;
  }
  if (commandLine.positional().size() != 1)
    return reportError(Error::user("graph expects one input file\n" + commandLine.usage()));
  auto dims = model::parseDimOverrides(commandLine.getList("-D"));
  if (!dims)
    return reportError(dims.error());
  auto unfoldSteps = commandLine.getInt("--unfold", 0, 1, 1 << 16);
  if (!unfoldSteps)
    return reportError(unfoldSteps.error());

  auto module = model::loadModule(commandLine.positional()[0], *dims);
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

  std::string text = ir::printDot(*graph);
  auto outputPath = commandLine.get("-o");
  if (!outputPath || *outputPath == "-") {
    std::cout << text;
    return 0;
  }
  std::ofstream out(*outputPath, std::ios::binary);
  if (!(out << text))
    return reportError(Error::user("cannot write '" + *outputPath + "'"));
  return 0;
}

} // namespace

RNNC_REGISTER_COMMAND("graph", "write a model's graph as Graphviz DOT (--unfold N to unroll)",
                      runGraph);

} // namespace rnnc::driver
