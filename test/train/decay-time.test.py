# Reads the learning_rate column of a training log (decay-time.test).
import csv
import sys

with open(sys.argv[1]) as log:
    rates = [float(row["learning_rate"]) for row in csv.DictReader(log)]
falling = all(later <= earlier for earlier, later in zip(rates, rates[1:]))
# 0.001 + 0.009 * (1 + cos(0.8 pi)) / 2 = 0.00186: the last fifth of the decay is below 0.0028
# (cos(0.8 pi) = -0.81, plus margin for the last step's own duration).
if len(rates) > 1 and rates[0] > 0.0099 and rates[-1] < 0.0028 and falling:
    print("rates fall from 0.01 to below 0.0028 and never rise")
else:
    print("rates:", rates[:3], "...", rates[-3:], "falling" if falling else "not falling")
