// What training a model on text and sampling from it need from the model (`rnnc train`,
// `rnnc sample`, the Trainer): the shape a model must have to be trained on text (a
// character-level language model), and the graphs a training run executes.
//
// A character model reads one token input and one token target over one time axis (elman's
// `input x[t]: token<K>`, `target y[t]: token<K>`), both sized by the same plain dim: the
// vocabulary dim, which the corpus sets (`K` = the number of distinct characters).
#pragma once

#include "compiler/passes/Pipeline.h"
#include "ir/Graph.h"
#include "runtime/Error.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace rnnc::model {

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
/// validation), each reduced to those outputs so that nothing else is computed; and the final
/// states `state.<name>.final` of a graph made stateful (ExposeCarriedState.h).
struct TrainingGraphs {
  std::unique_ptr<ir::Module> module;
  const ir::Graph *forward = nullptr;
  const ir::Graph *backward = nullptr;
};
Expected<TrainingGraphs> buildTrainingGraphs(std::unique_ptr<ir::Module> module,
                                             passes::PipelineOptions options = {});

} // namespace rnnc::model
