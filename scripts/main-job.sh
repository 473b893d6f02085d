#!/usr/bin/env bash
# The main job: installs what is missing, builds rnnc, and trains the Elman character model of
# examples/elman.rnn on Debian's fortunes corpus (/usr/share/games/fortunes) for three minutes on
# 2 cores, then prints the held-out bits per character and a sample of generated text.
#
# Training runs on the compiled backend (`--backend jit`) when `rnnc run --backend jit` works on
# this build, else on the reference interpreter. Set RNNC_TRAIN_MINUTES to train for longer or
# shorter. The checkpoint, the CSV log and the SVG plot of the loss curves are written to
# build/main-job/.
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

# The compiled backend when it runs this model's forward and backward passes, else the reference
# interpreter. Either way each batch is split over 2 threads (one backend instance each). The
# cosine learning-rate decay is laid out over about as many steps as 3 minutes allow on 2 cores
# with that backend; the time limit ends the run if the machine is slower.
"$rnnc" init "$model" -D K=8 -D H=8 -o "$work/probe-params.safetensors"
"$rnnc" data "$model" -D K=8 -D H=8 --batch 2 --steps 4 -o "$work/probe-batch.safetensors"
if "$rnnc" run "$model" -D K=8 -D H=8 --params "$work/probe-params.safetensors" \
     --inputs "$work/probe-batch.safetensors" --grad --backend jit \
     -o "$work/probe-out.safetensors" > /dev/null 2>&1; then
  backend=jit steps=60000
else
  backend=interp steps=5000
fi
echo "rnnc: training $model on $corpus for $minutes minutes (backend $backend, 2 threads)"

# H = 128 hidden units, batches of 32 windows of 64 characters, Adam at 0.01 after a 50-step
# warm-up, gradient norm clipped at 1 (the default); the held-out bits/char every 500 steps.
"$rnnc" train "$model" -D H=128 --data "$corpus" --minutes "$minutes" --steps "$steps" \
  --batch 32 --seq 64 --lr 0.01 --warmup 50 --eval-every 500 --seed 1 \
  --backend "$backend" --threads 2 \
  --save "$work/elman.safetensors" --log "$work/loss.csv" --plot "$work/loss.svg"
echo "rnnc: loss curves in $work/loss.csv and $work/loss.svg"
echo "rnnc: a sample (temperature 0.8):"
"$rnnc" sample "$model" --params "$work/elman.safetensors" --prime "The " -n 400 \
  --temperature 0.8 --seed 1 --backend "$backend"
