"""Decodes a PNG plot of `rnnc train --plot` with nothing but Python's zlib and checks it
against the CSV log of the same run: the signature, the IHDR (800x480, 8-bit palette), every
chunk's CRC, the zlib stream (inflated by zlib itself: checksum and length), the row filters, and
then the pixels: the background is white, the plot frame black, and every point of the training
curve (recomputed from the CSV the way TrainingPlot.cpp lays it out) lies on a curve pixel.

usage: check_png.py PLOT.png LOG.csv"""
import csv
import math
import struct
import sys
import zlib

png = open(sys.argv[1], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "bad signature"
chunks, at = [], 8
while at < len(png):
    (length,) = struct.unpack(">I", png[at:at + 4])
    kind, data = png[at + 4:at + 8], png[at + 8:at + 8 + length]
    (crc,) = struct.unpack(">I", png[at + 8 + length:at + 12 + length])
    assert crc == zlib.crc32(kind + data), f"bad CRC in {kind}"
    chunks.append((kind, data))
    at += 12 + length
kinds = [kind for kind, _ in chunks]
assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND", kinds
width, height, depth, color, compression, filtering, interlace = struct.unpack(
    ">IIBBBBB", chunks[0][1])
assert (depth, color, compression, filtering, interlace) == (8, 3, 0, 0, 0)
palette = dict(chunks)[b"PLTE"]
colors = [tuple(palette[i:i + 3]) for i in range(0, len(palette), 3)]
raw = zlib.decompress(b"".join(data for kind, data in chunks if kind == b"IDAT"))
assert len(raw) == height * (width + 1), "wrong amount of pixel data"
rows = [raw[y * (width + 1):(y + 1) * (width + 1)] for y in range(height)]
assert all(row[0] == 0 for row in rows), "unexpected row filter"
pixel = lambda x, y: colors[rows[y][1 + x]]
WHITE, BLACK, BLUE, ORANGE = (255, 255, 255), (0, 0, 0), (31, 119, 180), (255, 127, 14)

with open(sys.argv[2], newline="") as log:
    records = list(csv.DictReader(log))
task = "val_loss" in records[0]
validation = "val_loss" if task else "val_bpc"
scale = 1 if task else 1 / math.log(2)
window = max(1, len(records) // 50)
train, total = [], 0.0
for i, row in enumerate(records):
    total += float(row["train_loss"])
    if i >= window:
        total -= float(records[i - window]["train_loss"])
    train.append((int(row["step"]), total / min(i + 1, window) * scale))
values = [loss for _, loss in train] + [float(r[validation]) for r in records if r[validation]]
low, high = min(values), max(values)
pad = max(0.05 * (high - low), 0.005 if task else 0.05)
low, high = max(0.0, low - pad), high + pad
first, last = train[0][0], max(train[-1][0], train[0][0] + 1)
left, right, top, bottom = 70, 730 if task else 780, 40, 430  # a task's metric axis at the right
on_curve = 0
for step, loss in train:
    x = left + (step - first) / (last - first) * (right - left)
    y = top + (high - loss) / (high - low) * (bottom - top)
    assert pixel(round(x), round(y)) in (BLUE, ORANGE), f"no curve at step {step} ({x:.1f}, {y:.1f})"
    on_curve += pixel(round(x), round(y)) == BLUE
assert pixel(5, 5) == WHITE and pixel(left, (top + bottom) // 2) in (BLACK, BLUE, ORANGE)
assert pixel((left + right) // 2, bottom) in (BLACK, BLUE, ORANGE)
print(f"{width}x{height} palette PNG, {len(train)} curve points on the curve "
      f"({on_curve} blue), frame and background as drawn")
