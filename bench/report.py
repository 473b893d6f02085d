#!/usr/bin/python3
"""Turns the result files of bench/run.sh into the markdown of bench/README.md's results section.

usage: report.py RESULTS_DIR [--readme bench/README.md]

RESULTS_DIR holds what run.sh wrote: suite.json (Google Benchmark's JSON of rnnc_bench_suite),
suite-avx2.json (the same suite's rnnc and oneDNN rows limited to AVX2), torch-suite.json and
torch-train-<n>.json (bench/torch_peer.py), train-rnnc-<n>.csv (`rnnc train --log`),
compile-<mode>-<cold|cached>.json (`rnnc bench`), compile-times.json (bench/compile_times.py),
fma-peak.json (rnnc_fma_peak), machine.txt and command.txt. The
markdown goes to standard output; with --readme it also replaces the part of that file between
the lines `<!-- results: begin -->` and `<!-- results: end -->`.
"""

import argparse
import csv
import json
import os
import re
import statistics
import sys

BEGIN, END = "<!-- results: begin -->", "<!-- results: end -->"

# Training step, median ms, best thread setting, measured by others on these 2-core machines
# (design.md §5): the numbers rnnc aims to beat.
DESIGN_PEERS = {
    "S1": {"oneDNN": 1.49, "PyTorch": 16.8, "Eigen": 1.43},
    "S2": {"oneDNN": 26.1, "PyTorch": 56.1, "Eigen": 44.4},
    "S3": {"oneDNN": 190, "PyTorch": 286, "Eigen": 263},
    "S4": {"oneDNN": 232, "PyTorch": 698, "Eigen": 534},
    "L1": {"oneDNN": 93.2, "PyTorch": 208},
    "G1": {"oneDNN": 76.2, "PyTorch": 157},
    "C1": {"PyTorch": 29.2},
}
SHAPE_ORDER = ["S1", "S2", "S3", "S4", "L1", "G1", "C1"]


def load_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as file:
        return json.load(file)


def suite_times(suite):
    """{(shape, mode, threads, who): (median ms, repetitions)} from Google Benchmark's JSON: the
    median aggregate when there were repetitions, else the single run."""
    times, singles = {}, {}
    for row in (suite or {}).get("benchmarks", []):
        if row.get("error_occurred"):
            continue
        match = re.fullmatch(
            r"(\w+)/(forward|train)/threads:(\d+)/(eigen|onednn|rnnc)(/real_time)?",
            row["run_name"])
        if not match:
            continue
        key = (match[1], match[2], int(match[3]), match[4])
        if row.get("run_type") == "aggregate":
            if row.get("aggregate_name") == "median":
                times[key] = (row["real_time"], row.get("repetitions", 1))
        else:
            singles.setdefault(key, []).append(row["real_time"])
    for key, values in singles.items():
        times.setdefault(key, (statistics.median(values), len(values)))
    return times


def torch_times(torch_suite):
    if not torch_suite or "results" not in torch_suite:
        return {}
    return {(r["shape"], r["mode"], r["threads"]): r["median_ms"] for r in torch_suite["results"]}


def number(value, digits=3):
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def ratio_cell(a, b):
    r = ratio(a, b)
    return number(r, 2) if r else "—"


def best_of_threads(lookup):
    """The lower of the 1- and 2-thread values of lookup(threads), or None."""
    values = [v for v in (lookup(1), lookup(2)) if v is not None]
    return min(values) if values else None


def onednn_note(context):
    """What the suite's JSON context says about oneDNN: version, instruction set, threads."""
    onednn = context.get("onednn")
    if onednn is None:
        return "oneDNN: not recorded (a suite built before the oneDNN baseline)."
    if onednn.startswith("none"):
        return f"oneDNN: {onednn}."
    return (f"oneDNN {onednn}: kernels for `{context.get('onednn_isa', 'unknown')}` (instruction "
            f"set limit: {context.get('onednn_max_cpu_isa', 'unknown')}); threads: "
            f"{context.get('onednn_threads', 'unknown')}.")


def suite_table(results_dir):
    suite = load_json(os.path.join(results_dir, "suite.json"))
    torch_suite = load_json(os.path.join(results_dir, "torch-suite.json"))
    times = suite_times(suite)
    torch = torch_times(torch_suite)

    def suite_ms(shape, mode, threads, who):
        return times.get((shape, mode, threads, who), (None, 0))[0]

    lines = [
        "| shape | mode | threads | rnnc ms | Eigen ms | rnnc/Eigen | oneDNN ms | rnnc/oneDNN "
        "| PyTorch ms | rnnc/PyTorch | best peer of design.md §5 (train) |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for shape in SHAPE_ORDER:
        for mode in ("forward", "train"):
            for threads in (1, 2):
                rnnc, eigen, onednn = (suite_ms(shape, mode, threads, who)
                                       for who in ("rnnc", "eigen", "onednn"))
                peer = torch.get((shape, mode, threads))
                if rnnc is None and eigen is None and onednn is None and peer is None:
                    continue
                target = ""
                if mode == "train" and shape in DESIGN_PEERS:
                    name, best = min(DESIGN_PEERS[shape].items(), key=lambda item: item[1])
                    target = f"{name} {number(best)}"
                lines.append(
                    f"| {shape} | {mode} | {threads} | {number(rnnc)} | {number(eigen)} | "
                    f"{ratio_cell(rnnc, eigen)} | {number(onednn)} | {ratio_cell(rnnc, onednn)} | "
                    f"{number(peer)} | {ratio_cell(rnnc, peer)} | {target} |")
    lines += ["", "Best thread setting (the lower median of 1 and 2 threads), as design.md §5 "
              "reports its peers:", "",
              "| shape | mode | rnnc ms | Eigen ms | rnnc/Eigen | oneDNN ms | rnnc/oneDNN "
              "| PyTorch ms | rnnc/PyTorch |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for shape in SHAPE_ORDER:
        for mode in ("forward", "train"):
            rnnc, eigen, onednn = (
                best_of_threads(lambda n, who=who: suite_ms(shape, mode, n, who))
                for who in ("rnnc", "eigen", "onednn"))
            peer = best_of_threads(lambda n: torch.get((shape, mode, n)))
            if rnnc is None and eigen is None and onednn is None and peer is None:
                continue
            lines.append(f"| {shape} | {mode} | {number(rnnc)} | {number(eigen)} | "
                         f"{ratio_cell(rnnc, eigen)} | {number(onednn)} | "
                         f"{ratio_cell(rnnc, onednn)} | {number(peer)} | "
                         f"{ratio_cell(rnnc, peer)} |")
    notes = []
    if suite:
        context = suite.get("context", {})
        notes.append(f"Eigen threads: {context.get('eigen_threads', 'unknown')}.")
        notes.append(onednn_note(context))
        reps = {value[1] for value in times.values()}
        notes.append(f"rnnc, Eigen and oneDNN: median of {', '.join(map(str, sorted(reps)))} "
                     "repetition(s) of Google Benchmark's timing loop.")
    else:
        notes.append("rnnc_bench_suite did not run (see the log).")
    if torch_suite and "skipped" in torch_suite:
        notes.append(f"PyTorch: skipped ({torch_suite['skipped']}).")
    elif torch_suite:
        reps = {r["repetitions"] for r in torch_suite["results"]}
        blas = os.path.basename(torch_suite.get("blas") or "unknown")
        notes.append(f"PyTorch {torch_suite['torch']}: median of "
                     f"{', '.join(map(str, sorted(reps)))} repetition(s); BLAS `{blas}`.")
    return lines, notes


def avx2_table(results_dir):
    """rnnc compiled for haswell against oneDNN limited to AVX2 (run.sh's second suite run)."""
    suite = load_json(os.path.join(results_dir, "suite-avx2.json"))
    times = suite_times(suite)
    if not times:
        return ["(not measured)"], []
    lines = ["| shape | mode | threads | rnnc ms | oneDNN ms | rnnc/oneDNN |",
             "| --- | --- | --- | ---: | ---: | ---: |"]
    for shape in SHAPE_ORDER:
        for mode in ("forward", "train"):
            for threads in (1, 2):
                rnnc = times.get((shape, mode, threads, "rnnc"), (None, 0))[0]
                onednn = times.get((shape, mode, threads, "onednn"), (None, 0))[0]
                if rnnc is None and onednn is None:
                    continue
                lines.append(f"| {shape} | {mode} | {threads} | {number(rnnc)} | "
                             f"{number(onednn)} | {ratio_cell(rnnc, onednn)} |")
    context = suite.get("context", {})
    notes = [f"rnnc compiled for `{context.get('rnnc_cpu', 'unknown')}`.", onednn_note(context)]
    return lines, notes


def loaded_table(results_dir):
    """rnnc's S2 and L1 training on 1 and 2 threads while a busy process runs on every core
    (run.sh step 7), beside the same rows on the quiet machine (step 1)."""
    loaded = suite_times(load_json(os.path.join(results_dir, "suite-loaded.json")))
    quiet = suite_times(load_json(os.path.join(results_dir, "suite.json")))
    if not loaded:
        return ["(not measured)"]
    lines = ["| shape | threads | quiet ms | loaded ms | loaded ÷ quiet |",
             "| --- | --- | ---: | ---: | ---: |"]
    for shape in ("S2", "L1"):
        for threads in (1, 2):
            with_load = loaded.get((shape, "train", threads, "rnnc"), (None, 0))[0]
            without = quiet.get((shape, "train", threads, "rnnc"), (None, 0))[0]
            if with_load is None:
                continue
            lines.append(f"| {shape} | {threads} | {number(without)} | {number(with_load)} | "
                         f"{ratio_cell(with_load, without)} |")
    return lines


def rnnc_train_throughput(path):
    """Median tokens/s over the logged steps of `rnnc train --log`, without the first two
    (compilation and first-touch of the workspace)."""
    if not os.path.exists(path):
        return None
    with open(path) as file:
        rows = [row for row in csv.DictReader(file) if row.get("tokens_per_s")]
    values = [float(row["tokens_per_s"]) for row in rows[2:] or rows]
    return statistics.median(values) if values else None


def throughput_table(results_dir):
    lines = ["| threads | rnnc train tokens/s | PyTorch tokens/s | rnnc ÷ PyTorch (> 1: rnnc faster) |",
             "| --- | ---: | ---: | ---: |"]
    found = False
    for threads in (1, 2):
        rnnc = rnnc_train_throughput(os.path.join(results_dir, f"train-rnnc-{threads}.csv"))
        torch = load_json(os.path.join(results_dir, f"torch-train-{threads}.json"))
        peer = torch.get("tokens_per_s") if torch else None
        if rnnc is None and peer is None:
            continue
        found = True
        r = ratio(rnnc, peer)
        lines.append(f"| {threads} | {number(rnnc, 4)} | {number(peer, 4)} | "
                     f"{number(r, 2) if r else '—'} |")
    return lines if found else ["(not measured)"]


def compile_table(results_dir):
    lines = ["| graph | cold compile ms | cached compile ms | steady run ms |",
             "| --- | ---: | ---: | ---: |"]
    found = False
    for mode in ("forward", "train"):
        cold = load_json(os.path.join(results_dir, f"compile-{mode}-cold.json"))
        cached = load_json(os.path.join(results_dir, f"compile-{mode}-cached.json"))
        if not cold and not cached:
            continue
        found = True
        lines.append(f"| {mode} | {number((cold or {}).get('compile_ms'))} | "
                     f"{number((cached or {}).get('compile_ms'))} | "
                     f"{number((cached or cold).get('median_ms'))} |")
    return lines if found else ["(not measured)"]


def model_compile_table(results_dir):
    """Every example and bench model, cold and cached, with the cold compile's split by stage."""
    data = load_json(os.path.join(results_dir, "compile-times.json"))
    if not data:
        return ["(not measured)"]
    lines = ["| model | mode | cold ms | cached ms | frontend + passes | LLVM IR | LLVM optimise "
             "| machine code | link | LLVM IR instructions (generated → optimised) |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in data["rows"]:
        if "error" in row:
            lines.append(f"| {row['model']} | {row['mode']} | error: {row['error']} |||||||")
            continue
        split = row.get("compile") or {}
        lines.append(
            f"| {row['model']} | {row['mode']} | {number(row['cold_ms'])} | "
            f"{number(row['cached_ms'])} | {number(split.get('frontend_ms'))} | "
            f"{number(split.get('llvm_ir_ms'))} | {number(split.get('llvm_optimize_ms'))} | "
            f"{number(split.get('machine_code_ms'))} | {number(split.get('link_ms'))} | "
            f"{split.get('llvm_instructions', '—')} → {split.get('optimized_instructions', '—')} |")
    return lines


def s4_train_flops():
    """Floating-point operations of one S4 training step (T = 50, B = 16, I = H = 1760): the
    input and recurrent products forward, their input gradients and their weight gradients
    backward, each 2·T·B·H·(I or H); the element-wise work is left out."""
    t, b, i, h = 50, 16, 1760, 1760
    return 3 * 2 * t * b * h * (i + h)


def peak_lines(results_dir):
    """The measured FMA peak, and what fraction of it S4 training reaches."""
    peak = load_json(os.path.join(results_dir, "fma-peak.json"))
    if not peak:
        return ["(not measured)"]
    times = suite_times(load_json(os.path.join(results_dir, "suite.json")))
    avx2_times = suite_times(load_json(os.path.join(results_dir, "suite-avx2.json")))
    lines = ["| instruction set | threads | FMA peak GFLOP/s | rnnc S4 train ms | GFLOP/s | of peak "
             "| oneDNN S4 train ms | of peak |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for isa, lookup in (("avx512", times), ("avx2", avx2_times)):
        for threads in (1, 2):
            value = (peak.get(isa) or {}).get(str(threads))
            if value is None:
                continue
            cells = []
            for who in ("rnnc", "onednn"):
                ms = lookup.get(("S4", "train", threads, who), (None, 0))[0]
                rate = s4_train_flops() / (ms / 1000) / 1e9 if ms else None
                cells.append((ms, rate))
            (rnnc_ms, rnnc_rate), (onednn_ms, onednn_rate) = cells
            lines.append(
                f"| {isa} | {threads} | {number(value)} | {number(rnnc_ms)} | {number(rnnc_rate)} | "
                f"{f'{rnnc_rate / value:.0%}' if rnnc_rate else '—'} | {number(onednn_ms)} | "
                f"{f'{onednn_rate / value:.0%}' if onednn_rate else '—'} |")
    return lines


def read_text(path):
    if not os.path.exists(path):
        return ""
    with open(path) as file:
        return file.read().strip()


def warnings(results_dir):
    """Bold lines saying why the numbers may not be trusted: a --quick run, a busy machine."""
    lines = []
    if "--quick" in read_text(os.path.join(results_dir, "command.txt")):
        lines.append("- **Preliminary**: `--quick` (one repetition, short timing loops, few training "
                     "steps).")
    load = re.search(r"load average at start ([0-9.]+)",
                     read_text(os.path.join(results_dir, "machine.txt")))
    if load and float(load[1]) > 1.0:
        lines.append(f"- **Noisy**: the machine was busy (load average {load[1]} on "
                     f"{os.cpu_count()} cores at the start); multi-threaded rows suffer most.")
    return lines + [""] if lines else []


def report(results_dir):
    suite, notes = suite_table(results_dir)
    avx2, avx2_notes = avx2_table(results_dir)
    parts = [
        *warnings(results_dir),
        f"Command: `{read_text(os.path.join(results_dir, 'command.txt'))}`",
        "",
        "Machine: " + read_text(os.path.join(results_dir, "machine.txt")),
        "",
        "### Shape suite (median ms per call; ratio < 1: rnnc is faster)",
        "",
        *suite,
        "",
        *[f"- {note}" for note in notes],
        "",
        "### AVX2 rows: rnnc's JIT compiling for haswell, oneDNN with `ONEDNN_MAX_CPU_ISA=AVX2` "
        "(median ms per call; ratio < 1: rnnc is faster)",
        "",
        *avx2,
        "",
        *[f"- {note}" for note in avx2_notes],
        *([""] if avx2_notes else []),
        "### Training throughput: `rnnc train examples/elman.rnn -D H=256 --batch 32 --seq 64` "
        "and the same model in PyTorch",
        "",
        *throughput_table(results_dir),
        "",
        "### JIT compile time of examples/elman.rnn (H = 256, B = 32, T = 64; `rnnc bench`'s "
        "compile_ms = first run − median run, so a cache hit below the noise shows as 0)",
        "",
        *compile_table(results_dir),
        "",
        "### Cold and cached JIT compile time of every model (`bench/compile_times.py`: "
        "`rnnc bench MODEL --batch 8 --steps 16`, an empty cache, then the same cache; ms)",
        "",
        *model_compile_table(results_dir),
        "",
        "### Training with a competing load: one busy process per core (`run.sh` step 7; "
        "median ms)",
        "",
        *loaded_table(results_dir),
        "",
        "### FMA peak (`rnnc_fma_peak`, registers only) and S4 training against it "
        f"({s4_train_flops() / 1e9:.1f} GFLOP a step; AVX2 rows from the AVX2 suite run)",
        "",
        *peak_lines(results_dir),
    ]
    return "\n".join(parts) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results_dir")
    parser.add_argument("--readme")
    arguments = parser.parse_args()
    markdown = report(arguments.results_dir)
    sys.stdout.write(markdown)
    if arguments.readme:
        with open(arguments.readme) as file:
            text = file.read()
        if BEGIN not in text or END not in text:
            raise SystemExit(f"report.py: {arguments.readme} has no '{BEGIN}' … '{END}' section")
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        with open(arguments.readme, "w") as file:
            file.write(head + BEGIN + "\n" + markdown + END + tail)


if __name__ == "__main__":
    main()
