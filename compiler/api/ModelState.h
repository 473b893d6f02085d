// Behind the handles of rnnc/rnnc.h (pimpl): the state of a compiled model, the access the
// implementation has to the handles' private parts, and the conversions between the public types
// (Result, Failure, TensorView) and rnnc's internal ones (Expected, Error, Tensor). Internal:
// this header may include anything; rnnc.h includes none of it.
#pragma once

#include "rnnc/rnnc.h"

#include "compiler/backend/Backend.h"
#include "ir/Graph.h"
#include "ir/Interpreter.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <memory>
#include <new>

namespace rnnc::detail {

/// A compiled model. Invariant: `parameters` holds exactly the forward graph's params, each of
/// its shape and of `realType`, and their storage never moves (views of them stay valid).
struct ModelState {
  std::unique_ptr<ir::Module> module;
  const ir::Graph *forward = nullptr;
  const ir::Graph *backward = nullptr; ///< Null without CompileOptions::backward or a loss.
  const ir::Graph *generate = nullptr; ///< Null without a generate clause.
  std::map<std::string, long long> dims;
  std::vector<DataInfo> data;
  ir::Precision precision = ir::Precision::Float;
  DType realType = DType::F32;
  int threads = 1;
  bool checkFinite = false;
  TensorMap parameters;
  std::unique_ptr<backend::Backend> backend;
};

struct Access {
  static Model makeModel(std::unique_ptr<ModelState> state) { return Model(std::move(state)); }
  static Outputs makeOutputs(TensorMap tensors);
  static const TensorMap &tensors(const Outputs &outputs);
  static ModelState &state(ParameterStore &store) { return *store.state_; }
  static const ModelState &state(const ParameterStore &store) { return *store.state_; }
};

/// The Failure of `error`: its message without the final newline that located diagnostics end
/// with, so that every message prints the same way.
inline Failure toFailure(Error error) {
  while (!error.message.empty() && error.message.back() == '\n')
    error.message.pop_back();
  return {error.kind == ErrorKind::Internal ? Failure::Kind::Internal : Failure::Kind::User,
          std::move(error.message)};
}

inline Result<void> toResult(Status status) {
  if (status)
    return {};
  return toFailure(status.takeError());
}

/// Runs `body` (returning Result<T>), turning running out of memory into a Failure: the API's
/// promise that nothing escapes as an exception.
template <typename T, typename Body> Result<T> guarded(Body &&body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return Failure{Failure::Kind::User, "out of memory"};
  }
}

ElementType elementTypeOf(DType dtype);
DType dtypeOf(ElementType type);

TensorView viewOf(const Tensor &tensor);
MutableTensorView mutableViewOf(Tensor &tensor);

/// A copy of the caller's tensor `name`: a null pointer with elements, a negative or too large
/// shape are user errors naming it.
Expected<Tensor> tensorFromView(const std::string &name, const TensorView &view);
/// Copies of every view of `views`.
Expected<TensorMap> tensorsFromViews(const TensorViews &views);

} // namespace rnnc::detail
