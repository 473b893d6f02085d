#!/usr/bin/env bash
# Builds rnnc (Release) and runs every benchmark of bench/README.md, then rewrites the results
# section of bench/README.md:
#   1. rnnc_bench_suite: the shape suite (design.md §5), rnnc JIT, the hand-written Eigen BPTT and
#      oneDNN's RNN primitives (where rnnc_bench_suite was built with oneDNN), forward and
#      training, 1 and 2 threads (Google Benchmark; median of the repetitions); then its rnnc and
#      oneDNN rows of S1–S4, L1 and G1 once more limited to AVX2: rnnc's JIT compiling for haswell
#      (--rnnc_cpu=haswell), oneDNN under ONEDNN_MAX_CPU_ISA=AVX2 (on a CPU with AVX2 only);
#   2. bench/torch_peer.py suite: the same shapes in PyTorch (skipped cleanly without torch);
#   3. training throughput: `rnnc train examples/elman.rnn -D H=256 --batch 32 --seq 64` (tokens/s
#      from its --log CSV) and the same model in PyTorch (torch_peer.py train), 1 and 2 threads;
#   4. JIT compile time of elman (H = 256) with `rnnc bench`: cold (an empty $XDG_CACHE_HOME) and
#      cached (a second run with the same cache directory);
#   5. the same for every model of examples/ and bench/models/ (bench/compile_times.py);
#   6. the machine's FMA peak (rnnc_fma_peak), against which the report puts S4 training;
#   7. rnnc's S2 and L1 training rows again while one busy process per core competes for the
#      machine (the kernels' threads must not wait for a worker that is not running).
# Run it on a quiet machine: every number is a wall-clock time.
#
# usage: bash bench/run.sh [--quick]
#   --quick   one repetition, short timing loops, few training steps (to check the script works;
#             the numbers are noisy)
# Environment: RNNC_BENCH_BUILD (build directory, default build-release), RNNC_BENCH_REPETITIONS
# (default 5; 1 with --quick), RNNC_BENCH_TRAIN_STEPS (default 60; 12 with --quick),
# RNNC_BENCH_CORPUS (default /usr/share/games/fortunes, else a generated text file),
# RNNC_BENCH_FILTER (a Google Benchmark --benchmark_filter regex for the suite),
# RNNC_BENCH_AVX2_FILTER (the same for the AVX2 rows; an empty value skips them), RNNC_BENCH_JOBS
# (ninja -j for the build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

quick=0
for argument in "$@"; do
  case "$argument" in
    --quick) quick=1 ;;
    *) echo "usage: bash bench/run.sh [--quick]" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  repetitions=${RNNC_BENCH_REPETITIONS:-1} min_time=0.05 train_steps=${RNNC_BENCH_TRAIN_STEPS:-12}
else
  repetitions=${RNNC_BENCH_REPETITIONS:-5} min_time=0.5 train_steps=${RNNC_BENCH_TRAIN_STEPS:-60}
fi
build=${RNNC_BENCH_BUILD:-build-release}
results=$build/bench-results
python=/usr/bin/python3
start_seconds=$SECONDS

echo "== building rnnc and rnnc_bench_suite (Release) in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
# rnnc_bench_suite exists only where Google Benchmark is installed (libbenchmark-dev).
suite_target=rnnc_bench_suite
ninja -C "$build" -t targets all | grep -q '^rnnc_bench_suite:' || suite_target=
ninja -C "$build" ${RNNC_BENCH_JOBS:+-j "$RNNC_BENCH_JOBS"} rnnc $suite_target ${suite_target:+rnnc_fma_peak}
rnnc=$build/bin/rnnc
rm -rf "$results"
mkdir -p "$results"

model_name=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
cores=$(nproc)
{
  echo "$model_name, $cores cores ($(lscpu | grep -o 'avx512f\|avx2' | sort -u | tr '\n' ' ' |
    sed 's/ $//')), $(uname -sr); $(date -u '+%Y-%m-%d %H:%M UTC'); rnnc $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes'); load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$results/machine.txt"
echo "bash bench/run.sh$([ "$quick" = 1 ] && echo ' --quick')" > "$results/command.txt"

# Debian's torch calls BLAS through libblas.so.3; where that is the reference implementation
# (libblas3, 10–50x slower than an optimised BLAS) the PyTorch peer runs with Debian's OpenBLAS
# instead, unpacked into the build directory and put first on LD_LIBRARY_PATH for the peer only
# (nothing is installed). The report names the BLAS the peer used.
openblas=""
if [[ "$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null)" == */blas/libblas.so.3* ]]; then
  openblas_root=$(cd "$build" && pwd)/openblas
  openblas_lib=$openblas_root/root/usr/lib/x86_64-linux-gnu/openblas-pthread
  if [ ! -e "$openblas_lib/libblas.so.3" ]; then
    mkdir -p "$openblas_root"
    (cd "$openblas_root" && apt-get download libopenblas0-pthread > /dev/null 2>&1 &&
      dpkg-deb -x libopenblas0-pthread_*.deb root) || true
  fi
  [ -e "$openblas_lib/libblas.so.3" ] && openblas=$openblas_lib
fi
torch_peer() {
  if [ -n "$openblas" ]; then
    LD_LIBRARY_PATH=$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$python" bench/torch_peer.py "$@"
  else
    "$python" bench/torch_peer.py "$@"
  fi
}

echo "== 1. shape suite: rnnc JIT, Eigen and oneDNN ($repetitions repetition(s))"
if [ -n "$suite_target" ]; then
  "$build/bin/rnnc_bench_suite" --benchmark_repetitions="$repetitions" \
    --benchmark_report_aggregates_only=true --benchmark_min_time="$min_time" \
    --benchmark_filter="${RNNC_BENCH_FILTER:-.}" \
    --benchmark_out="$results/suite.json" --benchmark_out_format=json
  # The AVX2 rows: the Eigen baselines are compiled for the host (-march=native), so only rnnc and
  # oneDNN, which both choose their instructions at run time, are limited.
  avx2_rows='^(S[1-4]|L1|G1)/(forward|train)/threads:[12]/(onednn|rnnc)/'
  avx2_filter=${RNNC_BENCH_AVX2_FILTER-$avx2_rows}
  if [ -z "$avx2_filter" ]; then
    echo "== 1b. AVX2 rows: skipped (RNNC_BENCH_AVX2_FILTER is empty)"
  elif ! grep -qw avx2 /proc/cpuinfo; then
    echo "== 1b. AVX2 rows: skipped (this CPU has no AVX2)"
  else
    echo "== 1b. AVX2 rows: rnnc for haswell, oneDNN with ONEDNN_MAX_CPU_ISA=AVX2"
    ONEDNN_MAX_CPU_ISA=AVX2 "$build/bin/rnnc_bench_suite" --rnnc_cpu=haswell \
      --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
      --benchmark_min_time="$min_time" --benchmark_filter="$avx2_filter" \
      --benchmark_out="$results/suite-avx2.json" --benchmark_out_format=json
  fi
else
  echo "rnnc_bench_suite is not built: Google Benchmark (libbenchmark-dev) was not found"
fi

echo "== 2. PyTorch peers of the shape suite"
torch_peer suite --repetitions "$((repetitions < 2 ? 2 : repetitions))" \
  --warmup 1 > "$results/torch-suite.json"

echo "== 3. training throughput of elman, H=256 B=32 T=64 ($train_steps steps)"
corpus=${RNNC_BENCH_CORPUS:-/usr/share/games/fortunes}
if [ ! -e "$corpus" ]; then
  # No fortunes: a generated text of about 1 MB (what is timed does not depend on the text).
  corpus=$results/corpus.txt
  "$python" -c "
import random
random.seed(1)
words = [''.join(random.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(random.randint(1, 9)))
         for _ in range(5000)]
lines = (' '.join(random.choice(words) for _ in range(12)).capitalize() + '.' for _ in range(12000))
open('$corpus', 'w').write('\n'.join(lines) + '\n')"
fi
for threads in 1 2; do
  "$rnnc" train examples/elman.rnn -D H=256 --data "$corpus" --steps "$train_steps" --batch 32 \
    --seq 64 --backend jit --threads "$threads" --eval-every 1000000 --val-chars 4096 --seed 1 \
    --log "$results/train-rnnc-$threads.csv" > "$results/train-rnnc-$threads.log" 2>&1 ||
    { echo "rnnc train failed (threads $threads):"; tail -n 5 "$results/train-rnnc-$threads.log"; }
  torch_peer train --data "$corpus" --steps "$train_steps" --hidden 256 \
    --batch 32 --seq 64 --threads "$threads" > "$results/torch-train-$threads.json"
done

echo "== 4. JIT compile time of elman (H=256): cold, then cached"
cache=$(mktemp -d)
for mode in forward train; do
  for state in cold cached; do
    XDG_CACHE_HOME=$cache "$rnnc" bench examples/elman.rnn -D H=256 --batch 32 --steps 64 \
      --mode "$mode" --repetitions 3 --warmup 1 > "$results/compile-$mode-$state.json"
  done
done
rm -rf "$cache"

echo "== 5. JIT compile time of every example and bench model: cold, then cached"
"$python" bench/compile_times.py "$rnnc" > "$results/compile-times.json"

echo "== 6. the machine's FMA peak"
if [ -x "$build/bin/rnnc_fma_peak" ]; then
  "$build/bin/rnnc_fma_peak" > "$results/fma-peak.json"
fi

echo "== 7. S2 and L1 training with a competing load (one busy process per core)"
if [ -n "$suite_target" ]; then
  busy=()
  for _ in $(seq "$cores"); do
    (while :; do :; done) &
    busy+=($!)
  done
  "$build/bin/rnnc_bench_suite" --benchmark_repetitions="$repetitions" \
    --benchmark_report_aggregates_only=true --benchmark_min_time="$min_time" \
    --benchmark_filter='^(S2|L1)/train/threads:[12]/rnnc/' \
    --benchmark_out="$results/suite-loaded.json" --benchmark_out_format=json || true
  kill "${busy[@]}"
  wait "${busy[@]}" 2> /dev/null || true
fi

echo "== results (also in $results/results.md and bench/README.md)"
"$python" bench/report.py "$results" --readme bench/README.md | tee "$results/results.md"
echo "== bench/run.sh took $((SECONDS - start_seconds)) s"
