#!/usr/bin/python3
"""PyTorch's side of the Fashion-MNIST accuracy comparison, with the split and
settings of bench/trainer/fashion_accuracy.cc: first 55,000 training images
train, last 5,000 dev, 10,000 test; inputs standardized with the training
mean and variance; 784-256-256-10, Linear(no bias) -> BatchNorm1d(momentum
0.1 = caviar's 0.9 of the past) -> ReLU, He-normal weights, Adam(lr 1e-3,
0.9, 0.999, 1e-8), batch 128 reshuffled each epoch.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/torch/fashion_accuracy.py --epochs 10 --seed 1
"""
import argparse
import os
import time

import torch

from idx import read_idx


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--learning_rate", type=float, default=1e-3)
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    def load(kind):
        x = read_idx(os.path.join(a.data, f"{kind}-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(a.data, f"{kind}-labels-idx1-ubyte.gz"))
        return (torch.tensor(x.reshape(len(x), -1), dtype=torch.float64) / 255,
                torch.tensor(y, dtype=torch.long))

    x_all, y_all = load("train")
    x_test, y_test = load("t10k")
    x_train, y_train = x_all[:55000], y_all[:55000]
    x_dev, y_dev = x_all[55000:], y_all[55000:]
    mean = x_train.mean(0)
    std = x_train.std(0, unbiased=False)
    inv = torch.where(std > 1e-6, 1 / std, torch.zeros_like(std))
    standardize = lambda x: ((x - mean) * inv).float()
    x_train, x_dev, x_test = standardize(x_train), standardize(x_dev), standardize(x_test)

    net = torch.nn.Sequential(
        torch.nn.Linear(784, 256, bias=False), torch.nn.BatchNorm1d(256, momentum=0.1),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 256, bias=False), torch.nn.BatchNorm1d(256, momentum=0.1),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 10))
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(net.parameters(), lr=a.learning_rate, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = torch.nn.CrossEntropyLoss()

    def evaluate(x, y):
        net.eval()
        with torch.no_grad():
            logits = net(x)
            loss = loss_fn(logits, y).item()
            acc = (logits.argmax(1) == y).float().mean().item()
        net.train()
        return loss, acc

    steps = 0
    for epoch in range(1, a.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(x_train))
        loss_sum, correct, batches = 0.0, 0, 0
        for begin in range(0, len(x_train), a.batch_size):
            idx = order[begin:begin + a.batch_size]
            opt.zero_grad(set_to_none=True)
            logits = net(x_train[idx])
            loss = loss_fn(logits, y_train[idx])
            loss.backward()
            opt.step()
            steps += 1
            loss_sum += loss.item()
            correct += (logits.argmax(1) == y_train[idx]).sum().item()
            batches += 1
        dev_loss, dev_acc = evaluate(x_dev, y_dev)
        test_loss, test_acc = evaluate(x_test, y_test)
        print(f"epoch={epoch} steps={steps} train_loss={loss_sum / batches:.5f} "
              f"train_accuracy={correct / len(x_train):.4f} dev_loss={dev_loss:.5f} "
              f"dev_accuracy={dev_acc:.4f} test_loss={test_loss:.5f} "
              f"test_accuracy={test_acc:.4f} seconds={time.perf_counter() - start:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
