// Optimisers for training (SGD with momentum, Adam), the learning-rate schedule, global
// gradient-norm clipping and the check for non-finite values.
//
// The update rules are PyTorch's (torch.optim.SGD with momentum and dampening 0, torch.optim.Adam
// without weight decay), so a run can be compared with PyTorch step for step:
//   SGD:  v ← μ v + g;  p ← p − lr v
//   Adam: m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
//         p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
// Every piece of optimiser state is a tensor of state() (the moments per parameter and the
// update count), so a checkpoint holds it as it holds the parameters, and a run restored from it
// continues bit for bit. The arithmetic is in double; state has the parameter's dtype.
#pragma once

#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rnnc {

enum class OptimizerKind { Sgd, Adam };

/// "sgd" or "adam".
std::string optimizerName(OptimizerKind kind);

struct OptimizerSettings {
  OptimizerKind kind = OptimizerKind::Adam;
  double momentum = 0.9; ///< SGD's μ; 0 gives plain SGD.
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
};

class Optimizer {
public:
  explicit Optimizer(OptimizerSettings settings) : settings_(settings) {}

  /// Updates the tensor of `params` of the name of each tensor of `gradients` (same shape and
  /// dtype, F32 or F64). A parameter without a gradient is not trained (a frozen parameter: it
  /// keeps its value and gets no state); a gradient without a parameter is an internal error.
  Status step(TensorMap &params, const TensorMap &gradients, double learningRate);

  /// The number of updates made so far (also the tensor "step" of state()).
  int64_t updates() const;

  /// The state, by name: "step" (F64 []), and per parameter p "velocity.p" (SGD) or "m.p" and
  /// "v.p" (Adam), each of p's shape and dtype. Empty before the first step.
  const TensorMap &state() const { return state_; }
  /// Restores state() saved from an optimiser of the same kind over `params`, the trained
  /// parameters (empty: no update yet); a missing, unknown or misshapen tensor is a user error
  /// naming it.
  Status loadState(TensorMap state, const TensorMap &params);

private:
  /// The names of the state tensors of parameter `name`.
  std::vector<std::string> stateNames(const std::string &name) const;

  OptimizerSettings settings_;
  TensorMap state_;
};

/// The learning rate of each step (counting from 1): a linear warm-up from `peak / warmupSteps`
/// to `peak` over the first `warmupSteps` steps, then a cosine decay from `peak` (the first step
/// after the warm-up) to `minimum` (step `decayEnd`), constant after. No decay when `decayEnd`
/// leaves fewer than two steps after the warm-up (0: none).
struct LearningRateSchedule {
  double peak = 2e-3;
  double minimum = 2e-4;
  int64_t warmupSteps = 0;
  int64_t decayEnd = 0;
  /// When positive, the cosine decay runs over this many seconds of training instead of up to
  /// step decayEnd: a schedule that ends with a time budget whatever the machine's speed.
  double decaySeconds = 0;

  /// The rate at `step` (1-based), `elapsedSeconds` into the training (read with decaySeconds).
  double at(int64_t step, double elapsedSeconds = 0) const;
};

/// The L2 norm of all the elements of `gradients` together (in double).
double globalNorm(const TensorMap &gradients);

/// Scales `gradients` by maxNorm / norm when their global norm exceeds `maxNorm` (PyTorch's
/// clip_grad_norm_, with its 1e-6 guard), and returns the norm before clipping. A non-finite
/// norm leaves the gradients unchanged.
double clipGlobalNorm(TensorMap &gradients, double maxNorm);

/// The first NaN or infinite element of a floating-point tensor in row-major order.
struct NonFiniteElement {
  int64_t flat = 0;  ///< Its row-major position.
  std::string index; ///< Its multi-index, "[3, 1]"; empty for a scalar.
  std::string value; ///< "nan", "inf" or "-inf".
};
/// Nullopt when every element is finite or the tensor is not floating-point.
std::optional<NonFiniteElement> firstNonFinite(const Tensor &tensor);

/// A user error naming the first tensor of `tensors` with a NaN or infinite element, its index
/// and value ("grad.W [3, 1] is nan"), prefixed by `context`; success when all are finite.
Status checkFinite(const TensorMap &tensors, const std::string &context);

} // namespace rnnc
