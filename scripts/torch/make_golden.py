#!/usr/bin/python3
"""Writes tests/trainer/testdata/golden_bn_mlp.txt: a tiny batch-normalized MLP
(4 -> 5 -> 3 hidden, BN + ReLU, softmax over 3 classes) with fixed weights and
one fixed batch, computed by PyTorch in float64: the loss, every gradient, the
input gradient, and three Adam steps (loss, parameters and batch-norm running
averages after each).

And golden_bn_mlp_dropout.txt: the same network and batch with inverted
dropout (rate 0.4) after each hidden activation. Each step's masks (0 or
1 / 0.6, drawn by torch) are written too, since the C++ test must apply the
same ones.

The C++ test (tests/trainer/golden_test.cc) loads the same weights into the
trainer's Network and compares. Run with Debian's torch:
    /usr/bin/python3 scripts/torch/make_golden.py
"""
import os
import sys

import torch

torch.set_default_dtype(torch.float64)

INPUTS, HIDDEN, CLASSES, BATCH = 4, [5, 3], 3, 6
LR, BETAS, EPS, STEPS = 0.01, (0.9, 0.999), 1e-8, 3
BN_MOMENTUM = 0.1  # PyTorch's weight of the new batch (caviar: 0.9 of the past).


class FixedMask(torch.nn.Module):
    """Inverted dropout with a mask set from outside (so it can be written)."""

    def __init__(self):
        super().__init__()
        self.mask = None

    def forward(self, h):
        return h if self.mask is None else h * self.mask


def fixture(dropout):
    """The fixture's lines; the same weights and batch for every dropout."""
    torch.manual_seed(20240601)
    layers = []
    fan_in = INPUTS
    for units in HIDDEN:
        layers += [torch.nn.Linear(fan_in, units, bias=False),
                   torch.nn.BatchNorm1d(units, eps=1e-5, momentum=BN_MOMENTUM),
                   torch.nn.ReLU(), FixedMask()]
        fan_in = units
    layers.append(torch.nn.Linear(fan_in, CLASSES))
    net = torch.nn.Sequential(*layers)
    masks = [m for m in net if isinstance(m, FixedMask)]
    with torch.no_grad():
        for m in net:
            if isinstance(m, torch.nn.BatchNorm1d):
                m.weight.uniform_(0.5, 1.5)  # gamma
                m.bias.uniform_(-0.5, 0.5)   # beta
            if isinstance(m, torch.nn.Linear) and m.bias is not None:
                m.bias.uniform_(-0.2, 0.2)

    x = (torch.randn(BATCH, INPUTS) * 2 + 0.5).requires_grad_(True)
    y = torch.tensor([0, 2, 1, 1, 0, 2])

    out = []

    def emit(name, tensor):
        """One line: name rows cols values..., matrices as features x examples
        (PyTorch's Linear weight is already out x in = caviar's W)."""
        t = tensor.detach()
        if t.dim() == 1:
            t = t.reshape(-1, 1)
        rows, cols = t.shape
        values = " ".join(repr(float(v)) for v in t.t().reshape(-1))  # column-major
        out.append(f"{name} {rows} {cols} {values}")

    def params():
        """(caviar name, tensor) in caviar's order: per hidden layer W, gamma,
        beta; then the output W and b."""
        named = []
        hidden = 0
        for m in net:
            if isinstance(m, torch.nn.Linear):
                if m.bias is None:
                    named.append((f"W{hidden}", m.weight))
                else:
                    named += [(f"W{hidden}", m.weight), (f"b{hidden}", m.bias)]
            if isinstance(m, torch.nn.BatchNorm1d):
                named += [(f"gamma{hidden}", m.weight), (f"beta{hidden}", m.bias)]
                hidden += 1
        return named

    def running():
        bns = [m for m in net if isinstance(m, torch.nn.BatchNorm1d)]
        return [(f"running_mean{i}", m.running_mean) for i, m in enumerate(bns)] + \
               [(f"running_var{i}", m.running_var) for i, m in enumerate(bns)]

    emit("x", x.t())
    out.append("labels 1 %d %s" % (BATCH, " ".join(str(int(v)) for v in y)))
    for name, p in params():
        emit(name, p)

    optimizer = torch.optim.Adam(net.parameters(), lr=LR, betas=BETAS, eps=EPS)
    net.train()
    for step in range(1, STEPS + 1):
        optimizer.zero_grad()
        if x.grad is not None:
            x.grad = None
        if dropout > 0:
            for i, (m, units) in enumerate(zip(masks, HIDDEN)):
                keep = 1 - dropout
                m.mask = torch.bernoulli(torch.full((BATCH, units), keep)) / keep
                emit(f"step{step}.mask{i}", m.mask.t())
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        emit(f"step{step}.loss", loss.reshape(1))
        if step == 1:
            for name, p in params():
                emit(f"grad.{name}", p.grad)
            emit("grad.x", x.grad.t())
        optimizer.step()
        for name, p in params():
            emit(f"step{step}.{name}", p)
        for name, r in running():
            emit(f"step{step}.{name}", r)
    return out


testdata = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                        "trainer", "testdata")
for file_name, dropout in (("golden_bn_mlp.txt", 0.0), ("golden_bn_mlp_dropout.txt", 0.4)):
    path = os.path.normpath(os.path.join(testdata, file_name))
    with open(path, "w") as f:
        f.write(f"# Written by scripts/torch/make_golden.py with torch {torch.__version__}\n")
        f.write("\n".join(fixture(dropout)) + "\n")
    print("wrote", path, file=sys.stderr)
