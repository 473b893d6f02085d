"""Data sets with a learnable rule for the example models, written with numpy as a user would
(docs/training.md, "Data sets"), and the check that a trained model beats a trivial predictor.

  datasets.py write DIR          writes DIR/MODEL.train.safetensors, DIR/MODEL.val.safetensors and
                                 DIR/MODEL.baseline for classify, birnn, seq2seq and series
                                 (series' training data as a directory of two shards)
  datasets.py errors DIR         writes one small file per error of a data set (dataset-errors.test)
  datasets.py check MODEL DIR OUTPUT
                                 reads `rnnc train`'s OUTPUT and fails unless the held-out
                                 accuracy is above the majority class's (token targets) or the
                                 held-out loss below predicting the training targets' mean (series)
"""
import json
import os
import re
import struct
import sys

import numpy as np


def write_safetensors(path, tensors):
    """The safetensors format by hand: an 8-byte header length, the JSON header, the data."""
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        dtype = {"int32": "I32", "float32": "F32", "float64": "F64"}[array.dtype.name]
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def tokens(rng, n, max_len, vocab, min_len=1):
    """Random token sequences [n, max_len] (zero past each length) and their lengths."""
    lengths = rng.integers(min_len, max_len + 1, size=n).astype(np.int32)
    x = rng.integers(0, vocab, size=(n, max_len)).astype(np.int32)
    x[np.arange(max_len)[None, :] >= lengths[:, None]] = 0
    return x, lengths


def classify(rng, n):
    # The class of a sequence of ids 0-5 is its last id // 2.
    x, lengths = tokens(rng, n, 8, 6)
    label = (x[np.arange(n), lengths - 1] // 2).astype(np.int32)
    return {"x": x, "label": label, "lengths": lengths}


def birnn(rng, n):
    # The tag of step t is the next id (0 at the last step): it needs the backward recurrence.
    x, lengths = tokens(rng, n, 8, 4)
    y = np.zeros_like(x)
    y[:, :-1] = x[:, 1:]
    y[np.arange(n), lengths - 1] = 0
    return {"x": x, "y": y, "lengths": lengths}


def seq2seq(rng, n):
    # The target copies the source (ids 0-3) as ids 1-4 (0 is the decoder's start token).
    src, lengths = tokens(rng, n, 3, 4)
    tgt = np.where(np.arange(3)[None, :] < lengths[:, None], src + 1, 0).astype(np.int32)
    return {"src": src, "tgt": tgt, "lengths.s": lengths, "lengths.t": lengths.copy()}


def series(rng, n, steps=16):
    # Sines of random frequency and phase; the target is the next value.
    t = np.arange(steps + 1)[None, :]
    w = rng.uniform(0.3, 0.6, size=(n, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    values = np.sin(w * t + phase)
    lengths = rng.integers(steps // 2, steps + 1, size=n).astype(np.int32)
    return {"x": values[:, :-1, None], "y": values[:, 1:, None].astype(np.float32),
            "lengths": lengths}


def token_baseline(target, lengths):
    """The accuracy of always predicting the most frequent target id (within the lengths)."""
    if target.ndim == 1:
        ids = target
    else:
        ids = target[np.arange(target.shape[1])[None, :] < lengths[:, None]]
    return np.bincount(ids).max() / len(ids)


def write(directory):
    rng = np.random.default_rng(12)
    for name, make, target, axis_lengths in [("classify", classify, "label", "lengths"),
                                             ("birnn", birnn, "y", "lengths"),
                                             ("seq2seq", seq2seq, "tgt", "lengths.t")]:
        train, val = make(rng, 800), make(rng, 200)
        write_safetensors(os.path.join(directory, name + ".train.safetensors"), train)
        write_safetensors(os.path.join(directory, name + ".val.safetensors"), val)
        baseline = token_baseline(val[target], val[axis_lengths])
        with open(os.path.join(directory, name + ".baseline"), "w") as file:
            json.dump({"accuracy": baseline}, file)
    # Two shards of different T, read in sorted order.
    shards = os.path.join(directory, "series.train")
    os.makedirs(shards, exist_ok=True)
    train = [series(rng, 300, steps=16), series(rng, 200, steps=12)]
    for i, shard in enumerate(train):
        write_safetensors(os.path.join(shards, "part-%d.safetensors" % i), shard)
    val = series(rng, 200)
    write_safetensors(os.path.join(directory, "series.val.safetensors"), val)
    # The loss per target step of predicting the training targets' mean: sqerr = sum (p - y)^2.
    mean = np.mean(np.concatenate(
        [s["y"][np.arange(s["y"].shape[1])[None, :] < s["lengths"][:, None]] for s in train]))
    held = val["y"][np.arange(val["y"].shape[1])[None, :] < val["lengths"][:, None]]
    with open(os.path.join(directory, "series.baseline"), "w") as file:
        json.dump({"loss": float(np.mean((held - mean) ** 2))}, file)


def errors(directory):
    """classify (K=6, C=3, T=4), birnn, seq2seq and series files, each with one mistake."""
    def write_file(name, tensors):
        write_safetensors(os.path.join(directory, name + ".safetensors"), tensors)

    x = np.array([[1, 2, 3, 0], [4, 5, 0, 0], [0, 1, 2, 3]], dtype=np.int32)
    label = np.array([0, 1, 2], dtype=np.int32)
    lengths = np.array([3, 2, 4], dtype=np.int32)
    good = {"x": x, "label": label, "lengths": lengths}
    write_file("good", good)
    # Past each example's length anything goes: padding is never read.
    past = np.arange(4)[None, :] >= lengths[:, None]
    write_file("padded", dict(good, x=np.where(past, -1, x).astype(np.int32)))
    write_file("missing", {"x": x, "lengths": lengths})
    write_file("unknown", dict(good, weights=np.ones(3, dtype=np.float32)))
    write_file("dtype", dict(good, x=x.astype(np.float32)))
    write_file("shape", dict(good, label=np.zeros((3, 2), dtype=np.int32)))
    write_file("examples", dict(good, label=label[:2]))
    write_file("token", dict(good, x=np.where(x == 5, 7, x).astype(np.int32)))
    write_file("label", dict(good, label=np.array([0, 3, 1], dtype=np.int32)))
    write_file("length0", dict(good, lengths=np.array([3, 0, 4], dtype=np.int32)))
    write_file("length5", dict(good, lengths=np.array([3, 2, 5], dtype=np.int32)))
    write_file("lengths-count", dict(good, lengths=lengths[:2]))
    write_file("lengths-dtype", dict(good, lengths=lengths.astype(np.float32)))
    write_file("no-steps", dict(good, x=np.zeros((3, 0), dtype=np.int32)))
    # birnn: x and y over one axis with different T.
    write_file("birnn-steps", {"x": x, "y": x[:, :3].copy(), "lengths": np.minimum(lengths, 3)})
    # seq2seq: two axes, so `lengths` names none of them.
    write_file("seq2seq-lengths", {"src": x, "tgt": x, "lengths": lengths})
    # series: reals must be floats and finite.
    values = np.zeros((3, 4, 1))
    write_file("series-int", {"x": values.astype(np.int32), "y": values, "lengths": lengths})
    nan = values.copy()
    nan[1, 1, 0] = np.nan
    write_file("series-nan", {"x": values, "y": nan, "lengths": lengths})
    write_file("one", {"x": x[:1], "label": label[:1], "lengths": lengths[:1]})
    shards = os.path.join(directory, "shards")
    os.makedirs(shards, exist_ok=True)
    write_safetensors(os.path.join(shards, "a.safetensors"), good)
    write_safetensors(os.path.join(shards, "b.safetensors"), dict(good, x=np.where(x == 5, 7, x).astype(np.int32)))


def check(name, directory, output_path):
    with open(os.path.join(directory, name + ".baseline")) as file:
        baseline = json.load(file)
    with open(output_path) as file:
        output = file.read()
    if "accuracy" in baseline:
        accuracy = float(re.search(r"^metric: accuracy ([0-9.]+)", output, re.M).group(1))
        ok = accuracy > baseline["accuracy"] + 0.1
        print("%s: held-out accuracy %.4f, majority class %.4f: %s" %
              (name, accuracy, baseline["accuracy"], "beats it" if ok else "DOES NOT BEAT IT"))
    else:
        loss = float(re.search(r"^validation: loss ([0-9.]+) per item", output, re.M).group(1))
        ok = loss < baseline["loss"] / 2
        print("%s: held-out loss %.4f, predicting the mean %.4f: %s" %
              (name, loss, baseline["loss"], "beats it" if ok else "DOES NOT BEAT IT"))
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    elif sys.argv[1] == "errors":
        errors(sys.argv[2])
    else:
        sys.exit(check(*sys.argv[2:5]))
