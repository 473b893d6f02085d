// The conversions of ModelState.h between the API's tensor views and rnnc::Tensor, and the
// Outputs handle, which owns the tensors a call returns.
#include "compiler/api/ModelState.h"

#include <cstring>
#include <utility>

namespace rnnc {

namespace detail {

namespace {
/// Every element type, internal and public, side by side.
constexpr std::pair<DType, ElementType> kElementTypes[] = {
    {DType::F32, ElementType::F32}, {DType::F64, ElementType::F64}, {DType::I32, ElementType::I32}};
} // namespace

ElementType elementTypeOf(DType dtype) {
  for (auto [internal, external] : kElementTypes)
    if (internal == dtype)
      return external;
  return ElementType::F32;
}

DType dtypeOf(ElementType type) {
  for (auto [internal, external] : kElementTypes)
    if (external == type)
      return internal;
  return DType::F32;
}

TensorView viewOf(const Tensor &tensor) {
  return {tensor.bytes(), elementTypeOf(tensor.dtype()), tensor.shape()};
}

MutableTensorView mutableViewOf(Tensor &tensor) {
  return {tensor.bytes(), elementTypeOf(tensor.dtype()), tensor.shape()};
}

Expected<Tensor> tensorFromView(const std::string &name, const TensorView &view) {
  auto count = elementCount(view.shape);
  if (!count)
    return Error::user("tensor '" + name + "' has an invalid shape " + formatShape(view.shape));
  if (*count > 0 && !view.data)
    return Error::user("tensor '" + name + "' of shape " + formatShape(view.shape) +
                       " has no data (a null pointer)");
  Tensor tensor(dtypeOf(view.type), view.shape);
  if (*count > 0)
    std::memcpy(tensor.bytes(), view.data, tensor.byteSize());
  return tensor;
}

Expected<TensorMap> tensorsFromViews(const TensorViews &views) {
  TensorMap tensors;
  for (const auto &[name, view] : views) {
    auto tensor = tensorFromView(name, view);
    if (!tensor)
      return tensor.takeError();
    tensors.emplace(name, tensor.take());
  }
  return tensors;
}

} // namespace detail

struct Outputs::Impl {
  TensorMap tensors;
};

Outputs::Outputs(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Outputs::Outputs(Outputs &&) noexcept = default;
Outputs &Outputs::operator=(Outputs &&) noexcept = default;
Outputs::~Outputs() = default;

Outputs detail::Access::makeOutputs(TensorMap tensors) {
  return Outputs(std::make_unique<Outputs::Impl>(Outputs::Impl{std::move(tensors)}));
}

const TensorMap &detail::Access::tensors(const Outputs &outputs) { return outputs.impl_->tensors; }

std::vector<std::string> Outputs::names() const {
  std::vector<std::string> names;
  for (const auto &entry : impl_->tensors)
    names.push_back(entry.first);
  return names;
}

bool Outputs::contains(const std::string &name) const { return impl_->tensors.count(name) > 0; }

Result<TensorView> Outputs::get(const std::string &name) const {
  auto tensor = impl_->tensors.find(name);
  if (tensor == impl_->tensors.end())
    return Failure{Failure::Kind::User, "no output named '" + name + "'"};
  return detail::viewOf(tensor->second);
}

Result<double> Outputs::loss() const {
  auto tensor = impl_->tensors.find("loss");
  if (tensor == impl_->tensors.end() || tensor->second.numElements() != 1 ||
      !isFloatingPoint(tensor->second.dtype()))
    return Failure{Failure::Kind::User, "no output named 'loss' (the model has no loss)"};
  Tensor value = tensor->second.convert(DType::F64);
  return value.values<double>()[0];
}

Result<TensorView> Outputs::gradient(const std::string &parameter) const {
  return get("grad." + parameter);
}

} // namespace rnnc
