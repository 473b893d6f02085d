#include "compiler/model/TrainingGraphs.h"

#include "compiler/frontend/Frontend.h"
#include "compiler/passes/DCE.h"
#include "compiler/passes/Pipeline.h"

#include <functional>

namespace rnnc::model {

namespace {

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
  // Outputs nobody reads during training (elman's h and o) would cost as much as the loss. The
  // final states of stateful training (ExposeCarriedState.h) are read, their inputs' gradients
  // are not.
  auto isState = [](const std::string &name) { return name.rfind("state.", 0) == 0; };
  keepOutputs(*forward, [&](const std::string &name) { return name == "loss" || isState(name); });
  keepOutputs(*backward, [&](const std::string &name) {
    return name == "loss" || isState(name) ||
           (name.rfind("grad.", 0) == 0 && !isState(name.substr(5)));
  });
  passes::eliminateDeadCode(*module);
  return TrainingGraphs{std::move(module), forward, backward};
}

} // namespace rnnc::model
