#include "compiler/model/Checkpoint.h"

#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "runtime/Safetensors.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace rnnc::model {

namespace {

constexpr const char *kOptimizerPrefix = "optimizer.";
constexpr const char *kHistoryName = "train.history";

Expected<unsigned long long> parseUnsigned(const std::string &text, const std::string &what) {
  errno = 0;
  char *end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE)
    return Error::user(what + " is not a whole number: '" + text + "'");
  return value;
}

/// The first column of the history holds step numbers: whole numbers a double holds exactly.
Status checkHistorySteps(const Tensor &history, const std::string &path) {
  constexpr double largestStep = 9007199254740992.0; // 2^53
  auto values = history.values<double>();
  int64_t columns = history.shape()[1];
  for (int64_t row = 0; row < history.shape()[0]; ++row) {
    double step = values[size_t(row * columns)];
    if (!(step >= 0 && step <= largestStep && step == std::floor(step)))
      return Error::user(path + ": tensor '" + kHistoryName + "' row " + std::to_string(row) +
                         ": the step " + formatNumber("%g", step) +
                         " is not a whole number in [0, 2^53]");
  }
  return Status::ok();
}

} // namespace

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

namespace {

/// The checkpoint of a safetensors file's tensors and metadata; `path` names it in errors.
Expected<Checkpoint> checkpointOf(Expected<TensorMap> tensors, SafetensorsMetadata &metadata,
                                  const std::string &path) {
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
      // A task run's history has its metric; a data set's has one too when the model predicts
      // its target, and text has none.
      int64_t columns = TrainingHistory::kTaskColumns;
      bool metric = tensor.rank() == 2 && tensor.shape()[1] == columns;
      if (!metric && checkpoint.task.empty())
        columns = TrainingHistory::kColumns;
      if (tensor.dtype() != DType::F64 || tensor.rank() != 2 || tensor.shape()[1] != columns)
        return Error::user(path + ": tensor '" + name + "' must be F64 [rows, " +
                           std::to_string(columns) + "]");
      if (Status steps = checkHistorySteps(tensor, path); !steps)
        return steps.takeError();
      checkpoint.history = std::move(tensor);
    } else if (name.rfind(prefix, 0) == 0) {
      checkpoint.optimizerState.emplace(name.substr(prefix.size()), std::move(tensor));
    } else {
      checkpoint.params.emplace(name, std::move(tensor));
    }
  }
  return checkpoint;
}

} // namespace

Expected<Checkpoint> readCheckpoint(const std::string &path) {
  SafetensorsMetadata metadata;
  return checkpointOf(readSafetensors(path, &metadata), metadata, path);
}

Expected<Checkpoint> parseCheckpoint(std::string_view bytes, const std::string &source) {
  SafetensorsMetadata metadata;
  return checkpointOf(parseSafetensors(bytes, source, &metadata), metadata, source);
}

} // namespace rnnc::model
