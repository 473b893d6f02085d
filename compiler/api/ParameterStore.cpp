// ParameterStore (rnnc/rnnc.h): the model's parameters, initialised, loaded and saved with the
// code of `rnnc init` and `rnnc run --params` (compiler/model/Parameters.h), so the
// API and the command line agree value for value and message for message. New values are
// copied into the existing tensors, so views handed out stay valid (ModelState's invariant).
#include "compiler/api/ModelState.h"

#include "compiler/model/ModelData.h"
#include "compiler/model/Parameters.h"
#include "runtime/Safetensors.h"

#include <cstring>

namespace rnnc {

namespace {

using detail::Access;

/// Copies every parameter of `values` (already checked against the model) into `parameters`,
/// converting to their element type.
void assign(TensorMap &parameters, const TensorMap &values) {
  for (auto &[name, tensor] : parameters) {
    Tensor converted = values.at(name).convert(tensor.dtype());
    std::memcpy(tensor.bytes(), converted.bytes(), tensor.byteSize());
  }
}

Failure noParameter(const std::string &name) {
  return {Failure::Kind::User, "no parameter named '" + name + "'"};
}

} // namespace

std::vector<std::string> ParameterStore::names() const {
  std::vector<std::string> names;
  for (const auto &entry : Access::state(*this).parameters)
    names.push_back(entry.first);
  return names;
}

Result<MutableTensorView> ParameterStore::get(const std::string &name) {
  TensorMap &parameters = Access::state(*this).parameters;
  auto tensor = parameters.find(name);
  if (tensor == parameters.end())
    return noParameter(name);
  return detail::mutableViewOf(tensor->second);
}

Result<TensorView> ParameterStore::get(const std::string &name) const {
  const TensorMap &parameters = Access::state(*this).parameters;
  auto tensor = parameters.find(name);
  if (tensor == parameters.end())
    return noParameter(name);
  return detail::viewOf(tensor->second);
}

Result<void> ParameterStore::initialize(uint64_t seed) {
  return detail::guarded<void>([&]() -> Result<void> {
    detail::ModelState &state = Access::state(*this);
    auto values = model::initializeParameters(*state.forward, seed, state.realType);
    if (!values)
      return detail::toFailure(values.takeError());
    assign(state.parameters, *values);
    return {};
  });
}

Result<void> ParameterStore::load(const std::string &path) {
  return detail::guarded<void>([&]() -> Result<void> {
    detail::ModelState &state = Access::state(*this);
    auto values = readSafetensors(path);
    if (!values)
      return detail::toFailure(values.takeError());
    if (Status checked = model::checkParameters(*state.forward, *values, path); !checked)
      return detail::toFailure(checked.takeError());
    assign(state.parameters, *values);
    return {};
  });
}

Result<void> ParameterStore::save(const std::string &path) const {
  return detail::guarded<void>([&]() -> Result<void> {
    const detail::ModelState &state = Access::state(*this);
    return detail::toResult(
        writeSafetensors(path, state.parameters, model::modelMetadata(*state.module)));
  });
}

} // namespace rnnc
