#!/usr/bin/env bash
# The main job: installs what is missing, builds rnnc, and trains the Elman character model of
# examples/elman.rnn on Debian's fortunes corpus (/usr/share/games/fortunes) for three minutes on
# 2 cores, then prints the held-out bits per character and a sample of generated text.
#
# Training runs on the compiled backend (`--backend jit`) when `rnnc run --backend jit` works on
# this build, else on the reference interpreter with each batch split over 2 threads. Set
# RNNC_TRAIN_MINUTES to train for longer or shorter. The checkpoint, the CSV log and the SVG plot
# of the loss curves are written to build/main-job/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
rnnc=build/bin/rnnc
work=build/main-job
corpus=/usr/share/games/fortunes
model=examples/elman.rnn
minutes=${RNNC_TRAIN_MINUTES:-3}
mkdir -p "$work"

# Does the compiled backend run this model's forward and backward passes?
"$rnnc" init "$model" -D K=8 -D H=8 -o "$work/probe-params.safetensors"
"$rnnc" data "$model" -D K=8 -D H=8 --batch 2 --steps 4 -o "$work/probe-batch.safetensors"
if "$rnnc" run "$model" -D K=8 -D H=8 --params "$work/probe-params.safetensors" \
     --inputs "$work/probe-batch.safetensors" --grad --backend jit \
     -o "$work/probe-out.safetensors" > /dev/null 2>&1; then
  backend=(--backend jit)
else
  backend=(--backend interp --threads 2)
fi
echo "rnnc: training ${model} on ${corpus} for ${minutes} minutes (${backend[*]})"

# H = 128 hidden units, batches of 32 windows of 64 characters, Adam at 0.01 with clipping at 1
# (the default). The cosine decay is laid out over 6000 steps, about what 3 minutes allow on 2
# cores; the time limit ends the run.
"$rnnc" train "$model" -D H=128 --data "$corpus" --minutes "$minutes" --steps 6000 \
  --batch 32 --seq 64 --lr 0.01 --warmup 50 --eval-every 500 --seed 1 "${backend[@]}" \
  --save "$work/elman.safetensors" --log "$work/loss.csv" --plot "$work/loss.svg"
echo "rnnc: loss curves in $work/loss.csv and $work/loss.svg"
echo "rnnc: a sample (temperature 0.8):"
"$rnnc" sample "$model" --params "$work/elman.safetensors" --prime "The " -n 400 \
  --temperature 0.8 --seed 1 "${backend[0]}" "${backend[1]}"
