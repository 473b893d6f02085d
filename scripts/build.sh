#!/usr/bin/env bash
# Configures and builds rnnc (Release with debug info, Ninja) in ./build, or in the directory
# RNNC_BUILD_DIR names; extra arguments go to cmake (e.g. -DRNNC_SANITIZE=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${RNNC_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
ninja -C "$build"
