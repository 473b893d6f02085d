// `rnnc compile model.rnn --emit=llvm|asm [-o FILE]`: compiles one graph of a model (forward by
// default; backward is derived by the pass pipeline) with the LLVM code generator and writes the
// optimised LLVM IR or the assembly of its kernel — the same code the JIT runs. The target is the
// host unless --target (a triple), --cpu and --features say otherwise. Object files and C headers
// (ahead-of-time compilation) come later.
#include "compiler/codegen/Codegen.h"
#include "compiler/codegen/Target.h"
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelData.h"
#include "compiler/passes/Pipeline.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Support/raw_ostream.h>

#include <fstream>
#include <iostream>

namespace rnnc::driver {
namespace {

Expected<std::string> assemblyOf(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::SmallString<4096> text;
  llvm::raw_svector_ostream stream(text);
  llvm::legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, stream, nullptr, llvm::CodeGenFileType::AssemblyFile))
    return Error::user("the target cannot emit assembly");
  passes.run(module);
  return std::string(text.str());
}

Status compileCommand(const std::vector<std::string> &args) {
  CommandLine commandLine;
  declareDimOverrides(commandLine);
  commandLine.option("--emit", "llvm|asm", "what to write (default llvm)")
      .option("-o", "FILE", "write to FILE instead of standard output")
      .option("--graph", "NAME", "the graph to compile: forward (default), backward, generate")
      .option("--precision", "f32|f64", "arithmetic precision of the kernel (default f32)")
      .option("--target", "TRIPLE", "target triple (default: the host)")
      .option("--cpu", "NAME", "target CPU, e.g. haswell (default: the host's)")
      .option("--features", "LIST", "target features, e.g. +avx2,+fma");
  auto modelPath = parseCommandLine(commandLine, args,
                                    "rnnc compile MODEL [-D NAME=VALUE]... --emit=llvm|asm "
                                    "[-o FILE] [--graph NAME] [--target TRIPLE] [--cpu NAME] "
                                    "[--features LIST]",
                                    "model file");
  if (!modelPath)
    return modelPath.takeError();
  if (!*modelPath)
    return Status::ok();
  std::string emit = commandLine.get("--emit").value_or("llvm");
  if (emit == "obj")
    return Error::user("--emit=obj is not available yet (ahead-of-time compilation)");
  if (emit != "llvm" && emit != "asm")
    return Error::user("unknown value '" + emit + "' for --emit (expected llvm or asm)");
  auto dtype = parseRealType("--precision", commandLine.get("--precision").value_or("f32"));
  if (!dtype)
    return dtype.takeError();

  auto module = loadModelWithOverrides(**modelPath, commandLine);
  if (!module)
    return module.takeError();
  std::string graphName = commandLine.get("--graph").value_or("forward");
  if (graphName == "backward" && !(*module)->findGraph("backward")) {
    passes::PipelineOptions pipeline;
    pipeline.backward = true;
    if (auto report = passes::runPipeline(**module, pipeline); !report)
      return report.takeError();
  }
  auto graph = findGraph(**module, graphName);
  if (!graph)
    return graph.takeError();

  codegen::TargetSelection selection;
  selection.triple = commandLine.get("--target").value_or("");
  selection.cpu = commandLine.get("--cpu").value_or("");
  selection.features = commandLine.get("--features").value_or("");
  auto machine = codegen::createTargetMachine(selection);
  if (!machine)
    return machine.takeError();

  llvm::LLVMContext context;
  codegen::PlanOptions options;
  options.precision = *dtype == DType::F64 ? ir::Precision::Double : ir::Precision::Float;
  options.entryName = "rnnc_" + (*module)->name() + "_" + graphName;
  auto lowered = codegen::lowerGraph(**graph, context, options);
  if (!lowered)
    return lowered.takeError();
  codegen::optimizeModule(*lowered->module, **machine);

  std::string text;
  if (emit == "asm") {
    auto assembly = assemblyOf(*lowered->module, **machine);
    if (!assembly)
      return assembly.takeError();
    text = assembly.take();
  } else {
    llvm::raw_string_ostream stream(text);
    lowered->module->print(stream, nullptr);
  }
  auto outputPath = commandLine.get("-o");
  if (!outputPath || *outputPath == "-") {
    std::cout << text;
    return Status::ok();
  }
  std::ofstream out(*outputPath, std::ios::binary);
  if (!(out << text))
    return Error::user("cannot write '" + *outputPath + "'");
  return Status::ok();
}

int runCompile(const std::vector<std::string> &args) {
  return runSubcommand([&] { return compileCommand(args); });
}

} // namespace

RNNC_REGISTER_COMMAND("compile", "compile a model's kernel with LLVM (--emit=llvm|asm)",
                      runCompile);

} // namespace rnnc::driver
