"""Runs a command (the arguments), sends it SIGINT once its output shows that `rnnc train` has
finished step 2, and prints the rest of its output and its exit status: the way a person
stops training with Ctrl-C."""
import signal
import subprocess
import sys

process = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
for line in process.stdout:
    if line.startswith("step 2/"):
        process.send_signal(signal.SIGINT)
        break
rest, _ = process.communicate(timeout=60)
print(rest, end="")
print("exit status", process.returncode)
