// ParameterOptimizer (rnnc/rnnc.h): the runtime's optimisers (runtime/Optimizer.h: Adam, SGD with
// momentum, global-norm clipping, the finiteness check) applied to a ParameterStore with the
// gradients of Model::forwardBackward — the update `rnnc train` makes each step.
#include "compiler/api/ModelState.h"

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
    for (const auto &[name, param] : params) {
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
    if (Status finite = checkFinite(byParameter, "grad."); !finite)
      return detail::toFailure(finite.takeError());
    double norm = impl_->clipNorm > 0 ? clipGlobalNorm(byParameter, impl_->clipNorm)
                                      : globalNorm(byParameter);
    if (Status updated = impl_->optimizer.step(params, byParameter, learningRate); !updated)
      return detail::toFailure(updated.takeError());
    return norm;
  });
}

} // namespace rnnc
