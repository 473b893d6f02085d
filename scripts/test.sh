#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (lit + GoogleTest) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2
