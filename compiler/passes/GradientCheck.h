// Gradient checking: the derived gradients of a module's `backward` graph against central finite
// differences of its `forward` loss, in double precision with the reference interpreter. Shared
// by the per-op unit tests and `rnnc gradcheck`. Not a pass: it checks the Autodiff pass.
//
// For every parameter and every real-valued input x (each element x_i):
//   numeric_i = (L(x_i + ε) − L(x_i − ε)) / 2ε,     analytic_i = grad.<x>_i
// and the error of a tensor is max_i |analytic_i − numeric_i| / max_i |numeric_i| (relative to the
// tensor's largest gradient, so elements whose gradient is near zero do not divide by zero).
// A check cannot pass vacuously: a tensor whose numeric and analytic gradients are all zero is
// reported as such, and the check as a whole fails when every gradient is zero.
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <map>
#include <string>
#include <vector>

namespace rnnc::passes {

struct GradientCheckOptions {
  double epsilon = 1e-5;
  double tolerance = 1e-6;
};

struct TensorGradientCheck {
  std::string name;   ///< The parameter or input name.
  double error = 0;   ///< As defined in the file comment.
  double largest = 0; ///< max_i |numeric_i|.
  int64_t worstIndex = 0;
  double analytic = 0, numeric = 0; ///< At the worst element.
  bool allZero() const { return largest == 0; }
};

struct GradientCheckReport {
  std::vector<TensorGradientCheck> tensors;
  double loss = 0;
  /// The tensor with the largest error (nullptr when there is none).
  const TensorGradientCheck *worst() const;
  /// Every error below the tolerance and some gradient non-zero.
  bool passed(double tolerance) const;
  /// "worst relative error 3.2e-09 in grad.W (element 5: analytic …, numeric …)" and one line per
  /// tensor.
  std::string summary() const;
};

/// `params` and real `data` tensors are converted to F64. `lengths` as in ir::Batch.
Expected<GradientCheckReport>
checkGradients(const ir::Module &module, const TensorMap &params, const TensorMap &data,
               const std::map<std::string, std::vector<int64_t>> &lengths,
               const GradientCheckOptions &options = {});

} // namespace rnnc::passes
