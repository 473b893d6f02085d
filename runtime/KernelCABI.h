/* The C half of the kernel ABI (KernelABI.h): the argument block every compiled kernel takes and
 * the `rnnc_rt_` functions kernels call. Plain C99 so that C hosts of ahead-of-time compiled
 * models include it (runtime/AotABI.h) without the runtime's C++; KernelABI.h includes it and
 * documents the contract. */
#ifndef RNNC_RUNTIME_KERNELCABI_H
#define RNNC_RUNTIME_KERNELCABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Opaque to kernels: the run's sampling state and the first error (see rnnc::KernelRuntime).
typedef struct rnnc_rt_context rnnc_rt_context;

/// The argument block of a kernel. Per-axis arrays are indexed by the kernel's axis numbering and
/// per-leaf arrays by its parameter, data and output numbering (KernelPlan::axes, params, data
/// and outputs in compiler/codegen/KernelPlan.h).
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

/// Starts a batch of `batchSize` examples: seeds the generator of every example b with
/// Rng(parameterSeed(seed, "example.<b>")).
void rnnc_rt_begin_batch(rnnc_rt_context *context, int64_t batchSize);
/// A token drawn from `probabilities[0 .. count)` with example `example`'s generator exactly as
/// the interpreter draws it (or their argmax when the run is greedy). On bad probabilities
/// records an error for op `opId` and returns 0.
int32_t rnnc_rt_sample_f32(rnnc_rt_context *context, const float *probabilities, int64_t count,
                           int32_t opId, int64_t example);
int32_t rnnc_rt_sample_f64(rnnc_rt_context *context, const double *probabilities, int64_t count,
                           int32_t opId, int64_t example);
/// Records error `code` (rnnc::KernelErrorCode) of op `opId` in example `example` with two
/// integer details, unless that example or a lower-numbered one already has an error.
void rnnc_rt_fail(rnnc_rt_context *context, int32_t opId, int32_t code, int64_t first,
                  int64_t second, int64_t example);
/// Packs A[i, p] = a[i * strideI + p * strideP] (i < m, p < k) into 64-byte panels
/// (runtime/Gemm.h); `packed` holds packedElements(m, k) elements.
void rnnc_rt_pack_f32(float *packed, const float *a, int64_t m, int64_t k, int64_t strideI,
                      int64_t strideP);
void rnnc_rt_pack_f64(double *packed, const double *a, int64_t m, int64_t k, int64_t strideI,
                      int64_t strideP);
/// Runs tiles(closure, begin, end) over [0, count) on the context's threads when `work` (the
/// multiply-adds of all tiles) is large enough, else on the calling thread (runtime/Gemm.h).
void rnnc_rt_parallel_tiles(rnnc_rt_context *context, void (*tiles)(void *, int64_t, int64_t),
                            void *closure, int64_t count, int64_t work);
/// One matrix product of a kernel (runtime/Product.h): for r < rows and i < m,
/// out[r·outRowStride + i] = addend[r·addendRowStride + i] + Σ_p A[i, p] x[r·xRowStride + p·xColumnStride]
/// (no addend when it is null; addendRowStride 0 for one vector shared by every row), A the
/// [m, k] operand packed by rnnc_rt_pack_*. vectorBytes: the widest vectors the calling kernel
/// was compiled for (64 AVX-512, 32 AVX2 + FMA, 16 SSE2); the product runs the widest
/// micro-kernels of at most that width the CPU has. Elements are in the precision of the
/// function's suffix. Runs on the context's threads when large enough.
typedef struct rnnc_rt_product {
  int64_t rows, m, k;
  const void *packed;
  const void *x;
  int64_t xRowStride, xColumnStride;
  void *out;
  int64_t outRowStride;
  const void *addend;
  int64_t addendRowStride;
  int64_t vectorBytes;
} rnnc_rt_product;
void rnnc_rt_product_f32(rnnc_rt_context *context, const rnnc_rt_product *product);
void rnnc_rt_product_f64(rnnc_rt_context *context, const rnnc_rt_product *product);
/// Nonzero once an error is recorded.
int32_t rnnc_rt_failed(const rnnc_rt_context *context);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RNNC_RUNTIME_KERNELCABI_H */
