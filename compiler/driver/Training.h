// What `rnnc train` and `rnnc sample` share: the shape a model must have to be trained on text
// (a character-level language model), the graphs they run, and the checkpoint file.
//
// A character model reads one token input and one token target over one time axis (elman's
// `input x[t]: token<K>`, `target y[t]: token<K>`), both sized by the same plain dim: the
// vocabulary dim, which the corpus sets (`K` = the number of distinct characters).
//
// A checkpoint is a safetensors file (docs/training.md):
//   <param>             every parameter, by its model name (F32)
//   optimizer.<name>    the optimiser state (Optimizer::state(): "step", "m.W", "velocity.W" …)
//   train.history       F64 [rows, 6], one row per step (TrainingLog.h): step, train_loss,
//                       val_bpc (NaN when not evaluated), learning_rate, grad_norm, tokens_per_s;
//                       a task run adds a 7th column, its metric
//   __metadata__        model, dims (K=…,H=…), vocabulary (the characters in id order), step,
//                       seed, optimizer; and task (its name) for a --task run
// Parameter names have no dots, so they never collide with the prefixed names. The batch drawn
// at step s is a function of (seed, s) alone, so (seed, step) is the whole state of the data
// sampler and a run resumed from a checkpoint continues exactly as if never stopped.
#pragma once

#include "compiler/driver/TrainingLog.h"
#include "compiler/passes/Pipeline.h"
#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Safetensors.h"
#include "runtime/Tensor.h"
#include "runtime/TextData.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace rnnc::driver {

/// The names that make a model a character-level language model.
struct CharacterModel {
  std::string input;         ///< The token input over the time axis (x).
  std::string target;        ///< The token target over the same axis (y).
  std::string axis;          ///< Their time axis (t).
  std::string vocabularyDim; ///< The dim written in both token types (K).
};

/// Checks that the model file at `path` (with the dim overrides `dims`) is a character model and
/// names its parts; every other shape is a user error saying what is expected. Textual IR is
/// rejected: its vocabulary is a number, not a dim the corpus could set.
Expected<CharacterModel> findCharacterModel(const std::string &path,
                                            const std::map<std::string, long long> &dims);

/// The graphs one training run needs, from the module of a model: `backward` (loss and
/// gradients, derived with `options`: --truncate, --checkpoint) and `forward` (loss only, for
/// validation), each reduced to those outputs so that nothing else is computed.
struct TrainingGraphs {
  std::unique_ptr<ir::Module> module;
  const ir::Graph *forward = nullptr;
  const ir::Graph *backward = nullptr;
};
Expected<TrainingGraphs> buildTrainingGraphs(std::unique_ptr<ir::Module> module,
                                             passes::PipelineOptions options = {});

/// "K=65,H=128" (the `dims` metadata of a model's tensor files) as -D overrides.
Expected<std::map<std::string, long long>> parseDimsMetadata(const std::string &text,
                                                             const std::string &source);

struct Checkpoint {
  TensorMap params;
  std::string optimizer; ///< "adam" or "sgd".
  TensorMap optimizerState;
  std::string vocabulary; ///< The characters in id order, UTF-8 (empty for a task).
  std::string task;       ///< The --task of a synthetic-data run, else empty.
  std::map<std::string, long long> dims;
  int64_t step = 0;
  uint64_t seed = 0;
  Tensor history = Tensor(DType::F64, {0, TrainingHistory::kColumns});
};

/// Writes `checkpoint` atomically (temporary file, then rename) for `module`.
Status writeCheckpoint(const std::string &path, const Checkpoint &checkpoint,
                       const ir::Module &module);

/// Reads a checkpoint written by writeCheckpoint; a file without the checkpoint metadata (a
/// parameter file of `rnnc init`) is a user error saying so. The optimizer state is returned as
/// stored: Optimizer::loadState checks it.
Expected<Checkpoint> readCheckpoint(const std::string &path);

} // namespace rnnc::driver
