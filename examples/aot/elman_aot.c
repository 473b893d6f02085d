/* elman_aot.c: examples/elman.rnn compiled ahead of time (see CMakeLists.txt), driven from C
 * through the header `rnnc compile --header` wrote: a few steps of gradient descent on a small
 * batch of two sequences of different lengths (forward, then backward for the gradients), then
 * greedy generation. It reads parameter shapes from the model's tables and tensor positions from
 * the header's macros. Exits nonzero, with the kernel's message, if a kernel reports an error. */
#include "elman.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH = 2, STEPS = 8, PRIME = 3, GENERATED = 6 };

static uint32_t random_state = 12345u;

/* Uniform in [-0.5, 0.5). */
static float uniform(void) {
  random_state = random_state * 1664525u + 1013904223u;
  return (float)(random_state >> 8) / 16777216.0f - 0.5f;
}

static void *zeroed(int64_t bytes) {
  void *memory = calloc(1, (size_t)(bytes > 0 ? bytes : 1));
  if (!memory) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  return memory;
}

/* The model's parameters, in the order of its parameter table (that of forward). */
static float *params[ELMAN_FORWARD_NUM_PARAMS];

/* A kernel's parameter pointers, found by name in the model's table. */
static void fill_params(const rnnc_kernel_info *kernel, void **pointers) {
  for (int32_t i = 0; i < kernel->num_params; ++i)
    for (int32_t j = 0; j < elman_model.num_params; ++j)
      if (strcmp(kernel->params[i].name, elman_model.params[j].name) == 0)
        pointers[i] = params[j];
}

/* Runs `kernel` on the batch; allocates its outputs (zero-filled) into `outputs`. */
static void run(const rnnc_kernel_info *kernel, void *const *data, const int64_t *data_steps,
                int64_t steps, const int64_t *lengths, const int64_t *prime_lengths,
                void **outputs, rnnc_rt_context *context) {
  void *param_pointers[ELMAN_FORWARD_NUM_PARAMS];
  fill_params(kernel, param_pointers);
  for (int32_t i = 0; i < kernel->num_outputs; ++i) {
    const rnnc_tensor_info *output = &kernel->outputs[i];
    outputs[i] = zeroed(rnnc_rt_tensor_elements(output, BATCH, steps) *
                        (output->dtype == RNNC_DTYPE_F64 ? 8 : 4));
  }
  int64_t padded[1] = {steps};
  int64_t workspace_bytes = (kernel->workspace_bytes(BATCH, padded) + 63) / 64 * 64;
  void *workspace = aligned_alloc(64, (size_t)(workspace_bytes > 0 ? workspace_bytes : 64));
  rnnc_rt_kernel_args args = {BATCH,   padded, lengths, prime_lengths, param_pointers,
                              data,    data_steps, outputs, workspace, context};
  kernel->entry(&args);
  free(workspace);
  char message[512];
  if (rnnc_rt_error_message(context, kernel, message, sizeof message)) {
    fprintf(stderr, "%s: %s\n", kernel->name, message);
    exit(1);
  }
}

static void free_outputs(const rnnc_kernel_info *kernel, void **outputs) {
  for (int32_t i = 0; i < kernel->num_outputs; ++i)
    free(outputs[i]);
}

int main(void) {
  printf("model %s: K=%d H=%d, %d parameters\n", elman_model.name, ELMAN_DIM_K, ELMAN_DIM_H,
         elman_model.num_params);
  for (int32_t i = 0; i < elman_model.num_params; ++i) {
    const rnnc_tensor_info *param = &elman_model.params[i];
    int64_t elements = rnnc_rt_tensor_elements(param, 1, 1);
    params[i] = zeroed(elements * (int64_t)sizeof(float));
    for (int64_t j = 0; j < elements; ++j)
      params[i][j] = 0.3f * uniform();
  }

  /* Two sequences, time-major [T, B]: the second is 5 steps long. y is x shifted by one. */
  int32_t x[STEPS][BATCH], y[STEPS][BATCH];
  for (int t = 0; t < STEPS; ++t)
    for (int b = 0; b < BATCH; ++b) {
      x[t][b] = (3 * t + 5 * b) % ELMAN_DIM_K;
      y[t][b] = (3 * (t + 1) + 5 * b) % ELMAN_DIM_K;
    }
  const int64_t lengths[BATCH] = {STEPS, 5}, no_primes[BATCH] = {0, 0};
  void *data[ELMAN_BACKWARD_NUM_DATA];
  data[ELMAN_BACKWARD_DATA_x] = x;
  data[ELMAN_BACKWARD_DATA_y] = y;
  const int64_t data_steps[ELMAN_BACKWARD_NUM_DATA] = {STEPS, STEPS};

  rnnc_rt_context *context = rnnc_rt_context_create(0, 0);
  void *outputs[ELMAN_BACKWARD_NUM_OUTPUTS];
  run(&elman_forward_info, data, data_steps, STEPS, lengths, no_primes, outputs, context);
  printf("forward: loss = %.4f\n", *(float *)outputs[ELMAN_FORWARD_OUTPUT_loss]);
  free_outputs(&elman_forward_info, outputs);

  /* Gradient descent with the backward kernel's summed gradients. */
  const float rate = 0.05f;
  for (int step = 1; step <= 20; ++step) {
    run(&elman_backward_info, data, data_steps, STEPS, lengths, no_primes, outputs, context);
    double norm = 0;
    for (int32_t i = 0; i < elman_model.num_params; ++i) {
      char gradient_name[64];
      snprintf(gradient_name, sizeof gradient_name, "grad.%s", elman_model.params[i].name);
      for (int32_t o = 0; o < elman_backward_info.num_outputs; ++o) {
        if (strcmp(elman_backward_info.outputs[o].name, gradient_name) != 0)
          continue;
        const float *gradient = outputs[o];
        int64_t elements = rnnc_rt_tensor_elements(&elman_backward_info.outputs[o], BATCH, STEPS);
        for (int64_t j = 0; j < elements; ++j) {
          norm += (double)gradient[j] * gradient[j];
          params[i][j] -= rate * gradient[j];
        }
      }
    }
    if (step == 1 || step % 5 == 0)
      printf("step %2d: loss = %.4f, gradient norm = %.4f\n", step,
             *(float *)outputs[ELMAN_BACKWARD_OUTPUT_loss], sqrt(norm));
    free_outputs(&elman_backward_info, outputs);
  }

  /* Greedy generation: each sequence's first PRIME tokens, then GENERATED more. */
  const int64_t total = PRIME + GENERATED;
  const int64_t gen_lengths[BATCH] = {total, total}, gen_primes[BATCH] = {PRIME, PRIME};
  void *prime[ELMAN_GENERATE_NUM_DATA];
  prime[ELMAN_GENERATE_DATA_x] = x;
  const int64_t prime_steps[ELMAN_GENERATE_NUM_DATA] = {PRIME};
  void *generated[ELMAN_GENERATE_NUM_OUTPUTS];
  rnnc_rt_context_reset(context, 7, /*greedy=*/1);
  run(&elman_generate_info, prime, prime_steps, total, gen_lengths, gen_primes, generated,
      context);
  const int32_t *tokens = generated[ELMAN_GENERATE_OUTPUT_x];
  for (int b = 0; b < BATCH; ++b) {
    printf("generated %d:", b);
    for (int64_t t = 0; t < total; ++t)
      printf(" %d%s", tokens[t * BATCH + b], t + 1 == PRIME ? " |" : "");
    printf("\n");
  }
  free_outputs(&elman_generate_info, generated);

  rnnc_rt_context_destroy(context);
  for (int32_t i = 0; i < elman_model.num_params; ++i)
    free(params[i]);
  return 0;
}
