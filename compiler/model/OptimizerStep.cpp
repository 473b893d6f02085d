#include "compiler/model/OptimizerStep.h"

namespace rnnc::model {

Expected<double> applyOptimizerStep(Optimizer &optimizer, TensorMap &params, TensorMap &gradients,
                                    double clipNorm, double learningRate,
                                    const std::string &gradientContext) {
  if (Status finite = checkFinite(gradients, gradientContext); !finite)
    return finite.takeError();
  double norm = clipNorm > 0 ? clipGlobalNorm(gradients, clipNorm) : globalNorm(gradients);
  if (Status updated = optimizer.step(params, gradients, learningRate); !updated)
    return updated.takeError();
  return norm;
}

} // namespace rnnc::model
