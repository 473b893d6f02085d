// CaseTensors (CaseTensors.h).
#include "bench/CaseTensors.h"

#include "runtime/Safetensors.h"

namespace rnnc::bench {

int64_t CaseTensors::dim(const std::string &name) {
  for (const auto &[dim, value] : source_.module().dims())
    if (dim == name)
      return value;
  fail(baseline_ + " needs a dim '" + name + "', which the model lacks");
  return 0;
}

const Tensor *CaseTensors::checked(const TensorMap &tensors, const std::string &name, DType dtype,
                                   const std::vector<int64_t> &shape) {
  auto found = tensors.find(name);
  if (found == tensors.end()) {
    fail(baseline_ + " needs a tensor '" + name + "', which the model lacks");
    return nullptr;
  }
  if (Status status = checkTensor(name, found->second, dtype, shape); !status) {
    fail(baseline_ + ": " + status.error().message);
    return nullptr;
  }
  return &found->second;
}

void CaseTensors::fail(std::string message) {
  if (!failure_)
    failure_ = Error::user(std::move(message));
}

} // namespace rnnc::bench
