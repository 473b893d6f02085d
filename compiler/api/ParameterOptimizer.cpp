// ParameterOptimizer (rnnc/rnnc.h): the optimiser step of the model layer
// (compiler/model/OptimizerStep.h: the finiteness check, global-norm clipping, Adam or SGD with
// momentum) applied to a ParameterStore with the gradients of Model::forwardBackward — the update
// `rnnc train` makes each step.
#include "compiler/api/ModelState.h"

#include "compiler/model/OptimizerStep.h"
#include "compiler/model/Parameters.h"
#include "runtime/Optimizer.h"

namespace rnnc {

struct ParameterOptimizer::Impl {
  Optimizer optimizer;
  double clipNorm = 0;
};

ParameterOptimizer::ParameterOptimizer(const OptimizerOptions &options) {
  OptimizerSettings settings;
  settings.kind =
      options.method == OptimizerOptions::Method::Sgd ? OptimizerKind::Sgd : OptimizerKind::Adam;
  settings.momentum = options.momentum;
  settings.beta1 = options.beta1;
  settings.beta2 = options.beta2;
  settings.epsilon = options.epsilon;
  impl_ = std::make_unique<Impl>(Impl{Optimizer(settings), options.clipNorm});
}

ParameterOptimizer::ParameterOptimizer(ParameterOptimizer &&) noexcept = default;
ParameterOptimizer &ParameterOptimizer::operator=(ParameterOptimizer &&) noexcept = default;
ParameterOptimizer::~ParameterOptimizer() = default;

Result<double> ParameterOptimizer::step(ParameterStore &parameters, const Outputs &gradients,
                                        double learningRate) {
  return detail::guarded<double>([&]() -> Result<double> {
    TensorMap &params = detail::Access::state(parameters).parameters;
    const TensorMap &outputs = detail::Access::tensors(gradients);
    // The optimiser pairs tensors by name: grad.W becomes W, in the parameter's element type.
    TensorMap byParameter;
    std::set<std::string> frozen =
        model::frozenParameters(*detail::Access::state(parameters).forward);
    for (const auto &[name, param] : params) {
      if (frozen.count(name))
        continue; // a frozen param: no gradient, no update
      auto gradient = outputs.find("grad." + name);
      if (gradient == outputs.end())
        return Failure{Failure::Kind::User,
                       "no gradient 'grad." + name +
                           "' in the outputs (pass the result of forwardBackward)"};
      if (gradient->second.shape() != param.shape())
        return Failure{Failure::Kind::User, "gradient 'grad." + name + "' has shape " +
                                                formatShape(gradient->second.shape()) +
                                                ", parameter '" + name + "' has " +
                                                formatShape(param.shape())};
      byParameter.emplace(name, gradient->second.convert(param.dtype()));
    }
    auto norm = model::applyOptimizerStep(impl_->optimizer, params, byParameter, impl_->clipNorm,
                                          learningRate, "grad.");
    if (!norm)
      return detail::toFailure(norm.takeError());
    return *norm;
  });
}

} // namespace rnnc
