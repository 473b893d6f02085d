"""Compares two CSV logs of `rnnc train`: every step's training loss, gradient norm and held-out
loss must agree within a relative tolerance (float32 arithmetic in a different order), and the
runs must have the same steps. Prints the largest relative difference's verdict."""
import csv
import sys

def read(path):
    with open(path, newline="") as log:
        return list(csv.DictReader(log))

first, second = read(sys.argv[1]), read(sys.argv[2])
tolerance = float(sys.argv[3])
if [row["step"] for row in first] != [row["step"] for row in second]:
    sys.exit("the runs have different steps")
worst = 0.0
for a, b in zip(first, second):
    for column in ("train_loss", "grad_norm", "val_bpc", "val_loss"):
        if column in a and a[column]:
            x, y = float(a[column]), float(b[column])
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-30))
print(f"{len(first)} steps, curves", "agree" if worst <= tolerance else f"differ by {worst:.3g}")
