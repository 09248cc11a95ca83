"""One trial of the PyTorch peer: caviar's built-in trainer rebuilt in
PyTorch for examples/fashion_mnist.yaml's network family. Same data as
caviar's trial (caviar_split.py: its dev split; inputs in [0, 1]
standardized with the training mean and variance), same network
(`layers` x Linear(no bias) -> BatchNorm1d -> ReLU of `hidden_units`, then
Linear to 10; He-normal weights; BN momentum 0.1 = caviar's 0.9 of the past),
same optimizer (Adam, the trial's learning rate and beta1, beta2 0.999,
epsilon 1e-8; L2 added to the gradients of the weight matrices only, as
caviar's `l2`, which is what Adam's weight_decay does to a parameter group;
the learning rate divided by 1 + lr_decay * epoch, caviar's `inverse`
schedule), the trial's batch size, reshuffled each epoch, one thread."""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts", "torch"))
from idx import read_idx  # noqa: E402  (the PyTorch reference scripts' IDX reader)

from caviar_split import train_dev_indices  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def load(dev_size=5000, split_seed=1, train_limit=0):
    """(x_train, y_train, x_dev, y_dev) as caviar's trainer sees them."""
    x = read_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz"))
    x = torch.tensor(x.reshape(len(x), -1), dtype=torch.float64) / 255
    y = torch.tensor(y, dtype=torch.long)
    train, dev = train_dev_indices(len(x), dev_size, split_seed)
    if train_limit:
        train = train[:train_limit]
    x_train, y_train, x_dev, y_dev = x[train], y[train], x[dev], y[dev]
    mean = x_train.mean(0)
    std = x_train.std(0, unbiased=False)
    inv = torch.where(std > 1e-6, 1 / std, torch.zeros_like(std))
    standardize = lambda t: ((t - mean) * inv).float()
    return standardize(x_train), y_train, standardize(x_dev), y_dev


def train(data, params, epochs, seed, report):
    """Trains; calls report(epoch, dev_accuracy) after each epoch and stops
    when it returns True."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    x_train, y_train, x_dev, y_dev = data
    width, modules, inputs = params["hidden_units"], [], x_train.shape[1]
    for _ in range(params["layers"]):
        modules += [torch.nn.Linear(inputs, width, bias=False),
                    torch.nn.BatchNorm1d(width, momentum=0.1), torch.nn.ReLU()]
        if params.get("dropout", 0) > 0:  # caviar's inverted dropout, every hidden layer
            modules.append(torch.nn.Dropout(params["dropout"]))
        inputs = width
    modules.append(torch.nn.Linear(inputs, 10))
    net = torch.nn.Sequential(*modules)
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
    weights = [m.weight for m in net if isinstance(m, torch.nn.Linear)]
    others = [p for p in net.parameters() if all(p is not w for w in weights)]
    opt = torch.optim.Adam([{"params": weights, "weight_decay": params.get("l2", 0.0)},
                            {"params": others, "weight_decay": 0.0}],
                           lr=params["learning_rate"], betas=(params["beta1"], 0.999), eps=1e-8)
    decay = params.get("lr_decay", 0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (1 + decay * epoch))
    loss_fn = torch.nn.CrossEntropyLoss()
    batch = params["batch_size"]
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(x_train))
        for begin in range(0, len(x_train), batch):
            idx = order[begin:begin + batch]
            if len(idx) < 2:
                continue  # BatchNorm1d cannot train on a single example.
            opt.zero_grad(set_to_none=True)
            loss_fn(net(x_train[idx]), y_train[idx]).backward()
            opt.step()
        schedule.step()
        net.eval()
        with torch.no_grad():
            dev_accuracy = (net(x_dev).argmax(1) == y_dev).float().mean().item()
        net.train()
        if report(epoch, dev_accuracy):
            return dev_accuracy
    return dev_accuracy
