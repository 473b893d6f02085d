#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang-19 (AddressSanitizer + UBSan) in ./build-fuzz
# and runs each for SECONDS seconds (default 60), starting from its seed corpus (the tree's
# examples and tests, fuzz/corpus/) and from what earlier runs kept (build-fuzz/corpus/).
# A finding is saved as build-fuzz/findings/<target>/crash-… (or timeout-…, oom-…); after
# fixing it, copy it to fuzz/regressions/<target>/ so that ctest replays it (docs/fuzzing.md).
#
# usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]     TARGET: model ir safetensors checkpoint
#        bash scripts/fuzz.sh --models N [FIRST]         N random models (RandomModelTest) from
#                                                        seed FIRST (default 1000) against the
#                                                        interpreter, in ./build
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--models" ]; then
  count=${2:?usage: bash scripts/fuzz.sh --models N [FIRST]} first=${3:-1000}
  bash scripts/build.sh > /dev/null
  RNNC_RANDOM_MODELS=$count RNNC_RANDOM_MODELS_FIRST=$first build/test/unit/RandomModelTest \
    --gtest_filter='RandomModelTest.CompiledBackends*'
  exit
fi
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(model ir safetensors checkpoint)

bash scripts/deps.sh
if ! dpkg-query -W -f='${Status}' libfuzzer-19-dev 2>/dev/null | grep -q "install ok installed"; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libfuzzer-19-dev clang-19
fi
CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRNNC_FUZZ=ON > /dev/null
ninja -C build-fuzz "${targets[@]/#/rnnc_fuzz_}"

status=0
for target in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$target findings=build-fuzz/findings/$target
  mkdir -p "$corpus" "$findings"
  case "$target" in
    model) seeds=(examples bench/models test/frontend) max_len=4096 ;;
    ir) seeds=(test/ir test/passes test/codegen) max_len=8192 ;;
    safetensors) seeds=(fuzz/corpus/safetensors) max_len=4096 ;;
    checkpoint) seeds=(fuzz/corpus/checkpoint fuzz/corpus/safetensors) max_len=8192 ;;
    *) echo "unknown fuzz target '$target' (model, ir, safetensors, checkpoint)" >&2; exit 2 ;;
  esac
  existing=()
  for seed in "${seeds[@]}" "fuzz/regressions/$target"; do
    [ -d "$seed" ] && existing+=("$seed")
  done
  dictionary=()
  [ -f "fuzz/$target.dict" ] && dictionary=(-dict="fuzz/$target.dict")
  echo "== fuzzing $target for $seconds s"
  log=build-fuzz/$target.log
  if ! build-fuzz/bin/rnnc_fuzz_$target "$corpus" "${existing[@]}" "${dictionary[@]}" \
      -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=4096 \
      -print_final_stats=1 -artifact_prefix="$findings/" > "$log" 2>&1; then
    status=1
    echo "rnnc_fuzz_$target found a problem: see $log and $findings/" >&2
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$log" | tail -n 2 || true
done
exit $status
