// `rnnc sample`: writes text with a character model trained by `rnnc train`. It runs the model's
// `generate` graph through a backend (the JIT unless --backend says otherwise or the JIT cannot
// run it) on one sequence: the prime text (through the checkpoint's
// vocabulary) is read first, then `-n` characters are drawn one at a time, each fed back as the
// next input, and the prime and the drawn characters are printed.
//
// Temperature τ divides the logits before the softmax the model samples from: the driver
// rewrites each `sample(softmax(z))` of the generate graph into `sample(softmax(z / τ))` (a new
// scalar constant, a `div` and a second softmax inserted before the sample, so nothing else that
// reads the original softmax changes). τ < 1 sharpens the distribution, τ > 1 flattens it, and
// τ = 0 takes the most likely character (the interpreter's greedy mode) instead of sampling.
#include "compiler/backend/Backend.h"
#include "compiler/driver/DriverCommon.h"
#include "compiler/driver/ModelCommand.h"
#include "compiler/model/BackendRegistry.h"
#include "compiler/model/Checkpoint.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "compiler/model/Parameters.h"
#include "compiler/model/TrainingGraphs.h"
#include "ir/Verifier.h"
#include "runtime/TextData.h"

#include <cmath>
#include <iostream>
#include <limits>

namespace rnnc::driver {
namespace {

/// Makes every `sample` of `graph` draw from softmax(z / temperature) where it drew from
/// softmax(z) (see the file comment). A sample of anything but a softmax is a user error.
Status applyTemperature(ir::Graph &graph, double temperature, const std::string &modelName) {
  std::vector<ir::Op *> samples;
  graph.body().walk([&](ir::Op &op) {
    if (op.kind() == ir::OpKind::Sample)
      samples.push_back(&op);
  });
  for (ir::Op *sample : samples) {
    ir::Op *softmax = sample->operand(0)->definingOp();
    if (!softmax || softmax->kind() != ir::OpKind::Softmax)
      return Error::user("--temperature needs the generate clause of model '" + modelName +
                         "' to sample from softmax(...) (it divides the softmax's logits)");
    ir::Block &block = *sample->parentBlock();
    auto found = block.indexOf(sample);
    if (!found)
      return found.takeError();
    size_t index = *found;
    ir::Value *logits = softmax->operand(0);
    const ir::SourceLocation &location = softmax->location();
    auto scale = std::make_unique<ir::Op>(ir::OpKind::Constant, std::vector<ir::Value *>{},
                                          ir::Attributes{{"value", temperature}}, location);
    ir::Value *scaleValue = scale->addResult(ir::Type::scalar());
    auto divided = std::make_unique<ir::Op>(
        ir::OpKind::Div, std::vector<ir::Value *>{logits, scaleValue}, ir::Attributes{}, location);
    ir::Value *dividedValue = divided->addResult(logits->type());
    auto tempered = std::make_unique<ir::Op>(
        ir::OpKind::Softmax, std::vector<ir::Value *>{dividedValue}, ir::Attributes{}, location);
    ir::Value *temperedValue = tempered->addResult(softmax->result()->type());
    block.insert(index, std::move(scale));
    block.insert(index + 1, std::move(divided));
    block.insert(index + 2, std::move(tempered));
    sample->setOperand(0, temperedValue);
  }
  return Status::ok();
}

struct SampleSettings {
  std::string modelPath, paramsPath;
  std::optional<std::string> backend; ///< Unset: the JIT when it can run the model.
  int64_t threads = 1;
  std::map<std::string, long long> dims;
  std::optional<std::string> prime;
  int64_t characters = 200;
  double temperature = 1;
  uint64_t seed = 0;
};

Expected<std::optional<SampleSettings>>
parseSampleCommandLine(const std::vector<std::string> &args) {
  CommandLine commandLine;
  declareDimOverrides(commandLine);
  commandLine.option("--params", "FILE", "a checkpoint written by rnnc train")
      .option("--prime", "TEXT", "text to start from (default: a newline)")
      .option("-n", "N", "characters to generate (default 200)")
      .option("--temperature", "TAU", "divide the logits by TAU; 0: most likely (default 1)")
      .option("--seed", "S", "seed of the sampling (default 0)");
  declareBackendOption(commandLine, "NAME", "jit when it can run the model, else interp");
  declareThreadsOption(commandLine, "threads the kernels may use");
  auto model = parseModelCommandLine(commandLine, args,
                                     "rnnc sample MODEL --params FILE [--prime TEXT] [-n N] "
                                     "[--temperature TAU] [--seed S] [--backend NAME] "
                                     "[-D NAME=VALUE]...");
  if (!model)
    return model.takeError();
  if (!*model)
    return std::optional<SampleSettings>();
  SampleSettings settings;
  settings.modelPath = (*model)->path;
  settings.dims = (*model)->dims;
  auto paramsPath = requiredOption(commandLine, "--params");
  if (!paramsPath)
    return paramsPath.takeError();
  settings.paramsPath = *paramsPath;
  settings.prime = commandLine.get("--prime");
  if (settings.prime && settings.prime->empty())
    return Error::user("option '--prime' needs at least one character");
  auto characters = commandLine.getInt("-n", settings.characters, 1, 1 << 24);
  if (!characters)
    return characters.takeError();
  settings.characters = *characters;
  auto temperature = commandLine.getReal("--temperature", 1);
  if (!temperature)
    return temperature.takeError();
  if (!std::isfinite(*temperature) || *temperature < 0)
    return Error::user("option '--temperature' must be a number >= 0, got " +
                       *commandLine.get("--temperature"));
  settings.temperature = *temperature;
  auto seed = commandLine.getInt("--seed", 0, 0, std::numeric_limits<long long>::max());
  if (!seed)
    return seed.takeError();
  settings.seed = uint64_t(*seed);
  settings.backend = commandLine.get("--backend");
  auto threads = threadCount(commandLine);
  if (!threads)
    return threads.takeError();
  settings.threads = *threads;
  return std::optional<SampleSettings>(std::move(settings));
}

/// The prime's token ids: --prime through the vocabulary, else a newline (or, for a corpus
/// without newlines, its first character).
Expected<std::vector<int32_t>> primeIds(const SampleSettings &settings,
                                        const Vocabulary &vocabulary) {
  if (!settings.prime)
    return std::vector<int32_t>{vocabulary.idOf(U'\n').value_or(0)};
  auto text = decodeUtf8(*settings.prime, "--prime");
  if (!text)
    return text.takeError();
  return vocabulary.encode(*text, "--prime");
}

Status sampleCommand(const std::vector<std::string> &args) {
  auto parsed = parseSampleCommandLine(args);
  if (!parsed)
    return parsed.takeError();
  if (!*parsed)
    return Status::ok();
  const SampleSettings &settings = **parsed;

  auto checkpoint = model::readCheckpoint(settings.paramsPath);
  if (!checkpoint)
    return checkpoint.takeError();
  auto vocabulary = Vocabulary::fromCharacters(checkpoint->vocabulary, settings.paramsPath);
  if (!vocabulary)
    return vocabulary.takeError();
  std::map<std::string, long long> dims = settings.dims;
  for (const auto &[name, value] : checkpoint->dims)
    dims.emplace(name, value);
  auto model = model::findCharacterModel(settings.modelPath, dims);
  if (!model)
    return model.takeError();
  if (dims[model->vocabularyDim] != vocabulary->size())
    return Error::user("-D " + model->vocabularyDim + "=" +
                       std::to_string(dims[model->vocabularyDim]) + " conflicts with the " +
                       std::to_string(vocabulary->size()) + "-character vocabulary of '" +
                       settings.paramsPath + "'");
  auto module = model::loadModule(settings.modelPath, dims);
  if (!module)
    return module.takeError();
  auto forward = model::findGraph(**module, "forward");
  if (!forward)
    return forward.takeError();
  if (Status checked = model::checkParameters(**forward, checkpoint->params, settings.paramsPath);
      !checked)
    return checked;
  ir::Graph *generate = (*module)->findGraph("generate");
  auto generated = generate ? model::generatedInputs(*generate) : std::vector<const ir::Op *>{};
  if (generated.size() != 1 || generated[0]->nameAttr() != model->input)
    return Error::user("model '" + (*module)->name() + "' has no generate clause for its input '" +
                       model->input + "' (e.g. generate " + model->input + "[" + model->axis +
                       "+1] ~ softmax(o[" + model->axis + "])), so it cannot write text");
  if (settings.temperature != 0 && settings.temperature != 1) {
    if (Status tempered = applyTemperature(*generate, settings.temperature, (*module)->name());
        !tempered)
      return tempered;
    if (Status verified = ir::verifyModule(**module); !verified)
      return Error::internal("the generate graph does not verify after the temperature "
                             "rewrite: " +
                             verified.error().message);
  }

  auto prime = primeIds(settings, *vocabulary);
  if (!prime)
    return prime.takeError();
  int64_t primeLength = int64_t(prime->size());
  TensorMap data = {{model->input, Tensor::fromValues<int32_t>({primeLength, 1}, *prime)}};
  ir::Batch batch;
  batch.params = &checkpoint->params;
  batch.data = &data;
  batch.lengths[model->axis] = {primeLength + settings.characters};
  batch.primeLengths[model->axis] = {primeLength};
  ir::RunOptions options;
  options.precision = ir::Precision::Float;
  options.seed = settings.seed;
  options.greedy = settings.temperature == 0;
  options.threads = int(settings.threads);

  std::string backendName = settings.backend.value_or("");
  if (backendName.empty()) {
    model::BackendChoice choice = model::defaultBackend({generate});
    backendName = choice.name;
    if (!choice.notice.empty())
      std::cerr << "rnnc: note: " << choice.notice << "\n";
  }
  auto backend = model::createBackend(backendName);
  if (!backend)
    return backend.takeError();
  auto outputs = (*backend)->run(*generate, batch, options);
  if (!outputs)
    return outputs.takeError();
  std::string text = vocabulary->decode(outputs->at(model->input).values<int32_t>());
  std::cout << text << (text.empty() || text.back() != '\n' ? "\n" : "") << std::flush;
  return Status::ok();
}

int runSample(const std::vector<std::string> &args) {
  return runSubcommand([&] { return sampleCommand(args); });
}

} // namespace

RNNC_REGISTER_COMMAND("sample", "write text with a character model trained by rnnc train",
                      runSample);

} // namespace rnnc::driver
