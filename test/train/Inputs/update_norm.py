"""Prints the L2 norm of the difference between the parameters of two safetensors files (the
tensors whose names have no dot, F32), and with a CSV log of `rnnc train`, the grad_norm of its
first step. Reads safetensors with the standard library only."""
import csv
import json
import math
import struct
import sys


def parameters(path):
    with open(path, "rb") as file:
        (size,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(size))
        data = file.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or "." in name:
            continue
        assert info["dtype"] == "F32", name
        begin, end = info["data_offsets"]
        tensors[name] = struct.unpack("<%df" % ((end - begin) // 4), data[begin:end])
    return tensors


before, after = parameters(sys.argv[1]), parameters(sys.argv[2])
assert before.keys() == after.keys()
squares = sum((a - b) ** 2 for name in before for a, b in zip(after[name], before[name]))
print("update norm %.4f" % math.sqrt(squares))
if len(sys.argv) > 3:
    with open(sys.argv[3], newline="") as log:
        print("grad_norm %.4f" % float(next(csv.DictReader(log))["grad_norm"]))
