#!/usr/bin/env python3
"""Peer parity: rnnc against PyTorch on the same weights and data.

For each model PyTorch has a module for (elman: nn.RNN + nn.Linear + cross-entropy; lstm: nn.LSTM;
gru: nn.GRU; birnn: a bidirectional nn.RNN), this script lets rnnc write random parameters
(`rnnc init`) and a random batch with variable lengths (`rnnc data --lengths`), runs
`rnnc run --grad` in float32, loads the same tensors into PyTorch (float32), and checks the model
outputs, the loss and every gradient grad.<param>: the error of a tensor is
max |rnnc - torch| / max |torch|, and must be at most 1e-4.

Each example of the batch runs through PyTorch alone, cut to its own length, so variable lengths
need no packing; rnnc's per-step outputs past an example's length must be zeros.

Usage: torch_parity.py RNNC EXAMPLES_DIR WORK_DIR [MODEL...]
Exits 1 on any mismatch and when torch is missing (lit marks the test UNSUPPORTED then, through
the `torch` feature, so a missing torch is never a pass).
"""
import json
import os
import struct
import subprocess
import sys

try:
    import torch
except ImportError:
    print("torch_parity: python3-torch is not installed", file=sys.stderr)
    sys.exit(1)

TOLERANCE = 1e-4
BATCH, STEPS, SEED = 3, 5, 11

DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8), "I32": (torch.int32, 4)}


def read_safetensors(path):
    """The tensors of a safetensors file, by name (no dependency on the safetensors package)."""
    with open(path, "rb") as f:
        (header_size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_size))
        payload = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, width = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = (end - begin) // width
        flat = torch.frombuffer(bytearray(payload[begin:end]), dtype=dtype) if count else \
            torch.zeros(0, dtype=dtype)
        tensors[name] = flat.reshape(info["shape"]).clone()
    return tensors


# One builder per model: it creates the PyTorch modules, copies rnnc's parameters into them, and
# returns (run, mapping): run(x, y) takes one example cut to its length and returns (outputs by
# name, per-step ones [L, ...], loss); mapping names the torch parameter holding each rnnc one.

def build_elman(p):
    H, K = p["U"].shape
    rnn, linear = torch.nn.RNN(K, H, nonlinearity="tanh"), torch.nn.Linear(H, K)
    mapping = {"U": rnn.weight_ih_l0, "W": rnn.weight_hh_l0, "b": rnn.bias_ih_l0,
               "V": linear.weight, "c": linear.bias}
    load(mapping, p, zeroed=[rnn.bias_hh_l0])  # b = bias_ih + bias_hh
    return lambda x, y: rnn_with_linear(rnn, linear, onehot(x, K), y, ("h",)), mapping


def build_birnn(p):
    H, K = p["U"].shape
    M = p["V"].shape[0]
    rnn = torch.nn.RNN(K, H, nonlinearity="tanh", bidirectional=True)
    linear = torch.nn.Linear(2 * H, M)
    mapping = {"U": rnn.weight_ih_l0, "W": rnn.weight_hh_l0, "b": rnn.bias_ih_l0,
               "Ug": rnn.weight_ih_l0_reverse, "Wg": rnn.weight_hh_l0_reverse,
               "bg": rnn.bias_ih_l0_reverse, "V": linear.weight, "c": linear.bias}
    load(mapping, p, zeroed=[rnn.bias_hh_l0, rnn.bias_hh_l0_reverse])
    return lambda x, y: rnn_with_linear(rnn, linear, onehot(x, K), y, ("h", "g")), mapping


def build_gru(p):
    I, H = p["weight_ih_l0"].shape[1], p["weight_hh_l0"].shape[1]
    C = p["linear_weight"].shape[0]
    gru, linear = torch.nn.GRU(I, H), torch.nn.Linear(H, C)
    mapping = dict(named(gru), linear_weight=linear.weight, linear_bias=linear.bias)
    load(mapping, p)
    return lambda x, y: rnn_with_linear(gru, linear, x, y, ("h",)), mapping


def build_lstm(p):
    I, H = p["weight_ih_l0"].shape[1], p["weight_hh_l0"].shape[1]
    lstm, linear = torch.nn.LSTM(I, H), torch.nn.Linear(H, 1)
    mapping = dict(named(lstm), linear_weight=linear.weight, linear_bias=linear.bias)
    load(mapping, p)

    def run(x, y):
        hs, (h_n, _) = lstm(x.unsqueeze(1))
        # nn.LSTM returns only the last cell state; the per-step output c is recomputed from
        # PyTorch's gate equations, with nn.LSTM's own h.
        with torch.no_grad():
            cs, c = [], torch.zeros(H)
            for t in range(x.shape[0]):
                h_prev = hs[t - 1, 0] if t else torch.zeros(H)
                a = (lstm.weight_ih_l0 @ x[t] + lstm.bias_ih_l0 + lstm.weight_hh_l0 @ h_prev
                     + lstm.bias_hh_l0)
                i, f, g, o = a.split(H)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                cs.append(c)
        prediction = linear(h_n[0, 0])
        loss = ((prediction - y) ** 2).sum()
        return {"h": hs[:, 0], "c": torch.stack(cs), "p": prediction}, loss
    return run, mapping


def named(module):
    return {name: getattr(module, name)
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}


def load(mapping, p, zeroed=()):
    with torch.no_grad():
        for name, parameter in mapping.items():
            parameter.copy_(p[name].float())
        for parameter in zeroed:
            parameter.zero_()


def onehot(tokens, vocabulary):
    return torch.nn.functional.one_hot(tokens.long(), vocabulary).float()


def rnn_with_linear(rnn, linear, x, y, state_names):
    states = rnn(x.unsqueeze(1))[0][:, 0]
    logits = linear(states)
    loss = torch.nn.functional.cross_entropy(logits, y.long(), reduction="sum")
    H = states.shape[1] // len(state_names)
    outputs = {name: states[:, k * H:(k + 1) * H] for k, name in enumerate(state_names)}
    outputs["o"] = logits
    return outputs, loss


MODELS = {
    # model: (builder, -D overrides)
    "elman": (build_elman, ["K=7", "H=5"]),
    "birnn": (build_birnn, ["K=7", "M=4", "H=5"]),
    "gru": (build_gru, ["I=3", "C=4", "H=5"]),
    "lstm": (build_lstm, ["H=5"]),
}


def rnnc(binary, *args):
    subprocess.run([binary, *args], check=True)


def relative_error(mine, theirs):
    scale = theirs.abs().max().item() if theirs.numel() else 0.0
    difference = (mine - theirs).abs().max().item() if theirs.numel() else 0.0
    return difference / scale if scale > 0 else difference


def check_model(binary, examples, work, name):
    function, dims = MODELS[name]
    model = os.path.join(examples, name + ".rnn")
    defines = [arg for dim in dims for arg in ("-D", dim)]
    params_path = os.path.join(work, name + ".params.safetensors")
    inputs_path = os.path.join(work, name + ".inputs.safetensors")
    outputs_path = os.path.join(work, name + ".outputs.safetensors")
    rnnc(binary, "init", model, *defines, "--seed", str(SEED), "-o", params_path)
    rnnc(binary, "data", model, *defines, "--batch", str(BATCH), "--steps", str(STEPS),
         "--lengths", "--seed", str(SEED), "-o", inputs_path)
    rnnc(binary, "run", model, *defines, "--params", params_path, "--inputs", inputs_path,
         "-o", outputs_path, "--grad")
    params = read_safetensors(params_path)
    data = read_safetensors(inputs_path)
    mine = read_safetensors(outputs_path)

    run, mapping = function(params)
    lengths = data["lengths"].tolist()
    theirs, total = {}, 0.0
    for b, length in enumerate(lengths):
        x = data["x"][:length, b]
        y = data["y"][b] if name == "lstm" else data["y"][:length, b]  # lstm: static target
        outputs, loss = run(x.float() if x.is_floating_point() else x, y)
        total = total + loss
        for key, value in outputs.items():
            theirs.setdefault(key, []).append(value.detach())
    total.backward()

    failures = []

    def compare(label, mine_tensor, their_tensor):
        error = relative_error(mine_tensor.float(), their_tensor.float())
        print(f"  {name}: {label}: relative error {error:.2e}")
        if not error <= TOLERANCE:
            failures.append(f"{name}: {label}: relative error {error:.2e} > {TOLERANCE}")

    compare("loss", mine["loss"].reshape(()), total.detach())
    for key, per_example in theirs.items():
        for b, value in enumerate(per_example):
            if key == "p":  # static: [B, ...]
                compare(f"{key}[example {b}]", mine[key][b], value)
                continue
            length, sequence = lengths[b], mine[key][:, b]  # time-major [T, B, ...]
            compare(f"{key}[example {b}]", sequence[:length], value)
            if sequence[length:].numel() and sequence[length:].abs().max().item() != 0:
                failures.append(f"{name}: {key}[example {b}] is not zero past its length")
    for param, parameter in mapping.items():
        compare("grad." + param, mine["grad." + param], parameter.grad)
    return failures


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, examples, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    failures = []
    for name in sys.argv[4:] or MODELS:
        failures += check_model(binary, examples, work, name)
    for failure in failures:
        print("MISMATCH " + failure)
    print("torch parity: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
