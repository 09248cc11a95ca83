#!/usr/bin/python3
"""A PyTorch training command for caviar, with panda mode: an MLP on
Fashion-MNIST (Debian's dataset-fashion-mnist) that

- takes its hyperparameters from CAVIAR_PARAM_<NAME> (learning_rate,
  momentum, weight_decay, dropout; defaults below for any not searched),
- reports one metrics line per epoch: `caviar: step=N dev_accuracy=... loss=...`,
- reads nudges from CAVIAR_NUDGE_FILE at start and on SIGUSR1, applies them
  before its next epoch (the optimizer's learning rate, momentum and weight
  decay, the dropout probability) and acknowledges each: `caviar: nudge-ack N`,
- saves a checkpoint after every epoch as a new file state-N.pt in
  CAVIAR_CHECKPOINT_DIR (model, optimizer, settings, random state) and
  prints `caviar: checkpoint step=N`,
- resumes from state-N.pt when started with CAVIAR_RESUME_STEP=N, going on
  with epoch N + 1 exactly where it stopped.

Run by caviar-worker (examples/pytorch/fashion_mnist_torch.yaml):

  command: {argv: [/usr/bin/python3, examples/pytorch/train.py, --epochs, "8"]}

Needs python3-torch and python3-numpy (and, for speed, libopenblas0-pthread);
caviar itself does not.
"""
import argparse
import json
import os
import signal
import sys
import time

import numpy as np
import torch
from torch import nn

# The repository's IDX reader (scripts/torch/idx.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts", "torch"))
from idx import read_idx  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
SETTINGS = {"learning_rate": 0.05, "momentum": 0.9, "weight_decay": 0.0, "dropout": 0.0}


def load(train_limit, dev_size):
    """The first `train_limit` of the training images after the last
    `dev_size` ones, which are the dev set (a fixed split)."""
    images = read_idx(f"{DATA}/train-images-idx3-ubyte.gz").reshape(-1, 784)
    labels = read_idx(f"{DATA}/train-labels-idx1-ubyte.gz")
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))
    dev = (x[-dev_size:], y[-dev_size:])
    train = (x[:train_limit], y[:train_limit])
    return train, dev


class Mlp(nn.Module):
    def __init__(self, hidden, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.net = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), self.dropout,
                                 nn.Linear(hidden, 10))

    def forward(self, x):
        return self.net(x)


def apply_settings(settings, model, optimizer):
    for group in optimizer.param_groups:
        group["lr"] = settings["learning_rate"]
        group["momentum"] = settings["momentum"]
        group["weight_decay"] = settings["weight_decay"]
    model.dropout.p = settings["dropout"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--train-limit", type=int, default=10000)
    parser.add_argument("--dev-size", type=int, default=5000)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epoch-delay", type=float, default=0.0,
                        help="seconds to sleep after each epoch (tests)")
    args = parser.parse_args()

    torch.set_num_threads(1)
    nudge_file = os.environ.get("CAVIAR_NUDGE_FILE")
    checkpoint_dir = os.environ.get("CAVIAR_CHECKPOINT_DIR")
    signalled = [True]  # Read the nudge file once at start.
    if nudge_file:
        signal.signal(signal.SIGUSR1, lambda *_: signalled.append(True))

    settings = dict(SETTINGS)
    for name in settings:
        value = os.environ.get(f"CAVIAR_PARAM_{name.upper()}")
        if value is not None:
            settings[name] = float(value)
    seed = int(os.environ.get("CAVIAR_SEED", "1")) % (2 ** 63)
    torch.manual_seed(seed)

    (train_x, train_y), (dev_x, dev_y) = load(args.train_limit, args.dev_size)
    model = Mlp(args.hidden, settings["dropout"])
    optimizer = torch.optim.SGD(model.parameters(), lr=settings["learning_rate"],
                                momentum=settings["momentum"],
                                weight_decay=settings["weight_decay"])
    applied = []
    epoch = 0
    resume = int(os.environ.get("CAVIAR_RESUME_STEP", "0"))
    if resume:
        state = torch.load(os.path.join(checkpoint_dir, f"state-{resume}.pt"))
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        settings, applied, epoch = state["settings"], state["applied"], state["epoch"]
        torch.set_rng_state(state["rng"])
    apply_settings(settings, model, optimizer)

    def read_nudges():
        with open(nudge_file) as f:
            doc = json.load(f)
        for nudge in doc.get("nudges", []):
            if nudge["id"] in applied:
                continue
            for name, value in nudge.get("parameters", {}).items():
                if name in settings:
                    settings[name] = float(value)
            applied.append(nudge["id"])
            apply_settings(settings, model, optimizer)
            print(f"caviar: nudge-ack {nudge['id']}", flush=True)

    loss_fn = nn.CrossEntropyLoss()
    while epoch < args.epochs:
        if nudge_file and signalled:
            signalled.clear()
            read_nudges()
        epoch += 1
        model.train()
        order = torch.randperm(len(train_x))
        total = 0.0
        for start in range(0, len(order), args.batch_size):
            batch = order[start:start + args.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(train_x[batch]), train_y[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        model.eval()
        with torch.no_grad():
            accuracy = (model(dev_x).argmax(1) == dev_y).float().mean().item()
        print(f"caviar: step={epoch} dev_accuracy={accuracy:.6f} loss={total / len(order):.6f} "
              f"learning_rate={settings['learning_rate']:.6g} dropout={settings['dropout']:.6g}",
              flush=True)
        if checkpoint_dir:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "settings": settings, "applied": applied, "epoch": epoch,
                        "rng": torch.get_rng_state()},
                       os.path.join(checkpoint_dir, f"state-{epoch}.pt"))
            print(f"caviar: checkpoint step={epoch}", flush=True)
        if args.epoch_delay:
            time.sleep(args.epoch_delay)
    return 0


if __name__ == "__main__":
    sys.exit(main())
