#!/usr/bin/python3
"""A training command for caviar's panda-mode tests (and a small example of
the protocol, README "Your own training command").

argv: STEPS DELAY_SECONDS. Trains a pretend model for STEPS steps with the
learning rate CAVIAR_PARAM_LR, reporting `caviar: step=N loss=... lr=...`.

- Nudges: on SIGUSR1 (and at start) it reads CAVIAR_NUDGE_FILE, applies the
  nudges it has not applied yet and acknowledges each one with
  `caviar: nudge-ack ID` before its next step. With env ACK=0 it does
  neither (no SIGUSR1 handler: caviar must not kill it).
- Checkpoints: after each step it writes its state to a new file
  state-N.json in CAVIAR_CHECKPOINT_DIR (never rewriting one the worker may
  be packing) and prints `caviar: checkpoint step=N`; started with
  CAVIAR_RESUME_STEP=N it reads state-N.json back and goes on with N + 1.
"""
import json
import os
import signal
import sys
import time

steps, delay = int(sys.argv[1]), float(sys.argv[2])
listens = os.environ.get("ACK", "1") == "1"
nudge_file = os.environ["CAVIAR_NUDGE_FILE"]
checkpoint_dir = os.environ["CAVIAR_CHECKPOINT_DIR"]

signalled = [True]  # Read the nudge file once at start.
if listens:
    signal.signal(signal.SIGUSR1, lambda *_: signalled.append(True))

resumed_from = int(os.environ.get("CAVIAR_RESUME_STEP", "0"))
if resumed_from:
    with open(os.path.join(checkpoint_dir, f"state-{resumed_from}.json")) as f:
        state = json.load(f)
else:
    state = {"step": 0, "lr": float(os.environ["CAVIAR_PARAM_LR"]), "applied": []}


def apply_nudges():
    with open(nudge_file) as f:
        doc = json.load(f)
    for nudge in doc["nudges"]:
        if nudge["id"] in state["applied"]:
            continue
        state["lr"] = float(nudge["parameters"].get("lr", state["lr"]))
        state["applied"].append(nudge["id"])
        print(f"caviar: nudge-ack {nudge['id']}", flush=True)


for step in range(state["step"] + 1, steps + 1):
    time.sleep(delay)
    if listens and signalled:
        signalled.clear()
        apply_nudges()
    loss = 1.0 / (step * state["lr"] * 10)
    print(f"caviar: step={step} loss={loss} lr={state['lr']} resumed_from={resumed_from}",
          flush=True)
    state["step"] = step
    with open(os.path.join(checkpoint_dir, f"state-{step}.json"), "w") as f:
        json.dump(state, f)
    print(f"caviar: checkpoint step={step}", flush=True)
