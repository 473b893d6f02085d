"""Sets one element of an F32 or F64 tensor of a safetensors file in place, the rest of the file (its
metadata included) unchanged: a checkpoint or parameter file with a chosen bad value.

usage: set_element.py FILE TENSOR FLAT-INDEX VALUE      (VALUE may be inf or nan)"""
import json
import struct
import sys

path, name, index, value = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
contents = bytearray(open(path, "rb").read())
header_length = struct.unpack("<Q", contents[:8])[0]
entry = json.loads(contents[8:8 + header_length])[name]
format = {"F32": "<f", "F64": "<d"}[entry["dtype"]]
size = struct.calcsize(format)
offset = 8 + header_length + entry["data_offsets"][0] + size * index
contents[offset:offset + size] = struct.pack(format, value)
open(path, "wb").write(contents)
