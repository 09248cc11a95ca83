#!/usr/bin/python3
"""One of the peer's worker processes: Optuna 3.1's TPESampler (and its
MedianPruner with the default study's warm-up, fed every epoch as Optuna's PyTorch examples do) over
examples/fashion_mnist.yaml's search space and scales, trials trained by
torch_trial.py, the study shared with the other workers through a journal
file. Writes "<unix time> <trial> <epoch> <dev_accuracy>" to --hit and exits
as soon as a trial reaches --target."""
import argparse
import time

import optuna

import torch_trial


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--journal", required=True)
    p.add_argument("--hit", required=True)
    p.add_argument("--target", type=float, default=0.90)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--trials", type=int, default=60)
    p.add_argument("--train-limit", type=int, default=0)
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.JournalStorage(optuna.storages.JournalFileStorage(a.journal))
    study = optuna.create_study(study_name="fashion_mnist", storage=storage,
                                direction="maximize", load_if_exists=True,
                                sampler=optuna.samplers.TPESampler(seed=a.seed),
                                # caviar's default study: median rule from epoch 4 on,
                                # once 5 trials are in (Optuna's default n_startup_trials).
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5,
                                                                   n_warmup_steps=4))
    data = torch_trial.load(train_limit=a.train_limit)

    def objective(trial):
        params = {
            "learning_rate": trial.suggest_float("learning_rate", 1e-4, 0.1, log=True),
            "lr_decay": trial.suggest_float("lr_decay", 0.01, 1, log=True),
            # caviar's LOG1M scale: log of 1 - beta1, uniform over [0.9, 0.999].
            "beta1": 1 - trial.suggest_float("one_minus_beta1", 0.001, 0.1, log=True),
            "dropout": trial.suggest_float("dropout", 0.0, 0.6),
            "hidden_units": trial.suggest_int("hidden_units", 64, 1024, log=True),
            "layers": trial.suggest_int("layers", 1, 3),
            "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
        }

        def report(epoch, dev_accuracy):
            if dev_accuracy >= a.target:
                with open(a.hit, "a") as f:
                    f.write(f"{time.time():.3f} {trial.number} {epoch} {dev_accuracy:.4f}\n")
                raise SystemExit(0)
            trial.report(dev_accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
            return False

        return torch_trial.train(data, params, a.epochs, seed=trial.number + 1, report=report)

    study.optimize(objective, n_trials=a.trials)


if __name__ == "__main__":
    main()
