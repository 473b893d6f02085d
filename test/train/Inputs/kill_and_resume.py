"""Crash-safe training: kills `rnnc train` with SIGKILL again and again, and checks that what it
leaves on disk is always a whole checkpoint from which the run continues exactly.

usage: kill_and_resume.py DIR KILLS SEED RNNC TRAIN-ARGUMENTS...

1. A reference run trains TRAIN-ARGUMENTS (which must save often: --eval-every 1) to the end,
   with --save DIR/reference.safetensors --log DIR/reference.csv.
2. KILLS times, a run with --save DIR/ckpt.safetensors --log DIR/part.csv (and --resume from the
   checkpoint once there is one) is killed with SIGKILL. A third of the kills come at a random
   moment within 0.1 s of the start (mostly while it loads); the others once the run has begun
   its n-th file write (n random in 1..20; the checkpoint and the CSV log are each written
   atomically through a temporary file, whose name counts the writes of the process): half of
   them as soon as a checkpoint write is then under way, half after a random 0-20 ms more. So a
   run never gets far, whatever the speed of the machine. A kill "landed during a checkpoint write" when a temporary checkpoint
   file of the process is still there after it died. After every kill the checkpoint, if any,
   must load (`rnnc dump`), its step must not go back, and the deterministic columns of the CSV
   log (step, train_loss, val_bpc, learning_rate, grad_norm) must be the reference's first lines.
3. A last run resumes to the end; its log must equal the reference's, and its final parameters
   and optimiser state the reference's.
The moments come from SEED, so a failing sequence of kills can be replayed (timing aside).
Prints a summary; fails (exit 1) on any mismatch, or when no kill landed during a write."""
import os
import random
import re
import signal
import subprocess
import sys
import time

directory, kills, seed, rnnc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
train = [rnnc, "train"] + sys.argv[5:]
rng = random.Random(seed)
checkpoint = os.path.join(directory, "ckpt.safetensors")
part_log = os.path.join(directory, "part.csv")


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def curve(path):
    """The deterministic columns of a CSV log, one tuple per line (the header included)."""
    with open(path) as log:
        return [tuple(line.rstrip("\n").split(",")[:5]) for line in log]


def dump(path):
    """`rnnc dump --values` of a checkpoint without its history (which holds timings)."""
    result = subprocess.run([rnnc, "dump", "--values", path], capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"the checkpoint {path} does not load: {result.stderr.strip()}")
    return [line for line in result.stdout.splitlines() if "train.history" not in line]


def temporary_files(pid):
    """The temporary files of process `pid` (runtime/AtomicFile.h: .<name>.tmp<pid>-<count>)."""
    found = re.compile(r"\.(.+)\.tmp" + str(pid) + r"-(\d+)")
    return [(m.group(1), int(m.group(2))) for name in os.listdir(directory)
            if (m := found.fullmatch(name))]


def writes_begun(pid):
    """How many files process `pid` has begun to write, as far as can be seen now."""
    return max((count + 1 for _, count in temporary_files(pid)), default=0)


def checkpoint_writing(pid):
    return any(name == "ckpt.safetensors" for name, _ in temporary_files(pid))


subprocess.run(train + ["--save", os.path.join(directory, "reference.safetensors"), "--log",
                        os.path.join(directory, "reference.csv")],
               stdout=subprocess.DEVNULL, check=True)
reference = curve(os.path.join(directory, "reference.csv"))

during_write = 0
last_step = 0
for kill in range(kills):
    resume = ["--resume", checkpoint] if os.path.exists(checkpoint) else []
    process = subprocess.Popen(train + ["--save", checkpoint, "--log", part_log] + resume,
                               stdout=subprocess.DEVNULL)
    if kill % 3 == 0:
        time.sleep(rng.uniform(0, 0.1))
    else:
        writes = rng.randint(1, 20)
        while writes_begun(process.pid) < writes and process.poll() is None:
            time.sleep(0.0002)
        if kill % 3 == 1:
            while not checkpoint_writing(process.pid) and process.poll() is None:
                time.sleep(0.0002)
        else:
            time.sleep(rng.uniform(0, 0.02))
    if process.poll() is not None:
        fail(f"kill {kill + 1}: the run ended (status {process.returncode}) before it was "
             "killed: give it more steps")
    process.send_signal(signal.SIGKILL)
    process.wait()
    if checkpoint_writing(process.pid):
        during_write += 1
    if not os.path.exists(checkpoint):
        continue
    step = next((int(m.group(1)) for line in dump(checkpoint)
                 if (m := re.fullmatch(r"metadata step = (\d+)", line))), None)
    if step is None or step < last_step:
        fail(f"kill {kill + 1}: the checkpoint is at step {step}, the one before at {last_step}")
    last_step = step
    if os.path.exists(part_log):
        partial = curve(part_log)
        if partial != reference[:len(partial)]:
            fail(f"kill {kill + 1}: the log of the resumed runs differs from the reference")

subprocess.run(train + ["--save", checkpoint, "--log", os.path.join(directory, "final.csv")] +
               (["--resume", checkpoint] if os.path.exists(checkpoint) else []),
               stdout=subprocess.DEVNULL, check=True)
if curve(os.path.join(directory, "final.csv")) != reference:
    fail("the loss curve of the killed and resumed run differs from the reference")
if dump(checkpoint) != dump(os.path.join(directory, "reference.safetensors")):
    fail("the final parameters or optimiser state differ from the reference")
print(f"{kills} kills, the last checkpoint at step {last_step}, {during_write} during a "
      "checkpoint write", file=sys.stderr)
if during_write == 0:
    fail("no kill landed during a checkpoint write")
print(f"{kills} kills: every checkpoint loaded; the resumed run matches the reference")
