#!/usr/bin/env python3
"""Tunes a small PyTorch network through the caviar SDK.

The "training script" is an ordinary PyTorch loop (an MLP with batch norm on a
synthetic two-spirals problem, so nothing is downloaded); caviar samples its
learning rate, Adam beta1, width and batch size, the loop reports dev accuracy
every epoch, and the median pruner stops trials that fall behind.

    export CAVIAR_COORDINATOR=HOST:PORT     # a running caviar-coordinator
    python3 examples/python/tune_torch.py   # run it on as many machines as you like
    caviar best torch_spirals --top 5

--self-test starts its own coordinator (CAVIAR_COORDINATOR_BIN) on loopback,
runs a small study and checks it (the CTest python_tune_torch_example).
Exits 77 when torch is not installed (apt-get install python3-torch).
"""

import argparse
import math
import os
import sys

try:
    import torch
    from torch import nn
except ImportError:
    print("tune_torch: torch is not installed (apt-get install python3-torch)", file=sys.stderr)
    sys.exit(77)

import caviar

SPEC = {
    "name": "torch_spirals",
    "description": "PyTorch MLP on two spirals, tuned through the Python SDK",
    "objective": {"metric": "dev_accuracy", "goal": "MAXIMIZE"},
    "parameters": [
        {"name": "learning_rate", "double": {"min": 1e-4, "max": 1e-1}, "scale": "LOG"},
        {"name": "beta1", "double": {"min": 0.8, "max": 0.999}, "scale": "LOG1M"},
        {"name": "hidden_units", "integer": {"min": 16, "max": 128}},
        {"name": "batch_size", "discrete": {"values": [32, 64, 128]}},
    ],
    "algorithm": {"name": "random"},
    "pruner": {"name": "median", "options": {"min_trials": 3, "warmup_steps": 2}},
    "budget": {"max_trials": 20, "max_parallel_trials": 4},
    "trial_policy": {"lease_seconds": 30},
    "seed": 1,
    # No command or trainer: the trials run here ("external").
}


def spirals(n, seed):
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(n, generator=g) * 3 * math.pi + 0.5
    label = torch.randint(0, 2, (n,), generator=g)
    sign = label * 2 - 1
    x = torch.stack([t * torch.cos(t) * sign, t * torch.sin(t) * sign], dim=1) / 10
    return x + 0.02 * torch.randn(n, 2, generator=g), label


def objective(trial, epochs):
    """A plain PyTorch training loop; the caviar calls are the two marked."""
    p = trial.params
    torch.manual_seed(trial.seed % (2**31))
    x_train, y_train = spirals(2000, seed=0)
    x_dev, y_dev = spirals(500, seed=1)
    h = p["hidden_units"]
    model = nn.Sequential(nn.Linear(2, h), nn.BatchNorm1d(h), nn.ReLU(),
                          nn.Linear(h, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Linear(h, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=p["learning_rate"],
                                 betas=(p["beta1"], 0.999))
    batch = int(p["batch_size"])
    accuracy = 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x_train))
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_dev).argmax(1) == y_dev).float().mean().item()
        # caviar: report, stop when told (pruned), take nudged learning rates.
        if trial.report(epoch, dev_accuracy=accuracy, train_loss=loss.item()):
            break
        for group in optimizer.param_groups:
            group["lr"] = trial.params["learning_rate"]
    return accuracy  # caviar: run_worker tells it.


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--coordinator", default=os.environ.get("CAVIAR_COORDINATOR"))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--trials", type=int, default=None, help="stop after this many here")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.self_test:
        return self_test()
    if not args.coordinator:
        parser.error("--coordinator: give HOST:PORT (or set CAVIAR_COORDINATOR)")
    with caviar.Client(args.coordinator) as client:
        study = client.create_study(SPEC, load_if_exists=True)
        caviar.run_worker(study, lambda t: objective(t, args.epochs), n_trials=args.trials)
        for t in study.best(3):
            print(f"trial {t['id']}: dev_accuracy {t['value']:.4f} {t['params']}")
    return 0


def self_test():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "python"))
    from coordinator_fixture import Coordinator
    coordinator = Coordinator()
    try:
        with caviar.Client(coordinator.address) as client:
            spec = dict(SPEC, budget={"max_trials": 6, "max_parallel_trials": 2})
            study = client.create_study(spec)
            done = caviar.run_worker(study, lambda t: objective(t, 6))
            states = sorted(t["state"] for t in done)
            print("states:", states)
            best = study.best(1)[0]
            print(f"best: dev_accuracy {best['value']:.4f} {best['params']}")
            assert len(done) == 6 and study.info()["state"] == "STUDY_COMPLETED", done
            assert all(s in ("SUCCEEDED", "STOPPED") for s in states), states
            assert best["value"] > 0.6, best  # Spirals: chance is 0.5.
    finally:
        coordinator.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
