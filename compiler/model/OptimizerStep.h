// The optimiser step, the one update both `rnnc train` (the Trainer) and the C++ API's
// ParameterOptimizer (rnnc/rnnc.h) make: every gradient checked finite, the global gradient norm
// clipped, then the optimiser (runtime/Optimizer.h: Adam, SGD with momentum) applied to the
// parameters. Gradients are paired with parameters by name, in the parameters' element type.
#pragma once

#include "runtime/Error.h"
#include "runtime/Optimizer.h"
#include "runtime/Tensor.h"

#include <string>

namespace rnnc::model {

/// Updates `params` by `gradients` at `learningRate`. A non-finite gradient is a user error
/// whose message starts with `gradientContext` and names the tensor (runtime checkFinite), and
/// leaves `params`, `optimizer` and `gradients` as they were. `clipNorm` > 0 scales `gradients`
/// down to that global norm first; 0 never clips. Returns the global norm before clipping.
Expected<double> applyOptimizerStep(Optimizer &optimizer, TensorMap &params, TensorMap &gradients,
                                    double clipNorm, double learningRate,
                                    const std::string &gradientContext);

} // namespace rnnc::model
