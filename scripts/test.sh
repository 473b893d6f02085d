#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (lit + GoogleTest through ctest).
#
# usage: bash scripts/test.sh [--sanitize]
#   --sanitize   build in ./build-asan with AddressSanitizer and UndefinedBehaviorSanitizer
#                (-DRNNC_SANITIZE=ON) and run the whole suite there instead of in ./build
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
configure=()
for argument in "$@"; do
  case "$argument" in
    --sanitize) build=build-asan configure=(-DRNNC_SANITIZE=ON) ;;
    *) echo "usage: bash scripts/test.sh [--sanitize]" >&2; exit 2 ;;
  esac
done
bash scripts/deps.sh
RNNC_BUILD_DIR=$build bash scripts/build.sh "${configure[@]}"
ctest --test-dir "$build" --output-on-failure -j2
