"""run_worker: the ask / objective / tell loop."""

from caviar.trial import Trial


def run_worker(study, objective, n_trials=None, timeout=None):
    """Runs trials of `study` until it ends (or n_trials have run): asks for a
    trial, calls objective(trial), and tells its return value. The objective
    may call trial.report(step, **metrics) and return early when it returns
    True (the trial then ends STOPPED), or finish the trial itself with
    trial.tell/fail. An exception fails the trial and the loop goes on.
    `timeout` is passed to each ask. Returns the finished trials as dicts."""
    if n_trials is not None and (isinstance(n_trials, bool) or not isinstance(n_trials, int)
                                 or n_trials < 1):
        raise ValueError(f"n_trials: must be an int >= 1 or None, got {n_trials!r}")
    if not callable(objective):
        raise TypeError("objective: must be callable as objective(trial)")
    done = []
    while n_trials is None or len(done) < n_trials:
        trial = study.ask(timeout=timeout)
        if trial is None:
            break
        done.append(_run_one(trial, objective))
    return done


def _run_one(trial: Trial, objective):
    try:
        value = objective(trial)
    except Exception as error:  # The objective's bug fails its trial only.
        if not trial.finished:
            return trial.fail(f"{type(error).__name__}: {error}"[:4000])
        return trial.result
    except BaseException:
        if not trial.finished:
            trial.release()
        raise
    if trial.finished:
        return trial.result
    if value is None and not trial.should_stop:
        return trial.fail("the objective returned None (return the value of "
                          f"{trial.metric!r}, or fail the trial)")
    return trial.tell(value)
