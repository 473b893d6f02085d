"""Reads a CSV log of `rnnc train` and says whether the held-out loss of the last evaluation
(val_bpc for text, val_loss for a task) is below that of the first, and the mean training loss of
the last quarter of the steps below that of the first quarter."""
import csv
import sys

with open(sys.argv[1], newline="") as log:
    rows = list(csv.DictReader(log))
column = "val_bpc" if "val_bpc" in rows[0] else "val_loss"
evaluated = [float(row[column]) for row in rows if row[column]]
losses = [float(row["train_loss"]) for row in rows]
quarter = max(1, len(losses) // 4)
first, last = sum(losses[:quarter]) / quarter, sum(losses[-quarter:]) / quarter
print(column, "decreased" if evaluated[-1] < evaluated[0] else "did not decrease")
print("train_loss", "decreased" if last < first else "did not decrease")
