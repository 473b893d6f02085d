// The ABI between compiled kernels (compiler/codegen) and the thin runtime: the argument block
// every generated graph function takes, and the `rnnc_rt_` functions kernels call for what is
// awkward to generate (sampling with the interpreter's generator, reporting a run-time error).
//
// A kernel is `void <name>(const rnnc_rt_kernel_args *)`. It runs the graph for examples
// 0 ... batchSize-1 in order (the reference interpreter's order, ir/Interpreter.h), reading and
// writing caller memory only through the pointers of the argument block. The JIT registers every
// function of runtimeSymbols() with the engine by name; ahead-of-time code resolves the same
// names through the linker (style.md habit 10). No LLVM here.
//
// Errors. A kernel never aborts: a runtime function that meets a user error (sampling from
// probabilities that are negative, non-finite or sum to zero; reading a step an example does not
// have) records the first one in the context, and the kernel stops after the example it is in.
// The host turns the record into the interpreter's message for that op.
#pragma once

#include "runtime/Init.h"

#include <cstdint>
#include <string>
#include <vector>

extern "C" {

/// Opaque to kernels: the run's sampling state and the first error (see rnnc::KernelRuntime).
typedef struct rnnc_rt_context rnnc_rt_context;

/// The argument block of a kernel. Per-axis arrays are indexed by the kernel's axis numbering and
/// per-leaf arrays by its parameter, data and output numbering
/// (compiler/codegen/KernelInterface.h).
typedef struct rnnc_rt_kernel_args {
  int64_t batchSize;
  const int64_t *paddedLengths; ///< [axes]: T of each base time axis.
  const int64_t *lengths;       ///< [axes][batchSize]: each example's length.
  const int64_t *primeLengths;  ///< [axes][batchSize]: each example's prime length (0 if none).
  void *const *params;          ///< Parameter tensors, unbatched, in the kernel's real type.
  void *const *data;            ///< Input/target tensors ([T, B, ...] or [B, ...]); null = absent.
  const int64_t *dataSteps;     ///< [data]: the first dimension of each sequence data tensor.
  void *const *outputs;         ///< Output tensors, zero-filled by the caller.
  void *workspace;              ///< 64-byte aligned, of the size the kernel's layout states.
  rnnc_rt_context *runtime;
} rnnc_rt_kernel_args;

typedef void (*rnnc_rt_kernel_fn)(const rnnc_rt_kernel_args *);

/// Starts example `example`: seeds its generator, Rng(parameterSeed(seed, "example.<b>")).
void rnnc_rt_begin_example(rnnc_rt_context *context, int64_t example);
/// A token drawn from `probabilities[0 .. count)` exactly as the interpreter draws it (or their
/// argmax when the run is greedy). On bad probabilities records an error for op `opId` and
/// returns 0.
int32_t rnnc_rt_sample_f32(rnnc_rt_context *context, const float *probabilities, int64_t count,
                           int32_t opId);
int32_t rnnc_rt_sample_f64(rnnc_rt_context *context, const double *probabilities, int64_t count,
                           int32_t opId);
/// Records error `code` (rnnc::KernelErrorCode) of op `opId` with two integer details, unless an
/// error is already recorded.
void rnnc_rt_fail(rnnc_rt_context *context, int32_t opId, int32_t code, int64_t first,
                  int64_t second);
/// Nonzero once an error is recorded.
int32_t rnnc_rt_failed(const rnnc_rt_context *context);

} // extern "C"

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

/// The first error a kernel recorded.
struct KernelError {
  KernelErrorCode code = KernelErrorCode::None;
  int32_t opId = -1;
  int64_t first = 0, second = 0;
  double value = 0;
};

/// The definition of the opaque rnnc_rt_context: one per kernel call.
struct KernelRuntime {
  uint64_t seed = 0;
  bool greedy = false;
  Rng rng{0};
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
