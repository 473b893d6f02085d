// `rnnc ir <file>`: prints the IR module of a model (`.rnn`) or of a textual IR file (`.rnnir`),
// verified, optionally with its derived `backward` graph or after passes chosen by name
// (--passes), reduced to one graph and unfolded to N steps (of a whole module, the graphs that
// can be: a note on stderr names each one left out and why).
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelCommand.h"
#include "compiler/driver/PipelineFlags.h"
#include "compiler/model/ModelLoading.h"
#include "ir/Printer.h"
#include "ir/Unfold.h"
#include "ir/Verifier.h"

#include <iostream>

namespace rnnc::driver {

namespace {

/// Keeps only the graph called `name`.
Status keepOnlyGraph(ir::Module &module, const std::string &name) {
  if (!module.findGraph(name))
    return Error::user("module @" + module.name() + " has no graph '@" + name + "'");
  std::vector<std::string> others;
  for (const auto &graph : module.graphs())
    if (graph->name() != name)
      others.push_back(graph->name());
  for (const auto &other : others)
    module.removeGraph(other);
  return Status::ok();
}

int runIr(const std::vector<std::string> &args) {
  CommandLine commandLine;
  declareDimOverrides(commandLine, "override a dim of a .rnn model");
  commandLine.option("--unfold", "N", "unroll every time axis to exactly N steps")
      .flag("--backward", "derive the backward graph (autodiff, then simplification)")
      .flag("--hoist", "hoist what does not depend on the carried state out of every scan")
      .option("--passes", "LIST",
              "run only these passes, in this order (e.g. simplify,cse,dce), like opt -passes=")
      .option("--graph", "NAME", "print only this graph (forward, generate, backward)")
      .option("-o", "FILE", "write to FILE instead of standard output")
      .flag("--help", "show this help");
  declarePipelineFlags(commandLine); // --truncate, --checkpoint and --report need --backward
  auto input = parseInputFileCommandLine(commandLine, args, "ir");
  if (!input)
    return reportError(input.error());
  if (!*input)
    return 0;
  auto unfoldSteps = commandLine.getInt("--unfold", 0, 1, 1 << 20);
  if (!unfoldSteps)
    return reportError(unfoldSteps.error());

  bool backward = commandLine.has("--backward");
  auto passList = commandLine.get("--passes");
  if (passList && (backward || commandLine.has("--hoist")))
    return reportError(Error::user("--passes runs the passes it names alone; leave out "
                                   "--backward and --hoist"));
  if (!backward && !passList && hasAutodiffFlags(commandLine))
    return reportError(Error::user("--truncate, --checkpoint and --report need --backward"));
  auto pipelineFlags = pipelineOptions(commandLine, backward);
  if (!pipelineFlags)
    return reportError(pipelineFlags.error());

  auto module = model::loadModule((*input)->path, (*input)->dims);
  if (!module)
    return reportError(module.error());
  if (backward || commandLine.has("--hoist")) {
    passes::PipelineOptions pipeline = *pipelineFlags;
    pipeline.hoist = commandLine.has("--hoist");
    auto report = passes::runPipeline(**module, pipeline);
    if (!report)
      return reportError(report.error());
    if (commandLine.has("--report"))
      std::cerr << report->autodiff->summary();
  }
  if (passList) {
    auto report = passes::runPassList(**module, *passList, *pipelineFlags);
    if (!report)
      return reportError(report.error());
    if (commandLine.has("--report") && report->autodiff)
      std::cerr << report->autodiff->summary();
  }
  if (auto graph = commandLine.get("--graph"))
    if (Status status = keepOnlyGraph(**module, *graph); !status)
      return reportError(status.error());
  if (commandLine.has("--unfold")) {
    // A whole module unfolds what it can (not `generate`, whose feed has a run-time length) and
    // says what it left out; a graph chosen with --graph must unfold.
    std::vector<ir::SkippedGraph> skipped;
    auto unfolded =
        ir::unfoldModule(**module, *unfoldSteps, commandLine.has("--graph") ? nullptr : &skipped);
    if (!unfolded)
      return reportError(unfolded.error());
    for (const ir::SkippedGraph &graph : skipped)
      std::cerr << "rnnc: note: graph @" << graph.graph << " is not unfolded: " << graph.reason
                << "\n";
    if (Status status = ir::verifyModule(**unfolded); !status) // a bug in unfolding
      return reportError(Error::internal(status.error().message));
    *module = unfolded.take();
  }

  if (Status written = writeOutput(commandLine.get("-o"), ir::printModule(**module)); !written)
    return reportError(written.error());
  return 0;
}

} // namespace

RNNC_REGISTER_COMMAND("ir", "print the IR of a model or .rnnir file (--unfold N to unroll)", runIr);

} // namespace rnnc::driver
