// Running a compiled kernel (runtime/KernelABI.h) on a batch with the reference interpreter's
// contract (ir/Interpreter.h), for every backend whose kernels come from the code generator: the
// JIT (compiler/jit/JitBackend.h) and ahead-of-time libraries (compiler/aot/AotBackend.h). The
// runner converts tensors to the kernel's precision, fills the argument block in the plan's
// numbering (params, data, outputs, axes), allocates the zero-filled outputs in the interpreter's
// layouts and a 64-byte aligned workspace, and turns an error the kernel recorded into the
// interpreter's message (runtime/KernelErrorMessage.h).
#pragma once

#include "compiler/codegen/KernelPlan.h"
#include "ir/Interpreter.h"
#include "runtime/Error.h"
#include "runtime/KernelABI.h"
#include "runtime/ThreadPool.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rnnc::backend {

/// A kernel ready to call: its plan and entry point, and optionally the workspace size query
/// compiled with it (an AOT library's); the runner then checks that the query agrees with the
/// plan, so a compiled query can never hand a kernel a workspace that is too small.
struct RunnableKernel {
  const codegen::KernelPlan *plan = nullptr;
  rnnc_rt_kernel_fn entry = nullptr;
  int64_t (*workspaceBytes)(int64_t batchSize, const int64_t *paddedLengths) = nullptr;
};

/// One runner per backend instance: it keeps the workspace between calls (Backend.h: one thread
/// at a time).
class KernelRunner {
public:
  KernelRunner() = default;
  KernelRunner(const KernelRunner &) = delete;
  KernelRunner &operator=(const KernelRunner &) = delete;
  ~KernelRunner();

  /// Runs `kernel` on `batch`, whose shape ir::checkBatch returned.
  Expected<TensorMap> run(const RunnableKernel &kernel, const ir::Batch &batch,
                          const ir::BatchShape &shape, const ir::RunOptions &options);

private:
  void *reserveWorkspace(int64_t bytes);
  void *workspace_ = nullptr;
  int64_t workspaceCapacity_ = 0;
  std::unique_ptr<ThreadPool> pool_; ///< The threads of the last run that asked for more than one.
};

/// The time axis a failing op's message names: the axis it stacks onto, or that it reads from.
std::string failingOpAxis(const ir::Op &op);

/// The interpreter's error for what a kernel of `plan` recorded.
Error kernelError(const codegen::KernelPlan &plan, const KernelError &error);

} // namespace rnnc::backend
