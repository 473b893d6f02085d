#!/usr/bin/python3
"""PyTorch peer of rnnc's benchmarks (bench/README.md), for Debian's python3-torch (/usr/bin/python3).

Two measurements, each printed as one JSON document on standard output:

  torch_peer.py suite [--shapes S1,S2,...] [--threads 1,2] [--repetitions R] [--warmup W]
      The shape suite of design.md §5 (the same table as bench/ShapeSuite.cpp), forward and
      training step, with torch.set_num_threads(n). The models compute what rnnc's model files do:
        S1-S4  nn.RNN(I, H, tanh) with loss = sum (h - y)^2   (bench/models/rnn_tanh.rnn)
        L1     nn.LSTM(I, H), same loss                        (bench/models/lstm.rnn)
        G1     nn.GRU(I, H), same loss                         (bench/models/gru.rnn)
        C1     one-hot 65 -> nn.RNN(65, 256) -> nn.Linear(256, 65), cross-entropy summed
               (examples/elman.rnn)
      forward = the outputs and the loss under torch.no_grad(); train = forward + backward: the
      loss and every gradient rnnc computes (parameters, and the real input x, which rnnc
      differentiates too), no optimiser step. Times are the median and minimum over repetitions.

  torch_peer.py train --data PATH --steps N [--hidden 256] [--batch 32] [--seq 64] [--threads N]
      Training throughput of the elman character model as `rnnc train` runs it: random windows of
      seq + 1 characters of the corpus (read as rnnc reads it: runtime/TextData.h), one-hot input,
      nn.RNN + nn.Linear, cross-entropy averaged over the batch's characters, gradient-norm
      clipping at 1, Adam (lr 0.002). Reports tokens/s (batch * seq / the median step time).

  torch_peer.py lm --data PATH --minutes M [--hidden 256] [--batch 32] [--seq 64] [--threads N]
                   [--lr 0.005] [--warmup 50] [--seed 1]
      The main job's model and schedule in PyTorch (scripts/main-job.sh, docs/training.md): a
      one-hot character LSTM (nn.LSTM + nn.Linear, examples/lstm_lm.rnn) trained for M minutes,
      each batch row reading consecutive windows of its own stream of the training text and
      starting from the state it ended in (detached: rnnc's --stateful), Adam after a linear
      warm-up with a cosine decay to lr/10 that follows the training time (--decay-minutes),
      gradient norm clipped at 1; then the held-out bits/char over the last 5% of the corpus read
      the same way (batch streams, state carried). Reports steps, tokens/s and bits/char.

Without torch the output is {"skipped": "<reason>"} and the exit status is 0.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

# name: (cell, T, B, I, H); I is the vocabulary for C1. Keep in step with bench/ShapeSuite.cpp.
SHAPES = {
    "S1": ("rnn", 100, 1, 256, 256),
    "S2": ("rnn", 100, 32, 256, 256),
    "S3": ("rnn", 100, 64, 512, 512),
    "S4": ("rnn", 50, 16, 1760, 1760),
    "L1": ("lstm", 100, 32, 256, 256),
    "G1": ("gru", 100, 32, 256, 256),
    "C1": ("char", 64, 32, 65, 256),
}


def load_torch():
    try:
        import torch  # noqa: F401
        return torch, None
    except Exception as error:  # ImportError, or a broken installation
        return None, f"torch not available: {error}"


def loaded_blas():
    """The path of the BLAS library this process has loaded (Debian's torch calls BLAS through
    libblas.so.3: the slow reference implementation unless an optimised one is installed or put
    first on LD_LIBRARY_PATH, as bench/run.sh does with OpenBLAS)."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path) and ".so" in path:
                return path
    return None


def set_threads(torch, threads):
    """torch.set_num_threads, and the same for OpenBLAS, whose own thread pool torch does not
    control when it calls BLAS as a generic libblas."""
    torch.set_num_threads(threads)
    blas = loaded_blas()
    if blas and "openblas" in blas:
        import ctypes
        try:
            ctypes.CDLL(blas).openblas_set_num_threads(threads)
        except (OSError, AttributeError):
            pass


def timed(function, warmup, repetitions):
    """Median and minimum milliseconds of `function` after `warmup` untimed calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def suite_case(torch, name, mode):
    """A function running one forward or training step of shape `name`."""
    cell, steps, batch, inputs, hidden = SHAPES[name]
    generator = torch.Generator().manual_seed(0)
    if cell == "char":
        rnn = torch.nn.RNN(inputs, hidden, nonlinearity="tanh")
        linear = torch.nn.Linear(hidden, inputs)
        tokens = torch.randint(0, inputs, (steps, batch), generator=generator)
        targets = torch.randint(0, inputs, (steps, batch), generator=generator)

        def step():
            x = torch.nn.functional.one_hot(tokens, inputs).float()
            h, _ = rnn(x)
            o = linear(h)
            return torch.nn.functional.cross_entropy(o.reshape(-1, inputs), targets.reshape(-1),
                                                     reduction="sum")
        parameters = list(rnn.parameters()) + list(linear.parameters())
        leaves = parameters
    else:
        module = {"rnn": lambda: torch.nn.RNN(inputs, hidden, nonlinearity="tanh"),
                  "lstm": lambda: torch.nn.LSTM(inputs, hidden),
                  "gru": lambda: torch.nn.GRU(inputs, hidden)}[cell]()
        x = torch.randn(steps, batch, inputs, generator=generator)
        y = torch.randn(steps, batch, hidden, generator=generator)
        x.requires_grad_(mode == "train")

        def step():
            h, _ = module(x)
            return ((h - y) ** 2).sum()
        leaves = list(module.parameters()) + [x]

    if mode == "forward":
        def forward():
            with torch.no_grad():
                step()
        return forward

    def train():
        for leaf in leaves:
            leaf.grad = None
        step().backward()
    return train


def run_suite(arguments):
    torch, reason = load_torch()
    if torch is None:
        return {"skipped": reason}
    shapes = arguments.shapes.split(",")
    for name in shapes:
        if name not in SHAPES:
            raise SystemExit(f"torch_peer.py: unknown shape '{name}' (known: {', '.join(SHAPES)})")
    results = []
    for name in shapes:
        for mode in ("forward", "train"):
            for threads in (int(n) for n in arguments.threads.split(",")):
                set_threads(torch, threads)
                median, minimum = timed(suite_case(torch, name, mode), arguments.warmup,
                                        arguments.repetitions)
                results.append({"shape": name, "mode": mode, "threads": threads,
                                "median_ms": round(median, 4), "min_ms": round(minimum, 4),
                                "repetitions": arguments.repetitions})
                print(f"torch_peer: {name} {mode} threads={threads}: {median:.3f} ms",
                      file=sys.stderr)
    return {"torch": torch.__version__, "blas": loaded_blas(), "results": results}


def read_corpus(path):
    """The corpus as rnnc reads it (runtime/TextData.h): a file, or every regular, non-hidden,
    non-link file below a directory in sorted path order, skipping files with a NUL byte, joined
    with a newline where a file does not end with one."""
    if not os.path.isdir(path):
        with open(path, encoding="utf-8") as file:
            return file.read()
    files = []
    for root, directories, names in os.walk(path):
        directories[:] = [d for d in directories
                          if not d.startswith(".") and not os.path.islink(os.path.join(root, d))]
        for name in names:
            full = os.path.join(root, name)
            if not name.startswith(".") and not os.path.islink(full) and os.path.isfile(full):
                files.append(full)
    text = ""
    for full in sorted(files):
        with open(full, "rb") as file:
            data = file.read()
        if b"\0" in data:
            continue
        if text and not text.endswith("\n"):
            text += "\n"
        text += data.decode("utf-8")
    return text


def run_train(arguments):
    torch, reason = load_torch()
    if torch is None:
        return {"skipped": reason}
    set_threads(torch, arguments.threads)
    torch.manual_seed(0)
    text = read_corpus(arguments.data)
    vocabulary = sorted(set(text))
    index = {character: i for i, character in enumerate(vocabulary)}
    ids = torch.tensor([index[character] for character in text], dtype=torch.long)
    train_ids = ids[: len(ids) - len(ids) // 20]  # rnnc holds out the last 5%
    size, hidden, batch, seq = len(vocabulary), arguments.hidden, arguments.batch, arguments.seq
    rnn = torch.nn.RNN(size, hidden, nonlinearity="tanh")
    linear = torch.nn.Linear(hidden, size)
    parameters = list(rnn.parameters()) + list(linear.parameters())
    optimizer = torch.optim.Adam(parameters, lr=0.002)
    offsets = torch.arange(seq + 1)
    times, losses = [], []
    for _ in range(arguments.steps):
        start = time.perf_counter()
        starts = torch.randint(0, len(train_ids) - seq - 1, (batch,))
        windows = train_ids[starts[:, None] + offsets].t()  # [seq + 1, batch]
        x = torch.nn.functional.one_hot(windows[:-1], size).float()
        h, _ = rnn(x)
        o = linear(h)
        loss = torch.nn.functional.cross_entropy(o.reshape(-1, size), windows[1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        times.append(time.perf_counter() - start)
        losses.append(loss.item())
    steady = times[min(len(times) - 1, 2):]  # the first steps warm up the allocator
    step_seconds = statistics.median(steady)
    return {"torch": torch.__version__, "blas": loaded_blas(), "model": "elman", "vocabulary": size, "hidden": hidden,
            "batch": batch, "seq": seq, "threads": arguments.threads, "steps": arguments.steps,
            "median_step_ms": round(step_seconds * 1000, 4),
            "tokens_per_s": round(batch * seq / step_seconds, 1),
            "first_loss": round(losses[0], 4), "last_loss": round(losses[-1], 4)}


def streams(ids, batch):
    """`ids` cut into `batch` equal consecutive streams, [batch, length] (the tail dropped)."""
    length = len(ids) // batch
    return ids[: batch * length].reshape(batch, length)


def run_lm(arguments):
    torch, reason = load_torch()
    if torch is None:
        return {"skipped": reason}
    set_threads(torch, arguments.threads)
    torch.manual_seed(arguments.seed)
    text = read_corpus(arguments.data)
    vocabulary = sorted(set(text))
    index = {character: i for i, character in enumerate(vocabulary)}
    ids = torch.tensor([index[character] for character in text], dtype=torch.long)
    held_out = len(ids) // 20  # rnnc holds out the last 5%
    train_streams = streams(ids[: len(ids) - held_out], arguments.batch)
    held_streams = streams(ids[len(ids) - held_out:], arguments.batch)
    size, hidden, seq = len(vocabulary), arguments.hidden, arguments.seq
    lstm = torch.nn.LSTM(size, hidden)
    linear = torch.nn.Linear(hidden, size)
    parameters = list(lstm.parameters()) + list(linear.parameters())
    optimizer = torch.optim.Adam(parameters, lr=arguments.lr)
    budget = arguments.minutes * 60

    def rate(step, elapsed):
        if step <= arguments.warmup:
            return arguments.lr * step / arguments.warmup
        progress = min(1.0, elapsed / budget)
        minimum = arguments.lr / 10
        return minimum + (arguments.lr - minimum) * 0.5 * (1 + math.cos(math.pi * progress))

    def windows(stream_ids, position):
        chunk = stream_ids[:, position: position + seq + 1].t()  # [seq + 1, batch]
        return torch.nn.functional.one_hot(chunk[:-1], size).float(), chunk[1:]

    state, position, step = None, 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        if position + seq + 1 > train_streams.shape[1]:
            position, state = 0, None
        x, y = windows(train_streams, position)
        position += seq
        step += 1
        for group in optimizer.param_groups:
            group["lr"] = rate(step, time.perf_counter() - start)
        h, state = lstm(x, state)
        state = tuple(s.detach() for s in state)
        loss = torch.nn.functional.cross_entropy(linear(h).reshape(-1, size), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
    seconds = time.perf_counter() - start
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for position in range(0, held_streams.shape[1] - seq, seq):
            x, y = windows(held_streams, position)
            h, state = lstm(x, state)
            total += torch.nn.functional.cross_entropy(
                linear(h).reshape(-1, size), y.reshape(-1), reduction="sum").item()
            count += y.numel()
    return {"torch": torch.__version__, "blas": loaded_blas(), "model": "lstm_lm",
            "vocabulary": size, "hidden": hidden, "batch": arguments.batch, "seq": seq,
            "threads": arguments.threads, "minutes": arguments.minutes, "steps": step,
            "tokens_per_s": round(step * arguments.batch * seq / seconds, 1),
            "held_out_characters": count,
            "held_out_bits_per_char": round(total / count / math.log(2), 4)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    suite = commands.add_parser("suite", help="the shape suite, forward and training step")
    suite.add_argument("--shapes", default=",".join(SHAPES))
    suite.add_argument("--threads", default="1,2")
    suite.add_argument("--repetitions", type=int, default=10)
    suite.add_argument("--warmup", type=int, default=2)

    def character_model_parser(name, help):
        """A subcommand training a character model on a corpus: the options both share."""
        command = commands.add_parser(name, help=help)
        command.add_argument("--data", required=True)
        command.add_argument("--hidden", type=int, default=256)
        command.add_argument("--batch", type=int, default=32)
        command.add_argument("--seq", type=int, default=64)
        command.add_argument("--threads", type=int, default=1)
        return command

    train = character_model_parser("train", "training throughput of the elman character model")
    train.add_argument("--steps", type=int, default=50)
    lm = character_model_parser("lm", "the main job's character LSTM for a time budget")
    lm.add_argument("--minutes", type=float, default=3)
    lm.add_argument("--lr", type=float, default=0.005)
    lm.add_argument("--warmup", type=int, default=50)
    lm.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    runs = {"suite": run_suite, "train": run_train, "lm": run_lm}
    result = runs[arguments.command](arguments)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
