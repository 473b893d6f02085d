// `rnnc compile model.rnn [-o FILE] [--header FILE] [--emit=obj|asm|llvm]`: compiles a model
// ahead of time (docs/aot.md) with the LLVM code generator, the same code the JIT runs.
//
// Two uses, one code path (compiler/aot/ModelLibrary.h):
//   a library   with --emit=obj, --header or --name: every kernel of the model (forward,
//               backward derived by the pass pipeline, generate when the model has one) with its
//               ABI tables, symbols prefixed by the file stem or --name, written as an object (or
//               assembly, or LLVM IR) plus the C header;
//   inspection  --emit=llvm|asm alone: one kernel (--graph, default forward) named
//               rnnc_<model>_<graph>, to read what the code generator makes of a graph.
// --graph limits a library to one kernel too. The default is --emit=obj when -o names a file,
// else LLVM IR on standard output. The target is the host unless --target (a triple), --cpu and
// --features say otherwise.
#include "compiler/aot/HeaderWriter.h"
#include "compiler/aot/MachineCode.h"
#include "compiler/aot/ModelLibrary.h"
#include "compiler/codegen/Target.h"
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelCommand.h"
#include "compiler/driver/PipelineFlags.h"
#include "compiler/model/ModelData.h"
#include "compiler/passes/Pipeline.h"

#include <filesystem>
#include <fstream>
#include <iostream>

namespace rnnc::driver {
namespace {

/// The graphs to compile: the one --graph names (deriving the backward when it is asked for),
/// else the whole library, else forward alone.
Expected<std::vector<aot::LibraryGraph>> graphsToCompile(ir::Module &module,
                                                         const CommandLine &commandLine,
                                                         const passes::PipelineOptions &pipeline,
                                                         bool library) {
  auto graphName = commandLine.get("--graph");
  if (!graphName && library)
    return aot::libraryGraphs(module, pipeline);
  std::string name = graphName.value_or("forward");
  // Hoisted like every compiled graph; the backward derived when it is asked for.
  passes::PipelineOptions options = pipeline;
  options.backward = name == "backward" && !module.findGraph("backward");
  if (auto report = passes::runPipeline(module, options); !report)
    return report.takeError();
  auto graph = model::findGraph(module, name);
  if (!graph)
    return graph.takeError();
  return std::vector<aot::LibraryGraph>{{name, *graph}};
}

Status compileCommand(const std::vector<std::string> &args) {
  CommandLine commandLine;
  declareDimOverrides(commandLine);
  commandLine.option("--emit", "obj|asm|llvm", "what to write (default: obj with -o, else llvm)")
      .option("-o", "FILE", "write to FILE instead of standard output")
      .option("--header", "FILE", "also write the C header of the compiled model")
      .option("--name", "PREFIX", "prefix of every symbol (default: the model file's stem)")
      .option("--graph", "NAME", "compile one kernel: forward, backward or generate")
      .option("--precision", "f32|f64", "arithmetic precision of the kernels (default f32)")
      .option("--target", "TRIPLE", "target triple (default: the host)")
      .option("--cpu", "NAME", "target CPU, e.g. haswell (default: the host's)")
      .option("--features", "LIST", "target features, e.g. +avx2,+fma");
  declarePipelineFlags(commandLine); // how the backward kernel is derived
  auto modelPath = parseCommandLine(commandLine, args,
                                    "rnnc compile MODEL [-D NAME=VALUE]... [-o FILE] "
                                    "[--header FILE] [--emit=obj|asm|llvm] [--name PREFIX] "
                                    "[--graph NAME] [--precision f32|f64] [--target TRIPLE] "
                                    "[--cpu NAME] [--features LIST] [--truncate K] "
                                    "[--checkpoint K]",
                                    "model file");
  if (!modelPath)
    return modelPath.takeError();
  if (!*modelPath)
    return Status::ok();
  auto outputPath = commandLine.get("-o");
  bool toFile = outputPath && *outputPath != "-";
  std::string emit = commandLine.get("--emit").value_or(toFile ? "obj" : "llvm");
  if (emit != "obj" && emit != "llvm" && emit != "asm")
    return Error::user("unknown value '" + emit + "' for --emit (expected obj, asm or llvm)");
  if (emit == "obj" && !toFile)
    return Error::user("--emit=obj writes a binary object file: name it with -o FILE");
  if (commandLine.has("--report"))
    return Error::user("option '--report' applies to rnnc run, not rnnc compile");
  auto dtype = parseRealType("--precision", commandLine.get("--precision").value_or("f32"));
  if (!dtype)
    return dtype.takeError();
  auto pipeline = pipelineOptions(commandLine, /*backward=*/true);
  if (!pipeline)
    return pipeline.takeError();

  auto module = loadModelWithOverrides(**modelPath, commandLine);
  if (!module)
    return module.takeError();
  bool library = emit == "obj" || commandLine.has("--header") || commandLine.has("--name");
  auto graphs = graphsToCompile(**module, commandLine, *pipeline, library);
  if (!graphs)
    return graphs.takeError();

  aot::LibraryOptions options;
  if (library) {
    auto prefix = aot::symbolPrefix(**modelPath, commandLine.get("--name").value_or(""));
    if (!prefix)
      return prefix.takeError();
    options.prefix = *prefix;
  } else {
    options.prefix = "rnnc_" + (*module)->name();
  }
  options.source = std::filesystem::path(**modelPath).filename().string();
  options.precision = *dtype == DType::F64 ? ir::Precision::Double : ir::Precision::Float;

  codegen::TargetSelection selection;
  selection.triple = commandLine.get("--target").value_or("");
  selection.cpu = commandLine.get("--cpu").value_or("");
  selection.features = commandLine.get("--features").value_or("");
  auto machine = codegen::createTargetMachine(selection);
  if (!machine)
    return machine.takeError();

  auto compiled = aot::compileLibrary(**module, *graphs, options, **machine);
  if (!compiled)
    return compiled.takeError();
  std::optional<std::string> header;
  if (commandLine.has("--header")) {
    auto text = aot::writeHeader(compiled->description);
    if (!text)
      return text.takeError();
    header = text.take();
  }

  auto code = aot::emitMachineCode(*compiled->module, **machine,
                                   emit == "obj"   ? aot::MachineCodeKind::Object
                                   : emit == "asm" ? aot::MachineCodeKind::Assembly
                                                   : aot::MachineCodeKind::LlvmIr);
  if (!code)
    return code.takeError();
  if (Status written = writeOutput(outputPath, *code); !written)
    return written;
  if (header)
    return writeOutput(commandLine.get("--header"), *header);
  return Status::ok();
}

int runCompile(const std::vector<std::string> &args) {
  return runSubcommand([&] { return compileCommand(args); });
}

} // namespace

RNNC_REGISTER_COMMAND("compile",
                      "compile a model ahead of time: object file and C header (--emit=obj|asm|llvm)",
                      runCompile);

} // namespace rnnc::driver
