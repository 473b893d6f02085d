// EigenBaseline (EigenBaseline.h): finds the baseline's tensors in a benchmark case, checking
// each one's dtype and shape (CaseTensors.h), and points the Eigen computation at them.
#include "bench/EigenBaseline.h"

#include "bench/CaseTensors.h"

namespace rnnc::bench {

Expected<std::unique_ptr<EigenBaseline>>
EigenBaseline::create(EigenBaselineKind kind, const driver::BenchmarkCase &source) {
  if (source.spec().precision != ir::Precision::Float)
    return Error::user("the Eigen baselines run in float32 only");
  auto baseline = std::make_unique<EigenBaseline>();
  baseline->train_ = source.spec().mode == driver::BenchmarkMode::Train;
  const int64_t T = source.spec().steps, B = source.spec().batch;
  CaseTensors tensors("the Eigen baseline", source);
  if (kind == EigenBaselineKind::TanhRnn) {
    const int64_t I = tensors.dim("I"), H = tensors.dim("H");
    if (tensors.failure())
      return *tensors.failure();
    baseline->tanhRnnInputs_ = {.U = tensors.param<float>("U", {H, I}),
                                .W = tensors.param<float>("W", {H, H}),
                                .b = tensors.param<float>("b", {H}),
                                .x = tensors.data<float>("x", {T, B, I}),
                                .y = tensors.data<float>("y", {T, B, H})};
    if (tensors.failure())
      return *tensors.failure();
    baseline->tanhRnn_ = std::make_unique<EigenTanhRnn>(RnnShape{T, B, I, H});
  } else if (kind == EigenBaselineKind::Elman) {
    const int64_t K = tensors.dim("K"), H = tensors.dim("H");
    if (tensors.failure())
      return *tensors.failure();
    baseline->elmanInputs_ = {.U = tensors.param<float>("U", {H, K}),
                              .W = tensors.param<float>("W", {H, H}),
                              .b = tensors.param<float>("b", {H}),
                              .V = tensors.param<float>("V", {K, H}),
                              .c = tensors.param<float>("c", {K}),
                              .x = tensors.data<int32_t>("x", {T, B}),
                              .y = tensors.data<int32_t>("y", {T, B})};
    if (tensors.failure())
      return *tensors.failure();
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

NamedResults EigenBaseline::results() {
  return tanhRnn_ ? tanhRnn_->results(train_) : elman_->results(train_);
}

} // namespace rnnc::bench
