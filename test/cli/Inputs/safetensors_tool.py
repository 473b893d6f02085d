"""Reads and writes safetensors files with the standard library only (the tests must not need
the `safetensors` package): `drop IN OUT NAME...` copies IN without the named tensors."""
import json
import struct
import sys


def read(path):
    """{name: (dtype, shape, bytes)} and the metadata of the file at `path`."""
    with open(path, "rb") as file:
        blob = file.read()
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + size])
    metadata = header.pop("__metadata__", {})
    data = blob[8 + size:]
    return {name: (entry["dtype"], entry["shape"],
                   data[entry["data_offsets"][0]:entry["data_offsets"][1]])
            for name, entry in header.items()}, metadata


def write(path, tensors, metadata=None):
    """Writes {name: (dtype, shape, bytes)} to `path`."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    command, source, destination, *names = sys.argv[1:]
    assert command == "drop", "usage: safetensors_tool.py drop IN OUT NAME..."
    tensors, metadata = read(source)
    for name in names:
        del tensors[name]
    write(destination, tensors, metadata)
