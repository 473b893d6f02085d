#include "compiler/driver/Training.h"

#include "compiler/driver/ModelData.h"
#include "compiler/frontend/Frontend.h"
#include "compiler/passes/DCE.h"
#include "compiler/passes/Pipeline.h"

#include <cerrno>
#include <cstdlib>
#include <functional>

namespace rnnc::driver {

namespace {

constexpr const char *kOptimizerPrefix = "optimizer.";
constexpr const char *kHistoryName = "train.history";

bool endsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The name of the dim written as the vocabulary of `data`'s token type, or an error when it
/// is an expression or a number.
Expected<std::string> vocabularyDimOf(const ast::DataDecl &data) {
  const ast::DimExpr &vocabulary = *data.typeSyntax.dims.at(0);
  if (vocabulary.kind != ast::DimExpr::Kind::Name)
    return Error::user(std::string(data.isInput() ? "input" : "target") + " '" + data.name +
                       "' has vocabulary token<" + ast::formatDimExpr(vocabulary) +
                       ">, not a plain dim that the corpus can set (write token<K> with dim K)");
  return vocabulary.name;
}

/// Removes every output of `graph` that `keep` rejects.
void keepOutputs(ir::Graph &graph, const std::function<bool(const std::string &)> &keep) {
  graph.body().eraseIf(
      [&](const ir::Op &op) { return op.kind() == ir::OpKind::Output && !keep(op.nameAttr()); });
}

Expected<unsigned long long> parseUnsigned(const std::string &text, const std::string &what) {
  errno = 0;
  char *end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE)
    return Error::user(what + " is not a whole number: '" + text + "'");
  return value;
}

} // namespace

Expected<CharacterModel> findCharacterModel(const std::string &path,
                                            const std::map<std::string, long long> &dims) {
  if (endsWith(path, ".rnnir"))
    return Error::user("'" + path +
                       "' is textual IR; training on text needs a model file (.rnn), whose "
                       "vocabulary dim the corpus sets");
  auto model = frontend::parseAndCheckModelFile(path, dims);
  if (!model)
    return model.takeError();
  const ast::Model &ast = **model;
  auto isTokenSequence = [](const auto &data) {
    return data->isPerStep() && data->typeSyntax.isToken;
  };
  if (ast.inputs.size() != 1 || ast.targets.size() != 1 || !isTokenSequence(ast.inputs[0]) ||
      !isTokenSequence(ast.targets[0]) || ast.inputs[0]->axis != ast.targets[0]->axis)
    return Error::user("model '" + ast.name +
                       "' is not a character model: training on text needs exactly one input "
                       "and one target, both tokens over the same time axis (input x[t]: "
                       "token<K>, target y[t]: token<K>)");
  const ast::DataDecl &input = *ast.inputs[0], &target = *ast.targets[0];
  auto inputDim = vocabularyDimOf(input);
  if (!inputDim)
    return inputDim.takeError();
  auto targetDim = vocabularyDimOf(target);
  if (!targetDim)
    return targetDim.takeError();
  if (*inputDim != *targetDim)
    return Error::user("input '" + input.name + "' (token<" + *inputDim + ">) and target '" +
                       target.name + "' (token<" + *targetDim +
                       ">) must share one vocabulary dim for character training");
  return CharacterModel{input.name, target.name, input.axis, *inputDim};
}

Expected<TrainingGraphs> buildTrainingGraphs(std::unique_ptr<ir::Module> module,
                                             passes::PipelineOptions options) {
  ir::Graph *forward = module->findGraph("forward");
  if (!forward || !forward->findOutput("loss"))
    return Error::user("model '" + module->name() + "' has no loss to train");
  options.backward = true;
  if (auto report = passes::runPipeline(*module, options); !report)
    return report.takeError();
  ir::Graph *backward = module->findGraph("backward");
  if (!backward)
    return Error::internal("the pipeline made no 'backward' graph");
  // Outputs nobody reads during training (elman's h and o) would cost as much as the loss.
  keepOutputs(*forward, [](const std::string &name) { return name == "loss"; });
  keepOutputs(*backward, [](const std::string &name) {
    return name == "loss" || name.rfind("grad.", 0) == 0;
  });
  passes::eliminateDeadCode(*module);
  return TrainingGraphs{std::move(module), forward, backward};
}

Expected<std::map<std::string, long long>> parseDimsMetadata(const std::string &text,
                                                             const std::string &source) {
  std::vector<std::string> definitions;
  for (size_t start = 0; start < text.size();) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos)
      comma = text.size();
    definitions.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  auto dims = parseDimOverrides(definitions);
  if (!dims)
    return Error::user(source + ": bad 'dims' metadata: " + dims.error().message);
  return dims;
}

Status writeCheckpoint(const std::string &path, const Checkpoint &checkpoint,
                       const ir::Module &module) {
  TensorMap tensors = checkpoint.params;
  for (const auto &[name, tensor] : checkpoint.optimizerState)
    tensors.emplace(kOptimizerPrefix + name, tensor);
  tensors.emplace(kHistoryName, checkpoint.history);
  SafetensorsMetadata metadata = modelMetadata(module);
  metadata["vocabulary"] = checkpoint.vocabulary;
  metadata["step"] = std::to_string(checkpoint.step);
  metadata["seed"] = std::to_string(checkpoint.seed);
  metadata["optimizer"] = checkpoint.optimizer;
  if (!checkpoint.task.empty())
    metadata["task"] = checkpoint.task;
  return writeSafetensors(path, tensors, metadata);
}

Expected<Checkpoint> readCheckpoint(const std::string &path) {
  SafetensorsMetadata metadata;
  auto tensors = readSafetensors(path, &metadata);
  if (!tensors)
    return tensors.takeError();
  Checkpoint checkpoint;
  for (std::string key : {"vocabulary", "step", "seed", "optimizer", "dims"})
    if (!metadata.count(key))
      return Error::user(path + ": not a checkpoint of rnnc train (no '" + key + "' metadata)");
  checkpoint.vocabulary = metadata["vocabulary"];
  checkpoint.optimizer = metadata["optimizer"];
  if (metadata.count("task"))
    checkpoint.task = metadata["task"];
  auto step = parseUnsigned(metadata["step"], path + ": 'step' metadata");
  if (!step)
    return step.takeError();
  checkpoint.step = int64_t(*step);
  auto seed = parseUnsigned(metadata["seed"], path + ": 'seed' metadata");
  if (!seed)
    return seed.takeError();
  checkpoint.seed = *seed;
  auto dims = parseDimsMetadata(metadata["dims"], path);
  if (!dims)
    return dims.takeError();
  checkpoint.dims = *dims;

  std::string prefix = kOptimizerPrefix;
  for (auto &[name, tensor] : *tensors) {
    if (name == kHistoryName) {
      int64_t columns =
          checkpoint.task.empty() ? TrainingHistory::kColumns : TrainingHistory::kTaskColumns;
      if (tensor.dtype() != DType::F64 || tensor.rank() != 2 || tensor.shape()[1] != columns)
        return Error::user(path + ": tensor '" + name + "' must be F64 [rows, " +
                           std::to_string(columns) + "]");
      checkpoint.history = std::move(tensor);
    } else if (name.rfind(prefix, 0) == 0) {
      checkpoint.optimizerState.emplace(name.substr(prefix.size()), std::move(tensor));
    } else {
      checkpoint.params.emplace(name, std::move(tensor));
    }
  }
  return checkpoint;
}

} // namespace rnnc::driver
