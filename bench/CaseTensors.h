// Finding a baseline's inputs in a benchmark case (compiler/driver/BenchmarkCase.h): a model dim,
// a parameter or a data tensor, each checked for its dtype and shape. A lookup that fails returns
// null (0 for a dim) and keeps the first failure, so that a baseline's setup reads as the list of
// what it needs followed by one check.
#pragma once

#include "compiler/driver/BenchmarkCase.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rnnc::bench {

class CaseTensors {
public:
  /// `baseline` names the baseline in error messages ("the Eigen baseline").
  CaseTensors(std::string baseline, const driver::BenchmarkCase &source)
      : baseline_(std::move(baseline)), source_(source) {}

  /// The dim `name` of the case's module.
  int64_t dim(const std::string &name);
  /// The elements of parameter `name`, of element type T and `shape`.
  template <typename T> const T *param(const std::string &name, const std::vector<int64_t> &shape) {
    return find<T>(source_.params(), name, shape);
  }
  /// The elements of data tensor `name` (inputs and targets), of element type T and `shape`.
  template <typename T> const T *data(const std::string &name, const std::vector<int64_t> &shape) {
    return find<T>(source_.data(), name, shape);
  }
  /// The first failed lookup, as a user error saying what differs.
  const std::optional<Error> &failure() const { return failure_; }

private:
  template <typename T>
  const T *find(const TensorMap &tensors, const std::string &name,
                const std::vector<int64_t> &shape) {
    const Tensor *tensor = checked(tensors, name, dtypeOf<T>(), shape);
    return tensor ? tensor->data<T>() : nullptr;
  }
  /// The tensor, or null after recording why it does not fit.
  const Tensor *checked(const TensorMap &tensors, const std::string &name, DType dtype,
                        const std::vector<int64_t> &shape);
  void fail(std::string message);

  std::string baseline_;
  const driver::BenchmarkCase &source_;
  std::optional<Error> failure_;
};

} // namespace rnnc::bench
