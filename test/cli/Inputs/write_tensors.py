"""Writes a safetensors file of given values, for tests that need exact inputs or parameters.

usage: write_tensors.py OUT NAME:DTYPE:SHAPE:VALUES...
  DTYPE  F32, F64 or I32;  SHAPE  dims joined by 'x' ("4x3x2"; "" for a scalar);
  VALUES comma-separated, row-major, as many as the shape holds ("inf" and "nan" allowed)."""
import json
import math
import struct
import sys

formats = {"F32": "f", "F64": "d", "I32": "i"}
header, data = {}, b""
for argument in sys.argv[2:]:
    name, dtype, shape_text, values_text = argument.split(":")
    shape = [int(d) for d in shape_text.split("x")] if shape_text else []
    values = [float(v) if dtype != "I32" else int(v) for v in values_text.split(",")]
    if len(values) != math.prod(shape):
        sys.exit(f"{name}: {len(values)} values for shape {shape}")
    packed = struct.pack("<" + formats[dtype] * len(values), *values)
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(packed)]}
    data += packed
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<Q", len(text)) + text + data)
