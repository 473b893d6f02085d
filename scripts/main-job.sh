#!/usr/bin/env bash
# The main job: installs what is missing, builds rnnc, and runs the Elman character model of
# examples/elman.rnn end to end on the reference interpreter: initialise parameters, run the
# forward pass and loss on a batch with sequences of different lengths, check the derived
# gradients against finite differences, and generate free-running text ids.
# (Training on the fortunes corpus replaces the random batch when `rnnc train` lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
rnnc=build/bin/rnnc
work=build/main-job
mkdir -p "$work"
"$rnnc" check examples/elman.rnn
"$rnnc" init examples/elman.rnn --seed 1 -o "$work/params.safetensors"
"$rnnc" data examples/elman.rnn --batch 4 --steps 32 --lengths --seed 2 -o "$work/batch.safetensors"
"$rnnc" run examples/elman.rnn --params "$work/params.safetensors" \
  --inputs "$work/batch.safetensors" -o "$work/out.safetensors"
"$rnnc" gradcheck examples/elman.rnn -D H=16 -D K=8 --seed 3
"$rnnc" data examples/elman.rnn --batch 2 --steps 4 --seed 4 -o "$work/prime.safetensors"
"$rnnc" run examples/elman.rnn --params "$work/params.safetensors" \
  --inputs "$work/prime.safetensors" --generate 40 --seed 5 -o "$work/generated.safetensors"
