"""Plain Python values from and to the proto messages."""

from caviar.v1 import study_pb2, trial_pb2


def plain(value):
    """The Python value of a caviar.v1.ParameterValue (float, int or str)."""
    kind = value.WhichOneof("value")
    return None if kind is None else getattr(value, kind)


def plain_params(parameters):
    return {name: plain(v) for name, v in parameters.items()}


def check_metrics(metrics, where):
    """Metric values must be numbers (bool is refused: True is not a loss)."""
    for name, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{where}[{name!r}]: must be a number, got "
                            f"{type(value).__name__} {value!r}")
        if not name:
            raise ValueError(f"{where}: a metric name is empty")
    return {name: float(value) for name, value in metrics.items()}


def _time(ts):
    return ts.ToDatetime().isoformat() + "Z" if ts.seconds or ts.nanos else None


def measurement_dict(m):
    return {"step": m.step, "elapsed_seconds": m.elapsed_seconds,
            "metrics": dict(m.metrics), "attempt": m.attempt}


def trial_dict(t):
    """A finished or running trial as a dict of plain values."""
    d = {
        "id": t.id,
        "study": t.study,
        "state": trial_pb2.TrialState.Name(t.state),
        "params": plain_params(t.parameters),
        "value": t.objective_value if t.HasField("objective_value") else None,
        "metrics": dict(t.final_measurement.metrics),
        "attempt": t.attempt,
        "worker_id": t.worker_id,
        "round": t.round,
        "origin": trial_pb2.TrialOrigin.Name(t.origin),
        "failure_kind": (trial_pb2.FailureKind.Name(t.failure_kind)
                         if t.failure_kind else None),
        "failure_reason": t.failure_reason or None,
        "stop_reason": t.stop_reason or None,
        "create_time": _time(t.create_time),
        "start_time": _time(t.start_time),
        "end_time": _time(t.end_time),
    }
    if t.measurements:
        d["curve"] = [measurement_dict(m) for m in t.measurements]
    if t.nudges:
        d["nudges"] = [{"params": plain_params(n.parameters),
                        "delivered_after_step": (n.delivered_after_step
                                                 if n.HasField("delivered_after_step")
                                                 else None)} for n in t.nudges]
    return d


def study_dict(s):
    return {
        "name": s.spec.name,
        "state": study_pb2.StudyState.Name(s.state),
        "state_reason": s.state_reason or None,
        "metric": s.spec.objective.metric,
        "goal": study_pb2.Goal.Name(s.spec.objective.goal),
        "max_trials": s.spec.budget.max_trials,
        "pending": s.pending_trials,
        "active": s.active_trials,
        "succeeded": s.succeeded_trials,
        "failed": s.failed_trials,
        "stopped": s.stopped_trials,
        "create_time": _time(s.create_time),
        "end_time": _time(s.end_time),
    }


def trial_states(states):
    """TrialState numbers from names ("SUCCEEDED", "succeeded") or numbers."""
    out = []
    for i, state in enumerate(states or ()):
        if isinstance(state, str):
            try:
                out.append(trial_pb2.TrialState.Value(state.upper()))
            except ValueError:
                raise ValueError(f"states[{i}]: unknown trial state {state!r} (known: "
                                 "PENDING, ACTIVE, SUCCEEDED, FAILED, STOPPED)") from None
        elif isinstance(state, int) and not isinstance(state, bool):
            out.append(state)
        else:
            raise TypeError(f"states[{i}]: a state name, got {type(state).__name__}")
    return out
