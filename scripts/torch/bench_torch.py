#!/usr/bin/python3
"""PyTorch's training throughput on the trainer benchmark's network:
784-256-256-10, Linear(no bias) -> BatchNorm1d -> ReLU, Adam, batch 128,
float32, the first 20,000 Fashion-MNIST training images (standardized).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/torch/bench_torch.py --threads 1

--dropout P adds torch.nn.Dropout(P) after each ReLU.

Prints one line like the C++ bench:
    torch threads=1 blas=openblas-pthread samples_per_s=... gflops=...
"""
import argparse
import os
import time

import torch

from idx import read_idx


def loaded_blas():
    """The BLAS libraries mapped into this process (to prove which one runs)."""
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in path or "mkl" in path:
                libs.add(path)
    return sorted(libs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--dropout", type=float, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)

    images = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"))[:20000]
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"))[:20000]
    x = torch.tensor(images.reshape(len(images), -1), dtype=torch.float32) / 255
    x = (x - x.mean(0)) / (x.std(0, unbiased=False) + 1e-6)
    y = torch.tensor(labels, dtype=torch.long)

    def dropout():
        return [torch.nn.Dropout(args.dropout)] if args.dropout > 0 else []

    net = torch.nn.Sequential(
        torch.nn.Linear(784, 256, bias=False), torch.nn.BatchNorm1d(256), torch.nn.ReLU(),
        *dropout(),
        torch.nn.Linear(256, 256, bias=False), torch.nn.BatchNorm1d(256), torch.nn.ReLU(),
        *dropout(),
        torch.nn.Linear(256, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        order = torch.randperm(len(x))
        for begin in range(0, len(x), args.batch):
            index = order[begin:begin + args.batch]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[index]), y[index])
            loss.backward()
            optimizer.step()

    net.train()
    epoch()  # Warm-up.
    best = 0.0
    start = time.perf_counter()
    cpu_start = time.process_time()
    samples = 0
    while time.perf_counter() - start < args.seconds:
        t = time.perf_counter()
        epoch()
        samples += len(x)
        best = max(best, len(x) / (time.perf_counter() - t))
    mean = samples / (time.perf_counter() - start)
    per_cpu = samples / (time.process_time() - cpu_start)
    flops = 2.0 * 2 * (784 * 256 + 256 * 256 + 256 * 10) + 2.0 * (256 * 256 + 256 * 10)
    blas = ",".join(os.path.basename(p) for p in loaded_blas()) or "none-mapped"
    print(f"torch threads={args.threads} dropout={args.dropout:g} batch={args.batch} "
          f"blas={blas} "
          f"samples_per_s={best:.0f} mean_samples_per_s={mean:.0f} "
          f"samples_per_cpu_s={per_cpu:.0f} "
          f"gflops={best * flops / 1e9:.1f}", flush=True)


if __name__ == "__main__":
    main()
