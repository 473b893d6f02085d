// compileFile / compileString and Model (rnnc/rnnc.h): the model is loaded as the command line
// loads it (model::loadModule, so the same -D checks and diagnostics), the backward graph is
// derived by the pass pipeline as `rnnc run --grad` derives it, and every call checks and runs a
// batch as `rnnc run` does: the same tensor names, lengths tensors, generation set-up and
// backend contract (compiler/backend/Backend.h), hence the same messages.
#include "compiler/api/ModelState.h"

#include "compiler/model/BackendRegistry.h"
#include "compiler/model/FiniteOutputs.h"
#include "compiler/model/InferenceGraph.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "compiler/model/Parameters.h"
#include "compiler/passes/Pipeline.h"

namespace rnnc {

namespace {

using detail::ModelState;

Failure userFailure(std::string message) { return {Failure::Kind::User, std::move(message)}; }

Status checkOptions(const CompileOptions &options) {
  if (options.truncate < 0)
    return Error::user("truncate must be 0 (none) or a number of steps, not " +
                       std::to_string(options.truncate));
  if (options.checkpoint < 0 || options.checkpoint > passes::maxCheckpointSegment)
    return Error::user("checkpoint must be in [0, " + std::to_string(passes::maxCheckpointSegment) +
                       "], not " + std::to_string(options.checkpoint));
  if (!options.backward && (options.truncate || options.checkpoint))
    return Error::user("truncate and checkpoint apply only with backward");
  if (options.threads < 1)
    return Error::user("threads must be at least 1, not " + std::to_string(options.threads));
  return Status::ok();
}

/// The model's inputs and targets as the API describes them.
std::vector<DataInfo> describeData(const ir::Graph &forward) {
  std::vector<DataInfo> data;
  for (const auto &op : forward.body().ops()) {
    if (op->kind() != ir::OpKind::Input && op->kind() != ir::OpKind::Target)
      continue;
    const ir::Type &type = op->result()->type();
    DataInfo info;
    info.name = op->nameAttr();
    info.isTarget = op->kind() == ir::OpKind::Target;
    info.type = type.isToken() ? ElementType::I32 : ElementType::F32;
    info.shape = type.shape;
    info.axis = type.axis;
    info.vocabulary = type.isToken() ? type.vocab : 0;
    data.push_back(std::move(info));
  }
  return data;
}

/// Derives the backward graph when asked for and the model has a loss; a textual-IR module may
/// bring its own.
Status deriveBackward(ModelState &state, const CompileOptions &options) {
  ir::Module &module = *state.module;
  if (const ir::Graph *given = module.findGraph("backward")) {
    if (options.truncate || options.checkpoint)
      return Error::user("module @" + module.name() +
                         " already has a backward graph; truncate and checkpoint apply only "
                         "when rnnc derives it");
    state.backward = options.backward ? given : nullptr;
    return Status::ok();
  }
  if (!options.backward || !state.forward->findOutput("loss"))
    return Status::ok();
  passes::PipelineOptions pipeline;
  pipeline.backward = true;
  pipeline.autodiff = {.truncate = options.truncate, .checkpoint = options.checkpoint};
  if (auto report = passes::runPipeline(module, pipeline); !report)
    return report.takeError();
  state.backward = module.findGraph("backward");
  return Status::ok();
}

Result<Model> compileModule(Expected<std::unique_ptr<ir::Module>> module,
                            const CompileOptions &options) {
  if (!module)
    return detail::toFailure(module.takeError());
  auto state = std::make_unique<ModelState>();
  state->module = module.take();
  auto forward = model::findGraph(*state->module, "forward");
  if (!forward)
    return detail::toFailure(forward.takeError());
  state->forward = *forward;
  if (Status derived = deriveBackward(*state, options); !derived)
    return detail::toFailure(derived.takeError());
  state->generate = state->module->findGraph("generate");
  for (const auto &[name, value] : state->module->dims())
    state->dims[name] = value;
  state->data = describeData(*state->forward);
  state->precision =
      options.precision == Precision::F64 ? ir::Precision::Double : ir::Precision::Float;
  state->realType = options.precision == Precision::F64 ? DType::F64 : DType::F32;
  state->threads = options.threads;
  state->checkFinite = options.checkFinite;
  // Parameters start as `rnnc init --seed 0` makes them.
  auto parameters = model::initializeParameters(*state->forward, 0, state->realType);
  if (!parameters)
    return detail::toFailure(parameters.takeError());
  state->parameters = parameters.take();
  auto backend = model::createBackend(options.backend);
  if (!backend)
    return detail::toFailure(backend.takeError());
  state->backend = backend.take();
  return detail::Access::makeModel(std::move(state));
}

/// Runs `graph` on `views` (inputs, targets, lengths), set up for generation when `generate`.
Result<Outputs> runGraph(ModelState &state, const ir::Graph &graph, const TensorViews &views,
                         const GenerateOptions *generate) {
  auto data = detail::tensorsFromViews(views);
  if (!data)
    return detail::toFailure(data.takeError());
  if (Status names = model::checkDataNames(*state.forward, *data, "batch"); !names)
    return detail::toFailure(names.takeError());
  auto lengths = model::extractLengths(*state.forward, *data);
  if (!lengths)
    return detail::toFailure(lengths.takeError());
  // Model::forward on inputs alone runs the outputs that need no target (InferenceGraph.h).
  const ir::Graph *toRun = &graph;
  if (toRun == state.forward && model::targetsAbsent(graph, *data)) {
    auto inference = model::addInferenceGraph(*state.module);
    if (!inference)
      return detail::toFailure(inference.takeError());
    toRun = *inference;
  }
  TensorMap inputs = model::graphData(*toRun, *data);
  ir::Batch batch;
  batch.params = &state.parameters;
  batch.data = &inputs;
  batch.lengths = *lengths;
  ir::RunOptions options;
  options.precision = state.precision;
  options.threads = state.threads;
  if (generate) {
    if (generate->steps < 1)
      return userFailure("generate needs at least 1 step, not " + std::to_string(generate->steps));
    if (Status setUp = model::setUpGeneration(graph, inputs, generate->steps, std::nullopt, batch);
        !setUp)
      return detail::toFailure(setUp.takeError());
    options.seed = generate->seed;
    options.greedy = generate->greedy;
  }
  auto outputs = state.backend->run(*toRun, batch, options);
  if (!outputs)
    return detail::toFailure(outputs.takeError());
  if (state.checkFinite)
    if (Status finite = model::checkOutputsFinite(graph, *outputs); !finite)
      return detail::toFailure(finite.takeError());
  return detail::Access::makeOutputs(outputs.take());
}

} // namespace

Result<Model> compileFile(const std::string &path, const CompileOptions &options) {
  return detail::guarded<Model>([&]() -> Result<Model> {
    if (Status checked = checkOptions(options); !checked)
      return detail::toFailure(checked.takeError());
    return compileModule(model::loadModule(path, options.dims), options);
  });
}

Result<Model> compileString(std::string_view source, const CompileOptions &options,
                            const std::string &filename) {
  return detail::guarded<Model>([&]() -> Result<Model> {
    if (Status checked = checkOptions(options); !checked)
      return detail::toFailure(checked.takeError());
    return compileModule(model::loadModuleFromSource(source, filename, options.dims), options);
  });
}

Model::Model(std::unique_ptr<ModelState> state)
    : state_(std::move(state)), parameters_(state_.get()) {}
Model::Model(Model &&) noexcept = default;
Model &Model::operator=(Model &&) noexcept = default;
Model::~Model() = default;

const std::string &Model::name() const { return state_->module->name(); }
const std::map<std::string, long long> &Model::dims() const { return state_->dims; }
const std::vector<DataInfo> &Model::data() const { return state_->data; }

Result<Outputs> Model::forward(const TensorViews &batch) {
  return detail::guarded<Outputs>(
      [&]() -> Result<Outputs> { return runGraph(*state_, *state_->forward, batch, nullptr); });
}

Result<Outputs> Model::forwardBackward(const TensorViews &batch) {
  return detail::guarded<Outputs>([&]() -> Result<Outputs> {
    if (!state_->backward)
      return userFailure(state_->forward->findOutput("loss")
                             ? "model '" + name() + "' was compiled without backward"
                             : "model '" + name() + "' has no loss to differentiate");
    return runGraph(*state_, *state_->backward, batch, nullptr);
  });
}

Result<Outputs> Model::generate(const TensorViews &prime, const GenerateOptions &options) {
  return detail::guarded<Outputs>([&]() -> Result<Outputs> {
    if (!state_->generate)
      return userFailure("model '" + name() + "' has no generate clause, so it cannot generate");
    return runGraph(*state_, *state_->generate, prime, &options);
  });
}

} // namespace rnnc
