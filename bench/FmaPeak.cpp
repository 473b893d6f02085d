// rnnc_fma_peak: the machine's measured float FMA peak, the yardstick of issue 10's "S4 training
// at ≥ 70 % of the 2-core FMA peak". Each thread runs independent chains of vector FMAs on
// registers only (no memory traffic), enough chains to cover the FMA latency on any x86 core;
// the threads start together and the slowest one's time counts. Prints one JSON object:
// {"avx512": {"1": GFLOP/s, "2": ...}, "avx2": {...}} (a set the CPU lacks is null).
//
// usage: rnnc_fma_peak [--seconds S]
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 24;

/// The sum of a vector's lanes, stored to `lanes` (so the loops' results are used).
float sumLanes(const float *lanes, int count) {
  float total = 0;
  for (int lane = 0; lane < count; ++lane)
    total += lanes[lane];
  return total;
}

/// `iterations` × kChains FMAs of 16 lanes; returns a value that depends on all of them.
__attribute__((target("avx512f"))) float fmaLoopAvx512(long iterations) {
  __m512 chains[kChains];
  for (int c = 0; c < kChains; ++c)
    chains[c] = _mm512_set1_ps(1.0f + c * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
#pragma GCC unroll 24 // every chain in a register of its own
    for (int c = 0; c < kChains; ++c)
      chains[c] = _mm512_fmadd_ps(chains[c], a, b);
  __m512 sum = chains[0];
  for (int c = 1; c < kChains; ++c)
    sum = _mm512_add_ps(sum, chains[c]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  return sumLanes(lanes, 16);
}

/// `iterations` × kChains / 2 FMAs of 8 lanes (16 registers: 12 chains).
__attribute__((target("avx2,fma"))) float fmaLoopAvx2(long iterations) {
  constexpr int chainCount = kChains / 2;
  __m256 chains[chainCount];
  for (int c = 0; c < chainCount; ++c)
    chains[c] = _mm256_set1_ps(1.0f + c * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
#pragma GCC unroll 12
    for (int c = 0; c < chainCount; ++c)
      chains[c] = _mm256_fmadd_ps(chains[c], a, b);
  __m256 sum = chains[0];
  for (int c = 1; c < chainCount; ++c)
    sum = _mm256_add_ps(sum, chains[c]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  return sumLanes(lanes, 8);
}

/// GFLOP/s of `threads` threads each running loop(iterations), flopsPerIteration per iteration.
double measure(float (*loop)(long), double flopsPerIteration, int threads, double seconds) {
  // Calibrate on one thread to about `seconds`.
  long iterations = 1 << 16;
  for (;;) {
    auto start = std::chrono::steady_clock::now();
    volatile float sink = loop(iterations);
    (void)sink;
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > seconds / 4) {
      iterations = static_cast<long>(iterations * seconds / elapsed);
      break;
    }
    iterations *= 4;
  }
  double best = 0;
  for (int repetition = 0; repetition < 3; ++repetition) {
    std::atomic<int> ready{0};
    std::vector<double> elapsed(static_cast<size_t>(threads));
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < threads) {
        }
        auto start = std::chrono::steady_clock::now();
        volatile float sink = loop(iterations);
        (void)sink;
        elapsed[static_cast<size_t>(t)] =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      });
    for (std::thread &worker : workers)
      worker.join();
    double slowest = *std::max_element(elapsed.begin(), elapsed.end());
    best = std::max(best, flopsPerIteration * double(iterations) * threads / slowest / 1e9);
  }
  return best;
}

} // namespace

int main(int argc, char **argv) {
  double seconds = 0.5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: rnnc_fma_peak [--seconds S]\n");
      return 2;
    }
  }
  if (!(seconds > 0)) {
    std::fprintf(stderr, "rnnc_fma_peak: --seconds must be positive\n");
    return 2;
  }
  struct Set {
    const char *name;
    bool present;
    float (*loop)(long);
    double flops;
  };
  const Set sets[] = {
      {"avx512", static_cast<bool>(__builtin_cpu_supports("avx512f")), fmaLoopAvx512,
       2.0 * 16 * kChains},
      {"avx2", __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), fmaLoopAvx2,
       2.0 * 8 * (kChains / 2)},
  };
  std::printf("{");
  for (size_t s = 0; s < 2; ++s) {
    std::printf("%s\"%s\": ", s ? ", " : "", sets[s].name);
    if (!sets[s].present) {
      std::printf("null");
      continue;
    }
    std::printf("{\"1\": %.1f, \"2\": %.1f}",
                measure(sets[s].loop, sets[s].flops, 1, seconds),
                measure(sets[s].loop, sets[s].flops, 2, seconds));
  }
  std::printf("}\n");
  return 0;
}
