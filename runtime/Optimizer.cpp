#include "runtime/Optimizer.h"

#include <algorithm>

#include "runtime/Safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numbers>

namespace rnnc {

namespace {

/// Calls `fn` with the elements of a floating-point tensor as a span of float or double.
template <typename Fn> void withRealValues(Tensor &tensor, Fn &&fn) {
  if (tensor.dtype() == DType::F64)
    fn(tensor.values<double>());
  else
    fn(tensor.values<float>());
}
template <typename Fn> void withRealValues(const Tensor &tensor, Fn &&fn) {
  if (tensor.dtype() == DType::F64)
    fn(tensor.values<double>());
  else
    fn(tensor.values<float>());
}

/// "[3, 1]": the row-major multi-index of element `flat` of a tensor of `shape`.
std::string formatIndex(const std::vector<int64_t> &shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return formatShape(index);
}

/// One update of the elements of a parameter (T is float or double).
template <typename T>
void sgdUpdate(std::span<T> param, std::span<const T> gradient, std::span<T> velocity,
               double momentum, double learningRate) {
  for (size_t i = 0; i < param.size(); ++i) {
    double v = momentum * double(velocity[i]) + double(gradient[i]);
    velocity[i] = T(v);
    param[i] = T(double(param[i]) - learningRate * v);
  }
}

template <typename T>
void adamUpdate(std::span<T> param, std::span<const T> gradient, std::span<T> firstMoment,
                std::span<T> secondMoment, const OptimizerSettings &settings, double learningRate,
                int64_t step) {
  double firstCorrection = 1 - std::pow(settings.beta1, double(step));
  double secondCorrection = 1 - std::pow(settings.beta2, double(step));
  for (size_t i = 0; i < param.size(); ++i) {
    double g = double(gradient[i]);
    double m = settings.beta1 * double(firstMoment[i]) + (1 - settings.beta1) * g;
    double v = settings.beta2 * double(secondMoment[i]) + (1 - settings.beta2) * g * g;
    firstMoment[i] = T(m);
    secondMoment[i] = T(v);
    double denominator = std::sqrt(v / secondCorrection) + settings.epsilon;
    param[i] = T(double(param[i]) - learningRate * (m / firstCorrection) / denominator);
  }
}

} // namespace

std::string optimizerName(OptimizerKind kind) {
  return kind == OptimizerKind::Sgd ? "sgd" : "adam";
}

std::vector<std::string> Optimizer::stateNames(const std::string &name) const {
  if (settings_.kind == OptimizerKind::Sgd)
    return {"velocity." + name};
  return {"m." + name, "v." + name};
}

int64_t Optimizer::updates() const {
  auto step = state_.find("step");
  return step == state_.end() ? 0 : int64_t(step->second.values<double>()[0]);
}

Status Optimizer::step(TensorMap &params, const TensorMap &gradients, double learningRate) {
  for (const auto &[name, gradient] : gradients) {
    auto param = params.find(name);
    if (param == params.end() || gradient.dtype() != param->second.dtype() ||
        gradient.shape() != param->second.shape() || !isFloatingPoint(gradient.dtype()))
      return Error::internal("optimizer: no parameter of the dtype and shape of gradient '" +
                             name + "'");
  }
  int64_t step = updates() + 1;
  for (auto &[name, param] : params) {
    auto gradient = gradients.find(name);
    if (gradient == gradients.end())
      continue; // not trained
    std::vector<Tensor *> moments;
    for (const std::string &stateName : stateNames(name))
      moments.push_back(&state_.try_emplace(stateName, param.dtype(), param.shape()).first->second);
    auto update = [&]<typename T>(std::span<T> values) {
      std::span<const T> g = gradient->second.values<T>();
      if (settings_.kind == OptimizerKind::Sgd)
        sgdUpdate<T>(values, g, moments[0]->values<T>(), settings_.momentum, learningRate);
      else
        adamUpdate<T>(values, g, moments[0]->values<T>(), moments[1]->values<T>(), settings_,
                      learningRate, step);
    };
    withRealValues(param, update);
  }
  state_.insert_or_assign("step", Tensor::fromValues<double>({}, {double(step)}));
  return Status::ok();
}

Status Optimizer::loadState(TensorMap state, const TensorMap &params) {
  if (state.empty()) { // saved before the first update
    state_.clear();
    return Status::ok();
  }
  std::string kind = optimizerName(settings_.kind);
  auto step = state.find("step");
  if (step == state.end())
    return Error::user(kind + " state: tensor 'step' is missing");
  if (Status checked = checkTensor("step", step->second, DType::F64, {}); !checked)
    return Error::user(kind + " state: " + checked.error().message);
  double count = step->second.values<double>()[0];
  if (!(count >= 0 && count == std::floor(count)))
    return Error::user(kind + " state: 'step' must be a whole number of updates");
  std::map<std::string, const Tensor *> parameterOf;
  for (const auto &[name, param] : params)
    for (const std::string &stateName : stateNames(name))
      parameterOf[stateName] = &param;
  for (const auto &entry : state)
    if (entry.first != "step" && !parameterOf.count(entry.first))
      return Error::user(kind + " state: unexpected tensor '" + entry.first + "'");
  for (const auto &[stateName, param] : parameterOf) {
    auto tensor = state.find(stateName);
    if (tensor == state.end())
      return Error::user(kind + " state: tensor '" + stateName + "' is missing");
    if (Status checked = checkTensor(stateName, tensor->second, param->dtype(), param->shape());
        !checked)
      return Error::user(kind + " state: " + checked.error().message);
  }
  state_ = std::move(state);
  return Status::ok();
}

double LearningRateSchedule::at(int64_t step, double elapsedSeconds) const {
  if (step <= warmupSteps)
    return peak * double(step) / double(warmupSteps);
  if (decaySeconds <= 0 && decayEnd <= warmupSteps + 1)
    return peak;
  double progress =
      decaySeconds > 0
          ? std::clamp(elapsedSeconds / decaySeconds, 0.0, 1.0)
          : std::min(1.0, double(step - warmupSteps - 1) / double(decayEnd - warmupSteps - 1));
  return minimum + (peak - minimum) * 0.5 * (1 + std::cos(std::numbers::pi * progress));
}

double globalNorm(const TensorMap &gradients) {
  double squares = 0;
  for (const auto &entry : gradients)
    withRealValues(entry.second, [&](auto values) {
      for (auto value : values)
        squares += double(value) * double(value);
    });
  return std::sqrt(squares);
}

double clipGlobalNorm(TensorMap &gradients, double maxNorm) {
  double norm = globalNorm(gradients);
  if (!std::isfinite(norm) || norm <= maxNorm)
    return norm;
  double scale = maxNorm / (norm + 1e-6);
  for (auto &entry : gradients)
    withRealValues(entry.second, [&]<typename T>(std::span<T> values) {
      for (T &value : values)
        value = T(double(value) * scale);
    });
  return norm;
}

std::optional<NonFiniteElement> firstNonFinite(const Tensor &tensor) {
  if (!isFloatingPoint(tensor.dtype()))
    return std::nullopt;
  std::optional<NonFiniteElement> found;
  withRealValues(tensor, [&](auto values) {
    auto bad = std::find_if(values.begin(), values.end(),
                            [](auto value) { return !std::isfinite(value); });
    if (bad == values.end())
      return;
    int64_t flat = bad - values.begin();
    char value[16];
    std::snprintf(value, sizeof value, "%g", double(*bad));
    found =
        NonFiniteElement{flat, tensor.rank() == 0 ? "" : formatIndex(tensor.shape(), flat), value};
  });
  return found;
}

Status checkFinite(const TensorMap &tensors, const std::string &context) {
  for (const auto &[name, tensor] : tensors)
    if (auto bad = firstNonFinite(tensor))
      return Error::user(context + name + (bad->index.empty() ? "" : " " + bad->index) + " is " +
                         bad->value);
  return Status::ok();
}

} // namespace rnnc
