/* The C ABI of ahead-of-time compiled models (`rnnc compile`, docs/aot.md): the tables every
 * model object carries, and the runtime functions a C host calls around a kernel (a run's
 * context, its first error as the interpreter's message, tensor sizes). Plain C99, included by
 * the headers `rnnc compile --header` writes; implemented in runtime/AotABI.cpp, no LLVM.
 *
 * Invariant: the structs below and the LLVM types compiler/aot/AbiTables.cpp emits for them have
 * the same fields in the same order (a test reads the tables of a compiled object through this
 * header). RNNC_AOT_ABI_VERSION changes whenever they change. */
#ifndef RNNC_RUNTIME_AOTABI_H
#define RNNC_RUNTIME_AOTABI_H

#include "runtime/KernelCABI.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RNNC_AOT_ABI_VERSION 1

/* Element types of tensors. */
enum { RNNC_DTYPE_F32 = 0, RNNC_DTYPE_F64 = 1, RNNC_DTYPE_I32 = 2 };

/* How a tensor's dimensions follow from its per-example shape.
 *   RNNC_LAYOUT_UNBATCHED  exactly `shape` (parameters; `loss` and `grad.<param>` outputs, which
 *                          are summed over the batch).
 *   RNNC_LAYOUT_BATCHED    time-major: [T, B, shape...] when `axis` >= 0 (T the padded length of
 *                          that axis, or the steps given for a prime), else [B, shape...]. */
enum { RNNC_LAYOUT_UNBATCHED = 0, RNNC_LAYOUT_BATCHED = 1 };

/* What a tensor is to the model. */
enum { RNNC_ROLE_PARAM = 0, RNNC_ROLE_INPUT = 1, RNNC_ROLE_TARGET = 2, RNNC_ROLE_OUTPUT = 3 };

/* One tensor a kernel reads or writes, in the kernel's numbering (args->params[i], data[i],
 * outputs[i]). */
typedef struct rnnc_tensor_info {
  const char *name;     /* the model's name: "W", "x", "loss", "grad.W" */
  const int64_t *shape; /* `rank` dims of one example's value; tokens have rank 0 */
  int32_t rank;
  int32_t dtype;  /* RNNC_DTYPE_*: reals in the kernel's precision, token ids I32 */
  int32_t axis;   /* -1: no time dimension; else the index of its time axis in `axes` */
  int32_t layout; /* RNNC_LAYOUT_* */
  int64_t vocab;  /* tokens: ids are in [0, vocab); 0 for reals */
  int32_t role;   /* RNNC_ROLE_* */
  int32_t is_prime; /* data: a generated name's prime, which may be shorter than its axis */
} rnnc_tensor_info;

/* An op that can fail at run time (a kernel reports it by index): for error messages. */
typedef struct rnnc_failing_op {
  const char *where; /* "'sample' at model.rnn:17:3" */
  const char *axis;  /* the time axis it reads or stacks */
} rnnc_failing_op;

/* The size of the workspace a kernel needs for `batch_size` examples whose time axes have the
 * padded lengths `padded_lengths[axis]` (in the kernel's `axes` order). */
typedef int64_t (*rnnc_workspace_fn)(int64_t batch_size, const int64_t *padded_lengths);

/* One compiled kernel: `forward`, `backward` or `generate`. */
typedef struct rnnc_kernel_info {
  const char *name;       /* "forward", "backward", "generate" */
  const char *entry_name; /* its symbol: "<prefix>_<name>" */
  rnnc_rt_kernel_fn entry;
  rnnc_workspace_fn workspace_bytes;
  int32_t dtype;    /* the real type it computes in: RNNC_DTYPE_F32 or RNNC_DTYPE_F64 */
  int32_t num_axes; /* base time axes, sorted by name */
  const char *const *axes;
  int32_t num_params, num_data, num_outputs, num_failing_ops;
  const rnnc_tensor_info *params, *data, *outputs;
  const rnnc_failing_op *failing_ops;
} rnnc_kernel_info;

/* A compiled model: its dims, its parameter table and its kernels. */
typedef struct rnnc_model_info {
  const char *name;   /* the model's name in its file */
  const char *prefix; /* of every symbol */
  int32_t abi_version; /* RNNC_AOT_ABI_VERSION of the compiler that wrote it */
  int32_t num_dims;
  const char *const *dim_names;
  const int64_t *dim_values;
  int32_t num_kernels;
  int32_t num_params;                   /* the model's parameters (those of `forward`) */
  const rnnc_kernel_info *const *kernels;
  const rnnc_tensor_info *params;
  const rnnc_kernel_info *forward, *backward, *generate; /* NULL when not compiled */
} rnnc_model_info;

/* A run's context (sampling seed and the first error): create one, pass it as args->runtime,
 * reuse it for later calls after rnnc_rt_context_reset. NULL when out of memory. */
rnnc_rt_context *rnnc_rt_context_create(uint64_t seed, int32_t greedy);
void rnnc_rt_context_reset(rnnc_rt_context *context, uint64_t seed, int32_t greedy);
void rnnc_rt_context_destroy(rnnc_rt_context *context);

/* 0 when the last call of `kernel` with `context` succeeded; else the error's code, with the
 * interpreter's message for it written to `buffer` (NUL-terminated, cut to `size` bytes). */
int32_t rnnc_rt_error_message(const rnnc_rt_context *context, const rnnc_kernel_info *kernel,
                              char *buffer, size_t size);

/* The number of elements of tensor `tensor` for `batch_size` examples and `steps` time steps
 * (ignored when the tensor has no time axis). */
int64_t rnnc_rt_tensor_elements(const rnnc_tensor_info *tensor, int64_t batch_size,
                                int64_t steps);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RNNC_RUNTIME_AOTABI_H */
