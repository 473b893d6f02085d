#!/usr/bin/env python3
"""Cold and cached JIT compile times of every model in examples/ and bench/models/ (issue 10).

For each model and mode (forward; train where the model has a loss) runs `rnnc bench` twice with
one fresh compile cache directory: first cold (an empty cache: lowering, optimisation, machine
code), then cached (the same cache: a lookup and a link). Prints one JSON object:
{"rows": [{"model", "mode", "cold_ms", "cached_ms", "compile": {...cold split...}}, ...]}
where *_ms is rnnc bench's compile_ms (first run minus the median run) and "compile" its
by-stage split of the cold run. A model rnnc bench cannot run gets "error" instead.

usage: compile_times.py RNNC [--batch B] [--steps T]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile


def bench(rnnc, model, mode, cache, batch, steps):
    environment = dict(os.environ, XDG_CACHE_HOME=cache)
    environment.pop("RNNC_CACHE", None)
    result = subprocess.run(
        [rnnc, "bench", model, "--batch", str(batch), "--steps", str(steps), "--mode", mode,
         "--repetitions", "3", "--warmup", "1"],
        capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        return None, result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"
    return json.loads(result.stdout), None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rnnc")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=16)
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    models = sorted(glob.glob(os.path.join(root, "examples", "*.rnn"))) + \
        sorted(glob.glob(os.path.join(root, "bench", "models", "*.rnn")))
    rows = []
    for model in models:
        name = os.path.relpath(model, root)
        for mode in ("forward", "train"):
            with tempfile.TemporaryDirectory() as cache:
                cold, error = bench(args.rnnc, model, mode, cache, args.batch, args.steps)
                if cold is None:
                    if "has no loss" not in error:
                        rows.append({"model": name, "mode": mode, "error": error})
                    continue
                cached, error = bench(args.rnnc, model, mode, cache, args.batch, args.steps)
                rows.append({"model": name, "mode": mode, "cold_ms": cold["compile_ms"],
                             "cached_ms": cached["compile_ms"] if cached else None,
                             "compile": cold.get("compile")})
    json.dump({"batch": args.batch, "steps": args.steps, "rows": rows}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
