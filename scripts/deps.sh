#!/usr/bin/env bash
# Installs rnnc's build and test dependencies from Debian 12 packages when any is missing.
# Run as root on a fresh machine; does nothing when everything is already there.
set -euo pipefail
packages=(llvm-19-dev llvm-19-tools clang-19 libeigen3-dev libgtest-dev libbenchmark-dev
          cmake ninja-build g++ python3 python3-numpy graphviz fortunes zlib1g-dev)
# Optional peers for the parity tests and benchmarks (PyTorch; oneDNN, the bench baseline) (skipped, never passed, when absent).
optional=(python3-torch libdnnl-dev)
missing=()
for package in "${packages[@]}" "${optional[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "rnnc: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${packages[@]}"
  apt-get install -y -qq "${optional[@]}" || echo "rnnc: optional peers not installed; parity tests will be skipped"
fi
