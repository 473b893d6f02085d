// `rnnc run`: runs a model on tensors from files and writes the results. One graph per mode:
//   default        `forward`: every output of the model and `loss`; when --inputs holds none of
//                  the model's targets, `inference` (InferenceGraph.h): the outputs that need no
//                  target, without the loss;
//   --grad         `backward`: the same plus `grad.<name>`; derived by the pass pipeline (autodiff,
//                  simplify, CSE, DCE, verified after each) with --truncate / --checkpoint, or
//                  taken as given from a textual-IR module that has one;
//   --generate N   `generate`: each example's prime (the generated names' tensors in --inputs,
//                  with per-example prime lengths from the lengths tensor of their axis), then N
//                  more steps, sampled (seeded by --seed) or argmax with --greedy.
// With --check-finite, a NaN or infinite output is an error naming its step and example
// (compiler/model/FiniteOutputs.h), and nothing is written. Parameters are checked against the
// model before anything runs (a missing, misshapen or unknown tensor is an error naming it;
// --rename maps a PyTorch state_dict's names); the data are checked by the backend. --backend
// names what runs the graph, from the table of compiler/model/BackendRegistry.h; without it, the
// JIT runs it when it can (else the interpreter, with a note saying why).
#include "compiler/backend/Backend.h"
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelCommand.h"
#include "compiler/driver/PipelineFlags.h"
#include "compiler/model/BackendRegistry.h"
#include "compiler/model/FiniteOutputs.h"
#include "compiler/model/InferenceGraph.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "compiler/model/Parameters.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <limits>

namespace rnnc::driver {
namespace {

struct RunSettings {
  std::string modelPath, paramsPath, outputPath;
  std::optional<std::string> backend; ///< Unset: the JIT when it can run the graph.
  int64_t threads = 1;
  std::vector<model::ParameterRename> renames; ///< --rename: of the parameter file's names.
  std::map<std::string, long long> dims;
  std::optional<std::string> inputsPath;
  std::optional<ir::Precision> precision; ///< Unset: the precision of the parameters.
  int64_t generateSteps = 0;              ///< 0: no generation.
  std::optional<int64_t> maxPrime;        ///< --prime: the longest prime to use.
  bool gradients = false;
  passes::PipelineOptions pipeline; ///< With --grad: how the backward graph is derived.
  bool report = false;              ///< --report: print what the forward saves for the backward.
  uint64_t seed = 0;
  bool greedy = false;
  bool checkFinite = false; ///< --check-finite: a NaN or infinite output is an error.
};

/// A backend from the table.
Expected<std::unique_ptr<backend::Backend>> selectBackend(const std::string &name) {
  std::vector<std::string> available = model::backendNames();
  if (std::find(available.begin(), available.end(), name) != available.end())
    return model::createBackend(name);
  return Error::user("unknown backend '" + name + "' (expected interp, jit or aot)");
}

/// The settings of a run, or nullopt when --help was printed.
Expected<std::optional<RunSettings>> parseRunCommandLine(const std::vector<std::string> &args) {
  CommandLine commandLine;
  declareDimOverrides(commandLine);
  commandLine.option("--params", "FILE", "the parameters (safetensors)");
  declareRenameOption(commandLine);
  commandLine
      .option("--inputs", "FILE", "the inputs, targets and lengths (safetensors)")
      .option("-o", "FILE", "the safetensors file to write the outputs to");
  declareBackendOption(commandLine, "jit|aot|interp", "jit when it can run the model, else interp");
  declareThreadsOption(commandLine, "threads the kernels may use");
  commandLine
      .option("--precision", "f32|f64", "arithmetic precision (default: that of the parameters)")
      .flag("--grad", "also compute the gradients of the loss, written as grad.<name>")
      .option("--generate", "N", "generate N steps after each example's prime")
      .option("--prime", "P", "use at most the first P steps of the prime (default: all)")
      .option("--seed", "S", "seed of the sampling in generation (default 0)")
      .flag("--greedy", "generate the most likely token instead of sampling")
      .flag("--check-finite", "stop at the first NaN or infinite output, naming where it is");
  declarePipelineFlags(commandLine); // with --grad
  auto model = parseModelCommandLine(commandLine, args,
                                     "rnnc run MODEL [-D NAME=VALUE]... --params FILE --inputs "
                                     "FILE -o FILE [--rename PREFIX=NEW]... [--backend jit|aot|interp] [--precision "
                                     "f32|f64] [--grad [--truncate K] [--checkpoint K] [--report] "
                                     "[--print-ir-after-all] | --generate N [--prime P] "
                                     "[--seed S] [--greedy]] [--check-finite]");
  if (!model)
    return model.takeError();
  if (!*model)
    return std::optional<RunSettings>();

  RunSettings settings;
  settings.modelPath = (*model)->path;
  settings.dims = (*model)->dims;
  settings.backend = commandLine.get("--backend");
  if (settings.backend)
    if (auto backend = selectBackend(*settings.backend); !backend)
      return backend.takeError();
  auto threads = threadCount(commandLine);
  if (!threads)
    return threads.takeError();
  settings.threads = *threads;
  if (auto text = commandLine.get("--precision")) {
    auto dtype = parseRealType("--precision", *text);
    if (!dtype)
      return dtype.takeError();
    settings.precision = *dtype == DType::F64 ? ir::Precision::Double : ir::Precision::Float;
  }
  auto steps = commandLine.getInt("--generate", 0, 1, 1 << 24);
  if (!steps)
    return steps.takeError();
  settings.generateSteps = *steps;
  settings.gradients = commandLine.has("--grad");
  if (!settings.gradients &&
      (hasAutodiffFlags(commandLine) || commandLine.has("--print-ir-after-all")))
    return Error::user("--truncate, --checkpoint, --report and --print-ir-after-all need --grad");
  auto pipeline = pipelineOptions(commandLine, /*backward=*/true);
  if (!pipeline)
    return pipeline.takeError();
  settings.pipeline = pipeline.take();
  settings.report = commandLine.has("--report");
  if (commandLine.has("--prime")) {
    auto prime = commandLine.getInt("--prime", 0, 0, 1 << 24);
    if (!prime)
      return prime.takeError();
    settings.maxPrime = *prime;
  }
  auto seed = commandLine.getInt("--seed", 0, 0, std::numeric_limits<long long>::max());
  if (!seed)
    return seed.takeError();
  settings.seed = static_cast<uint64_t>(*seed);
  settings.greedy = commandLine.has("--greedy");
  settings.checkFinite = commandLine.has("--check-finite");
  if (settings.generateSteps == 0) {
    for (const char *option : {"--prime", "--seed", "--greedy"})
      if (commandLine.has(option))
        return Error::user("option '" + std::string(option) + "' applies only with --generate");
  } else if (settings.gradients) {
    return Error::user("options '--grad' and '--generate' cannot be combined");
  }

  auto paramsPath = requiredOption(commandLine, "--params");
  if (!paramsPath)
    return paramsPath.takeError();
  settings.paramsPath = *paramsPath;
  auto renames = parameterRenames(commandLine);
  if (!renames)
    return renames.takeError();
  settings.renames = renames.take();
  auto outputPath = requiredOption(commandLine, "-o");
  if (!outputPath)
    return outputPath.takeError();
  settings.outputPath = *outputPath;
  // Generation may start from nothing: no prime, no static inputs, a batch of one.
  settings.inputsPath = commandLine.get("--inputs");
  if (!settings.inputsPath && settings.generateSteps == 0)
    return Error::user("option '--inputs' is required");
  return std::optional<RunSettings>(std::move(settings));
}

/// The `backward` graph --grad runs: given in a textual-IR module, else derived by the pass
/// pipeline (with its report, what the forward saves for the backward).
Expected<const ir::Graph *> backwardGraph(ir::Module &module, const RunSettings &settings,
                                          std::optional<passes::AutodiffReport> &report) {
  if (const ir::Graph *backward = module.findGraph("backward")) {
    const passes::AutodiffOptions &autodiff = settings.pipeline.autodiff;
    if (autodiff.truncate || autodiff.checkpoint || settings.report)
      return Error::user("module @" + module.name() +
                         " already has a backward graph; --truncate, --checkpoint and --report "
                         "apply only when rnnc derives it");
    return backward;
  }
  auto derived = passes::runPipeline(module, settings.pipeline);
  if (!derived)
    return derived.takeError();
  report = derived->autodiff;
  return model::findGraph(module, "backward");
}

Expected<const ir::Graph *> graphToRun(ir::Module &module, const RunSettings &settings,
                                       bool withoutTargets,
                                       std::optional<passes::AutodiffReport> &report) {
  if (settings.generateSteps > 0) {
    if (const ir::Graph *generate = module.findGraph("generate"))
      return generate; // Generation scans sample every step: nothing to hoist.
    return Error::user("model '" + module.name() +
                       "' has no generate clause, so it cannot run with --generate");
  }
  if (settings.gradients)
    return backwardGraph(module, settings, report);
  if (withoutTargets)
    if (auto inference = model::addInferenceGraph(module); !inference)
      return inference.takeError();
  passes::PipelineOptions hoistOnly = settings.pipeline;
  hoistOnly.backward = false;
  if (auto hoisted = passes::runPipeline(module, hoistOnly); !hoisted)
    return hoisted.takeError();
  return model::findGraph(module, withoutTargets ? model::inferenceGraphName : "forward");
}

/// One line per example and generated name: the prime, a bar, then the generated steps (a real
/// step prints its elements separated by commas).
void printGenerated(const ir::Graph &generate, const TensorMap &outputs, const ir::Batch &batch) {
  for (const ir::Op *input : model::generatedInputs(generate)) {
    const std::string &name = input->nameAttr(), &axis = input->result()->type().axis;
    auto output = outputs.find(name);
    if (output == outputs.end() || output->second.rank() < 2)
      continue;
    const Tensor &sequence = output->second;
    Tensor values = sequence.dtype() == DType::I32 ? sequence : sequence.convert(DType::F64);
    int64_t examples = sequence.shape()[1];
    int64_t width = sequence.numElements() / std::max<int64_t>(1, sequence.shape()[0] * examples);
    for (int64_t b = 0; b < examples; ++b) {
      int64_t length = batch.lengths.at(axis)[b], prime = batch.primeLengths.at(axis)[b];
      std::cout << name << " (example " << b << "):";
      for (int64_t t = 0; t < length; ++t) {
        std::cout << (t == prime ? " | " : " ");
        for (int64_t i = 0; i < width; ++i) {
          int64_t index = (t * examples + b) * width + i;
          char buffer[32];
          if (values.dtype() == DType::I32)
            std::snprintf(buffer, sizeof buffer, "%d", values.values<int32_t>()[index]);
          else
            std::snprintf(buffer, sizeof buffer, "%.6g", values.values<double>()[index]);
          std::cout << (i == 0 ? "" : ",") << buffer;
        }
      }
      std::cout << "\n";
    }
  }
}

/// T of the batch layout: the first dimension of the longest sequence tensor the graph reads.
int64_t paddedSteps(const TensorMap &data, const ir::Graph &graph) {
  int64_t steps = 0;
  for (ir::OpKind kind : {ir::OpKind::Input, ir::OpKind::Target})
    for (const ir::Op *op : graph.opsOfKind(kind))
      if (auto tensor = data.find(op->nameAttr());
          tensor != data.end() && op->result()->type().isSequence() && tensor->second.rank() > 0)
        steps = std::max(steps, tensor->second.shape()[0]);
  return steps;
}

/// What the forward saves for the backward, per step and for this batch's [T, B, ...] layout.
void printMemoryReport(const passes::AutodiffReport &report, int64_t steps, int64_t batch) {
  std::cerr << report.summary() << "batch layout [T = " << steps << ", B = " << batch
            << "]: the forward keeps " << report.bytesForBatch(steps, batch)
            << " bytes for the backward\n";
}

Status runCommand(const std::vector<std::string> &args) {
  auto parsed = parseRunCommandLine(args);
  if (!parsed)
    return parsed.takeError();
  if (!*parsed)
    return Status::ok();
  const RunSettings &settings = **parsed;

  auto module = model::loadModule(settings.modelPath, settings.dims);
  if (!module)
    return module.takeError();
  auto forward = model::findGraph(**module, "forward");
  if (!forward)
    return forward.takeError();
  auto params = model::readParameters(**forward, settings.paramsPath, settings.renames);
  if (!params)
    return params.takeError();
  TensorMap data;
  if (settings.inputsPath) {
    auto read = readSafetensors(*settings.inputsPath);
    if (!read)
      return read.takeError();
    if (Status checked = model::checkDataNames(**forward, *read, *settings.inputsPath); !checked)
      return checked;
    data = read.take();
  }
  std::optional<passes::AutodiffReport> autodiffReport;
  auto graph = graphToRun(**module, settings, model::targetsAbsent(**forward, data), autodiffReport);
  if (!graph)
    return graph.takeError();

  auto lengths = model::extractLengths(**forward, data);
  if (!lengths)
    return lengths.takeError();
  TensorMap graphInputs = model::graphData(**graph, data);
  ir::Batch batch;
  batch.params = &*params;
  batch.data = &graphInputs;
  batch.lengths = *lengths;
  if (settings.generateSteps > 0)
    if (Status generation = model::setUpGeneration(**graph, graphInputs, settings.generateSteps,
                                                   settings.maxPrime, batch);
        !generation)
      return generation;

  ir::RunOptions options;
  bool anyDouble = std::any_of(params->begin(), params->end(), [](const auto &param) {
    return param.second.dtype() == DType::F64;
  });
  options.precision =
      settings.precision.value_or(anyDouble ? ir::Precision::Double : ir::Precision::Float);
  options.seed = settings.seed;
  options.greedy = settings.greedy;
  options.threads = int(settings.threads);
  std::string backendName = settings.backend.value_or("");
  if (backendName.empty()) {
    model::BackendChoice choice = model::defaultBackend({*graph}, options.precision);
    backendName = choice.name;
    if (!choice.notice.empty())
      std::cerr << "rnnc: note: " << choice.notice << "\n";
  }
  auto backend = selectBackend(backendName);
  if (!backend)
    return backend.takeError();
  auto outputs = (*backend)->run(**graph, batch, options);
  if (!outputs)
    return outputs.takeError();
  if (settings.checkFinite)
    if (Status finite = model::checkOutputsFinite(**graph, *outputs); !finite)
      return finite;

  SafetensorsMetadata metadata = model::modelMetadata(**module);
  metadata["graph"] = (*graph)->name();
  if (Status written = writeSafetensors(settings.outputPath, *outputs, metadata); !written)
    return written;
  if (settings.generateSteps > 0) {
    printGenerated(**graph, *outputs, batch);
  } else if (auto loss = outputs->find("loss");
             loss != outputs->end() && loss->second.numElements() == 1) {
    Tensor value = loss->second.convert(DType::F64);
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.9g", value.values<double>()[0]);
    std::cout << "loss = " << buffer << " (batch "
              << model::batchSizeOf(**graph, graphInputs, batch) << ")\n";
  }
  if (settings.report && autodiffReport)
    printMemoryReport(*autodiffReport, paddedSteps(graphInputs, **graph),
                      model::batchSizeOf(**graph, graphInputs, batch));
  return Status::ok();
}

int runRun(const std::vector<std::string> &args) {
  return runSubcommand([&] { return runCommand(args); });
}

} // namespace

RNNC_REGISTER_COMMAND("run", "run a model on tensors from files (forward, gradients, generation)",
                      runRun);

} // namespace rnnc::driver
