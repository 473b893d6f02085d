"""Writes an rnnc parameter file of lstm.rnn or gru.rnn as PyTorch's state_dict would name it
(`lstm.weight_ih_l0`, `linear.weight`), in F32, F16 or BF16, and, for the half types, the rnnc
file holding exactly the values the half-precision file holds (the reference a run compares with).

usage: as_pytorch.py IN.safetensors F32|F16|BF16 OUT.safetensors [ROUNDED.safetensors]"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "cli", "Inputs"))
import safetensors_tool  # noqa: E402


def pytorch_name(name):
    return "linear." + name[len("linear_"):] if name.startswith("linear_") else "lstm." + name


def halves(values, dtype):
    """The 2-byte encodings of `values` and the floats they hold."""
    if dtype == "F16":
        data = struct.pack("<%de" % len(values), *values)
        return data, list(struct.unpack("<%de" % len(values), data))
    bits = [struct.unpack("<I", struct.pack("<f", v))[0] >> 16 for v in values]  # truncate
    rounded = [struct.unpack("<f", struct.pack("<I", b << 16))[0] for b in bits]
    return struct.pack("<%dH" % len(bits), *bits), rounded


def main():
    source, dtype, out, *rounded_path = sys.argv[1:]
    tensors, metadata = safetensors_tool.read(source)
    renamed, rounded = {}, {}
    for name, (stored, shape, data) in tensors.items():
        assert stored == "F32", name
        values = list(struct.unpack("<%df" % (len(data) // 4), data))
        if dtype == "F32":
            renamed[pytorch_name(name)] = ("F32", shape, data)
            continue
        half, held = halves(values, dtype)
        renamed[pytorch_name(name)] = (dtype, shape, half)
        rounded[name] = ("F32", shape, struct.pack("<%df" % len(held), *held))
    safetensors_tool.write(out, renamed)
    if rounded_path:
        safetensors_tool.write(rounded_path[0], rounded, metadata)


main()
