// The ABI between compiled kernels (compiler/codegen) and the thin runtime: the argument block
// every generated graph function takes, and the `rnnc_rt_` functions kernels call for what is
// awkward to generate (sampling with the interpreter's generator, reporting a run-time error).
//
// A kernel is `void <name>(const rnnc_rt_kernel_args *)`. It runs the graph for examples
// 0 ... batchSize-1, all of them step by step together (compiler/codegen/KernelPlan.h), with the
// results the reference interpreter gives running them one after the other (ir/Interpreter.h):
// every example has its own sampling generator, and of several failing examples the first is
// reported. It reads and writes caller memory only through the pointers of the argument block. The JIT registers every
// function of runtimeSymbols() with the engine by name; ahead-of-time code resolves the same
// names through the linker (style.md habit 10). No LLVM here.
//
// Errors. A kernel never aborts: a runtime function that meets a user error (sampling from
// probabilities that are negative, non-finite or sum to zero; reading a step an example does not
// have) records it in the context — the error of the lowest-numbered example that fails, and of
// that example the first — and the kernel finishes the batch.
// The host turns the record into the interpreter's message for that op.
//
// The C declarations (the argument block and the `rnnc_rt_` functions) are in KernelCABI.h,
// plain C, so that C programs calling ahead-of-time compiled kernels include them alone.
#pragma once

#include "runtime/Init.h"
#include "runtime/ThreadPool.h"
#include "runtime/KernelCABI.h"

#include <cstdint>
#include <string>
#include <vector>

namespace rnnc {

enum class KernelErrorCode : int32_t {
  None = 0,
  /// sample: probability `value` at index `first` is negative or not finite.
  BadProbability = 1,
  /// sample: the probabilities sum to zero.
  ZeroProbabilities = 2,
  /// at_step: reads step `first`, the example has `second`.
  StepOutOfRange = 3,
  /// stack: stacks `first` steps, the example has `second`.
  StackLengthMismatch = 4,
};

/// The error a kernel recorded (see the file comment for which).
struct KernelError {
  KernelErrorCode code = KernelErrorCode::None;
  int32_t opId = -1;
  int64_t first = 0, second = 0;
  double value = 0;
  int64_t example = -1; ///< The example whose error it is.
};

/// The definition of the opaque rnnc_rt_context: one per kernel call.
struct KernelRuntime {
  uint64_t seed = 0;
  bool greedy = false;
  /// The threads products run on; null means the calling thread only.
  ThreadPool *pool = nullptr;
  std::vector<Rng> generators; ///< One per example.
  KernelError error;
};

inline rnnc_rt_context *asContext(KernelRuntime &runtime) {
  return reinterpret_cast<rnnc_rt_context *>(&runtime);
}

/// A runtime function by its ABI name, for the JIT's symbol table.
struct RuntimeSymbol {
  const char *name;
  void *address;
};
/// Every `rnnc_rt_` function, plus the C library functions generated code may call (libm's
/// float functions behind LLVM's math intrinsics, memcpy, memset).
const std::vector<RuntimeSymbol> &runtimeSymbols();

} // namespace rnnc
