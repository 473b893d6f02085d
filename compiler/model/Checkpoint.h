// The checkpoint file of a training run (`rnnc train --save`, `--resume`, `rnnc sample
// --params`), a safetensors file (docs/training.md):
//   <param>             every parameter, by its model name (F32)
//   optimizer.<name>    the optimiser state (Optimizer::state(): "step", "m.W", "velocity.W" …)
//   train.history       F64 [rows, 6], one row per step (TrainingHistory.h): step, train_loss,
//                       val_bpc (NaN when not evaluated), learning_rate, grad_norm, tokens_per_s;
//                       a task run adds a 7th column, its metric (and so does a data-set run
//                       whose model predicts its first target)
//   __metadata__        model, dims (K=…,H=…), vocabulary (the characters in id order), step,
//                       seed, optimizer; and task (its name) for a --task run
// Parameter names have no dots, so they never collide with the prefixed names. The batch drawn
// at step s is a function of (seed, s) alone, so (seed, step) is the whole state of the data
// sampler and a run resumed from a checkpoint continues exactly as if never stopped.
#pragma once

#include "compiler/model/TrainingHistory.h"
#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace rnnc::model {

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
/// readCheckpoint of a file's bytes; `source` names it in errors.
Expected<Checkpoint> parseCheckpoint(std::string_view bytes, const std::string &source);

} // namespace rnnc::model
