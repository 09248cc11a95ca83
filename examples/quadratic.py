#!/usr/bin/env python3
"""caviar's bundled example objective: a stand-in for a training run.

Runs a few quick "epochs" and prints one metrics line per step on standard
output, in the format caviar workers read:

    caviar: step=3 dev_accuracy=0.912 loss=0.31

The final dev accuracy is a smooth function of the hyperparameters in their
natural scales (a quadratic bowl in log10(learning_rate), log10(1 - beta1) and
hidden_units, plus a bonus per optimizer), with a little noise, so a study
over it behaves like a small real tuning job: learning_rate matters most,
beta1 a little, hidden_units hardly. Best near learning_rate = 3e-3,
beta1 = 0.99, hidden_units = 80, optimizer = adam.

Standard library only: it runs under any python3.
"""
import argparse
import math
import os
import random
import sys
import time

OPTIMIZER_BONUS = {"adam": 0.0, "rmsprop": -0.015, "momentum": -0.03, "sgd": -0.06}


def final_accuracy(learning_rate, beta1, hidden_units, optimizer):
    lr_term = ((math.log10(learning_rate) + 2.5) / 1.2) ** 2
    beta_term = 0.3 * (math.log10(1.0 - beta1) + 2.0) ** 2
    units_term = 0.05 * ((hidden_units - 80) / 30.0) ** 2
    return 0.55 + 0.42 * math.exp(-(lr_term + beta_term + units_term)) + \
        OPTIMIZER_BONUS[optimizer]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learning-rate", type=float, required=True)
    parser.add_argument("--beta1", type=float, default=0.9)
    parser.add_argument("--hidden-units", type=int, default=64)
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZER_BONUS), default="adam")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--step-seconds", type=float, default=0.05,
                        help="simulated training time per step")
    parser.add_argument("--seed", type=int, default=None,
                        help="noise seed (default: CAVIAR_TRIAL_ID, else 0)")
    args = parser.parse_args()
    if args.learning_rate <= 0:
        parser.error("--learning-rate must be > 0, got %g" % args.learning_rate)
    if not 0 <= args.beta1 < 1:
        parser.error("--beta1 must be in [0, 1), got %g" % args.beta1)
    if args.hidden_units < 1 or args.steps < 1:
        parser.error("--hidden-units and --steps must be >= 1")

    seed = args.seed if args.seed is not None else int(os.environ.get("CAVIAR_TRIAL_ID", "0"))
    rng = random.Random(seed)
    peak = final_accuracy(args.learning_rate, args.beta1, args.hidden_units, args.optimizer)
    # Larger learning rates learn faster (until they stop learning at all).
    speed = 0.4 + 0.6 * min(1.0, args.learning_rate / 1e-3)
    for step in range(1, args.steps + 1):
        time.sleep(args.step_seconds)
        progress = 1.0 - math.exp(-speed * step)
        accuracy = 0.1 + (peak - 0.1) * progress + rng.gauss(0.0, 0.004)
        accuracy = min(max(accuracy, 0.0), 1.0)
        loss = -math.log(max(accuracy, 1e-6))
        print("caviar: step=%d dev_accuracy=%.6f loss=%.6f" % (step, accuracy, loss),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
