#include "compiler/passes/GradientCheck.h"

#include "ir/Interpreter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace rnnc::passes {

namespace {

TensorMap toDouble(const TensorMap &tensors) {
  TensorMap converted;
  for (const auto &[name, tensor] : tensors)
    converted.emplace(name, tensor.dtype() == DType::F32 ? tensor.convert(DType::F64) : tensor);
  return converted;
}

std::string formatReal(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

class Checker {
public:
  Checker(const ir::Module &module, const TensorMap &params, const TensorMap &data,
          const std::map<std::string, std::vector<int64_t>> &lengths,
          const GradientCheckOptions &options)
      : forward_(module.findGraph("forward")), backward_(module.findGraph("backward")),
        params_(toDouble(params)), data_(toDouble(data)), options_(options) {
    batch_.params = &params_;
    batch_.data = &data_;
    batch_.lengths = lengths;
  }

  Expected<GradientCheckReport> run() {
    if (!forward_ || !backward_)
      return Error::user("gradient check needs a module with 'forward' and 'backward' graphs");
    auto derived = ir::runGraph(*backward_, batch_);
    if (!derived)
      return derived.takeError();
    GradientCheckReport report;
    auto loss = currentLoss();
    if (!loss)
      return loss.takeError();
    report.loss = *loss;
    for (const auto &op : backward_->body().ops()) {
      if (op->kind() != ir::OpKind::Output || op->nameAttr().rfind("grad.", 0) != 0)
        continue;
      std::string name = op->nameAttr().substr(5);
      TensorMap &owner = params_.count(name) ? params_ : data_;
      auto tensor = owner.find(name);
      auto gradient = derived->find("grad." + name);
      if (gradient == derived->end())
        return Error::user("gradient check: no tensor for '" + name + "'");
      // An input the model declares but never reads is not in the forward graph (DCE removes
      // it), so the batch has no tensor for it; its gradient must be exactly zero.
      if (tensor == owner.end()) {
        const Tensor &values = gradient->second;
        if (std::any_of(values.values<double>().begin(), values.values<double>().end(),
                        [](double value) { return value != 0; }))
          return Error::user("gradient check: grad." + name +
                             " is not zero, but the forward graph does not read '" + name + "'");
        continue;
      }
      if (gradient->second.shape() != tensor->second.shape())
        return Error::internal("grad." + name + " has shape " +
                               formatShape(gradient->second.shape()) + ", its tensor " +
                               formatShape(tensor->second.shape()));
      auto checked = checkTensor(name, tensor->second, gradient->second);
      if (!checked)
        return checked.takeError();
      report.tensors.push_back(*checked);
    }
    return report;
  }

private:
  Expected<double> currentLoss() {
    auto outputs = ir::runGraph(*forward_, batch_);
    if (!outputs)
      return outputs.takeError();
    auto loss = outputs->find("loss");
    if (loss == outputs->end())
      return Error::user("gradient check: the forward graph has no 'loss' output");
    return loss->second.data<double>()[0];
  }

  Expected<TensorGradientCheck> checkTensor(const std::string &name, Tensor &tensor,
                                            const Tensor &gradient) {
    TensorGradientCheck check{name};
    double *values = tensor.data<double>();
    const double *analytic = gradient.data<double>();
    double worstDifference = -1;
    for (int64_t i = 0; i < tensor.numElements(); ++i) {
      double saved = values[i];
      values[i] = saved + options_.epsilon;
      auto plus = currentLoss();
      values[i] = saved - options_.epsilon;
      auto minus = currentLoss();
      values[i] = saved;
      if (!plus)
        return plus.takeError();
      if (!minus)
        return minus.takeError();
      double numeric = (*plus - *minus) / (2 * options_.epsilon);
      double difference = std::abs(analytic[i] - numeric);
      if (!(difference <= worstDifference)) { // NaN counts as the worst
        worstDifference = difference;
        check.worstIndex = i;
        check.analytic = analytic[i];
        check.numeric = numeric;
      }
      check.largest = std::max({check.largest, std::abs(numeric), std::abs(analytic[i])});
    }
    check.error = check.largest > 0 ? worstDifference / check.largest : 0;
    if (std::isnan(worstDifference))
      check.error = worstDifference;
    return check;
  }

  const ir::Graph *forward_, *backward_;
  TensorMap params_, data_;
  ir::Batch batch_;
  GradientCheckOptions options_;
};

} // namespace

const TensorGradientCheck *GradientCheckReport::worst() const {
  const TensorGradientCheck *worst = nullptr;
  for (const TensorGradientCheck &tensor : tensors)
    if (!worst || !(tensor.error <= worst->error))
      worst = &tensor;
  return worst;
}

bool GradientCheckReport::passed(double tolerance) const {
  bool anyNonZero = false;
  for (const TensorGradientCheck &tensor : tensors) {
    if (!(tensor.error < tolerance))
      return false;
    anyNonZero = anyNonZero || !tensor.allZero();
  }
  return anyNonZero;
}

std::string GradientCheckReport::summary() const {
  std::ostringstream out;
  if (const TensorGradientCheck *tensor = worst())
    out << "worst relative error " << formatReal(tensor->error) << " in grad." << tensor->name
        << " (element " << tensor->worstIndex << ": derived " << formatReal(tensor->analytic)
        << ", finite differences " << formatReal(tensor->numeric) << ")\n";
  else
    out << "no gradients to check\n";
  for (const TensorGradientCheck &tensor : tensors)
    out << "  grad." << tensor.name << ": relative error " << formatReal(tensor.error)
        << (tensor.allZero() ? " (all zero)" : "") << "\n";
  return out.str();
}

Expected<GradientCheckReport>
checkGradients(const ir::Module &module, const TensorMap &params, const TensorMap &data,
               const std::map<std::string, std::vector<int64_t>> &lengths,
               const GradientCheckOptions &options) {
  return Checker(module, params, data, lengths, options).run();
}

} // namespace rnnc::passes
