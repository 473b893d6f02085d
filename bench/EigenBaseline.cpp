// EigenBaseline (EigenBaseline.h): finds the baseline's tensors in a benchmark case, checking
// each one's dtype and shape, and points the Eigen computation at them.
#include "bench/EigenBaseline.h"

#include "runtime/Safetensors.h"

#include <optional>

namespace rnnc::bench {

namespace {

/// The elements of tensor `name` of `tensors`, of element type T and `shape`, else a user error
/// saying what differs.
template <typename T>
Expected<const T *> tensorData(const TensorMap &tensors, const std::string &name,
                               const std::vector<int64_t> &shape) {
  auto found = tensors.find(name);
  if (found == tensors.end())
    return Error::user("the Eigen baseline needs a tensor '" + name + "', which the model lacks");
  if (Status checked = checkTensor(name, found->second, dtypeOf<T>(), shape); !checked)
    return Error::user("the Eigen baseline: " + checked.error().message);
  return found->second.data<T>();
}

/// The dim `name` of the case's module.
Expected<int64_t> moduleDim(const driver::BenchmarkCase &source, const std::string &name) {
  for (const auto &[dim, value] : source.module().dims())
    if (dim == name)
      return value;
  return Error::user("the Eigen baseline needs a dim '" + name + "', which the model lacks");
}

} // namespace

Expected<std::unique_ptr<EigenBaseline>>
EigenBaseline::create(EigenBaselineKind kind, const driver::BenchmarkCase &source) {
  if (source.spec().precision != ir::Precision::Float)
    return Error::user("the Eigen baselines run in float32 only");
  auto baseline = std::make_unique<EigenBaseline>();
  baseline->train_ = source.spec().mode == driver::BenchmarkMode::Train;
  const TensorMap &params = source.params(), &data = source.data();
  const int64_t T = source.spec().steps, B = source.spec().batch;
  // Every lookup is checked; the first failure is the error.
  std::optional<Error> failure;
  auto take = [&](auto result, auto &into) {
    if (!result) {
      if (!failure)
        failure = result.takeError();
      return;
    }
    into = *result;
  };
  if (kind == EigenBaselineKind::TanhRnn) {
    int64_t I = 0, H = 0;
    take(moduleDim(source, "I"), I);
    take(moduleDim(source, "H"), H);
    if (failure)
      return *failure;
    EigenTanhRnn::Inputs &inputs = baseline->tanhRnnInputs_;
    take(tensorData<float>(params, "U", {H, I}), inputs.U);
    take(tensorData<float>(params, "W", {H, H}), inputs.W);
    take(tensorData<float>(params, "b", {H}), inputs.b);
    take(tensorData<float>(data, "x", {T, B, I}), inputs.x);
    take(tensorData<float>(data, "y", {T, B, H}), inputs.y);
    if (failure)
      return *failure;
    baseline->tanhRnn_ = std::make_unique<EigenTanhRnn>(RnnShape{T, B, I, H});
  } else if (kind == EigenBaselineKind::Elman) {
    int64_t K = 0, H = 0;
    take(moduleDim(source, "K"), K);
    take(moduleDim(source, "H"), H);
    if (failure)
      return *failure;
    EigenElman::Inputs &inputs = baseline->elmanInputs_;
    take(tensorData<float>(params, "U", {H, K}), inputs.U);
    take(tensorData<float>(params, "W", {H, H}), inputs.W);
    take(tensorData<float>(params, "b", {H}), inputs.b);
    take(tensorData<float>(params, "V", {K, H}), inputs.V);
    take(tensorData<float>(params, "c", {K}), inputs.c);
    take(tensorData<int32_t>(data, "x", {T, B}), inputs.x);
    take(tensorData<int32_t>(data, "y", {T, B}), inputs.y);
    if (failure)
      return *failure;
    baseline->elman_ = std::make_unique<EigenElman>(RnnShape{T, B, K, H});
  } else {
    return Error::user("this shape has no Eigen baseline");
  }
  return baseline;
}

void EigenBaseline::run() {
  if (tanhRnn_)
    train_ ? tanhRnn_->train(tanhRnnInputs_) : tanhRnn_->forward(tanhRnnInputs_);
  else
    train_ ? elman_->train(elmanInputs_) : elman_->forward(elmanInputs_);
}

NamedResults EigenBaseline::results() const {
  return tanhRnn_ ? tanhRnn_->results(train_) : elman_->results(train_);
}

} // namespace rnnc::bench
