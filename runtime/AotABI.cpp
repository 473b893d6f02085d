// The host side of the AOT ABI (AotABI.h): a context is a rnnc::KernelRuntime, the same object
// the JIT passes to its kernels, so sampling and errors behave alike in every host.
#include "runtime/AotABI.h"

#include "runtime/KernelABI.h"
#include "runtime/KernelErrorMessage.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

namespace {

rnnc::KernelRuntime &runtimeOf(rnnc_rt_context *context) {
  return *reinterpret_cast<rnnc::KernelRuntime *>(context);
}

void copyMessage(const std::string &message, char *buffer, size_t size) {
  if (!buffer || size == 0)
    return;
  size_t length = std::min(message.size(), size - 1);
  std::memcpy(buffer, message.data(), length);
  buffer[length] = '\0';
}

} // namespace

extern "C" {

rnnc_rt_context *rnnc_rt_context_create(uint64_t seed, int32_t greedy) {
  auto *runtime = new (std::nothrow) rnnc::KernelRuntime;
  if (!runtime)
    return nullptr;
  rnnc_rt_context *context = rnnc::asContext(*runtime);
  rnnc_rt_context_reset(context, seed, greedy);
  return context;
}

void rnnc_rt_context_reset(rnnc_rt_context *context, uint64_t seed, int32_t greedy) {
  rnnc::KernelRuntime &runtime = runtimeOf(context);
  runtime = rnnc::KernelRuntime{};
  runtime.seed = seed;
  runtime.greedy = greedy != 0;
}

void rnnc_rt_context_destroy(rnnc_rt_context *context) {
  delete reinterpret_cast<rnnc::KernelRuntime *>(context);
}

int32_t rnnc_rt_error_message(const rnnc_rt_context *context, const rnnc_kernel_info *kernel,
                              char *buffer, size_t size) {
  const rnnc::KernelError &error =
      reinterpret_cast<const rnnc::KernelRuntime *>(context)->error;
  if (error.code == rnnc::KernelErrorCode::None) {
    copyMessage("", buffer, size);
    return 0;
  }
  std::string message = "internal error: a kernel reported an error for an unknown op";
  if (kernel && error.opId >= 0 && error.opId < kernel->num_failing_ops) {
    const rnnc_failing_op &op = kernel->failing_ops[error.opId];
    message = rnnc::kernelErrorMessage(error, op.where, op.axis)
                  .value_or("internal error: a kernel reported an unknown error");
  }
  copyMessage(message, buffer, size);
  return static_cast<int32_t>(error.code);
}

int64_t rnnc_rt_tensor_elements(const rnnc_tensor_info *tensor, int64_t batch_size,
                                int64_t steps) {
  int64_t elements = 1;
  for (int32_t i = 0; i < tensor->rank; ++i)
    elements *= tensor->shape[i];
  if (tensor->layout == RNNC_LAYOUT_BATCHED) {
    elements *= batch_size;
    if (tensor->axis >= 0)
      elements *= steps;
  }
  return elements;
}

} // extern "C"
