"""A leased trial: report progress, then tell the result or fail it.

While a Trial is open, a background thread sends heartbeats (progress reports
without a measurement) every third of the lease, so a trial whose steps take
longer than the lease keeps it. Thread-safe: report/tell/fail may be called
from any thread.
"""

import threading
import time

from caviar._errors import CaviarError, LeaseLost
from caviar._values import check_metrics, plain_params, trial_dict
from caviar.v1 import service_pb2, trial_pb2

_FAILURE_KINDS = {"crashed": trial_pb2.CRASHED, "diverged": trial_pb2.DIVERGED,
                  "infeasible": trial_pb2.INFEASIBLE}


class Trial:
    """One trial leased by this client.

    params       its parameters as plain values (nudges applied)
    updates      the nudges received so far: a list of (step, {name: value})
    should_stop  the coordinator said STOP (pruned, or the study ended)
    stop_reason  why
    """

    def __init__(self, connection, response, worker_id, heartbeat=True):
        t = response.trial
        self._conn = connection
        self.id = t.id
        self.study = t.study
        self.attempt = t.attempt
        self.worker_id = worker_id
        self.seed = t.seed
        self.round = t.round
        self.params = plain_params(t.parameters)
        self.metric = response.spec.objective.metric
        self.updates = []
        self.should_stop = False
        self.stop_reason = None
        self.finished = False
        self.result = None
        self._last_step = None
        self._last_metrics = {}
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        lease = t.lease_deadline.ToSeconds() - time.time() if t.lease_deadline.seconds else 60
        self._lease_seconds = max(lease, 0.3)
        self._heartbeat = None
        if heartbeat:
            self._heartbeat = threading.Thread(
                target=self._beat, name=f"caviar-heartbeat-{self.id}", daemon=True)
            self._heartbeat.start()

    def __repr__(self):
        return f"Trial(id={self.id}, study={self.study!r}, params={self.params!r})"

    def __getitem__(self, name):
        return self.params[name]

    # ------------------------------------------------------------ progress

    def report(self, step, **metrics):
        """Records the metrics of `step` (an int >= 0, increasing) and returns
        True when the trial should stop (then call tell(); the result counts
        as STOPPED). Nudged parameter values are applied to `params` and
        appended to `updates`."""
        if isinstance(step, bool) or not isinstance(step, int):
            raise TypeError(f"step: must be an int, got {type(step).__name__} {step!r}")
        if step < 0:
            raise ValueError(f"step: must be >= 0, got {step}")
        if not metrics:
            raise ValueError("metrics: report at least one, e.g. report(3, loss=0.2)")
        values = check_metrics(metrics, "metrics")
        with self._lock:
            self._check_open("report")
            if self._last_step is not None and step < self._last_step:
                raise ValueError(f"step: must not go back, got {step} after {self._last_step}")
        request = service_pb2.ReportProgressRequest(
            trial_id=self.id, worker_id=self.worker_id, attempt=self.attempt)
        request.measurement.step = step
        request.measurement.elapsed_seconds = time.monotonic() - self._start
        request.measurement.metrics.update(values)
        response = self._conn.call("ReportProgress", request)
        with self._lock:
            self._last_step = step
            self._last_metrics = values
            self._take(response, step)
            return self.should_stop

    def _take(self, response, step):
        """Applies a ReportProgressResponse (holding the lock)."""
        if response.lease_seconds > 0:
            self._lease_seconds = response.lease_seconds
        if response.parameter_updates:
            update = plain_params(response.parameter_updates)
            self.params.update(update)
            self.updates.append((step, update))
        if response.decision == service_pb2.STOP:
            self.should_stop = True
            self.stop_reason = response.reason or "stopped"

    def _beat(self):
        while not self._closed.wait(min(max(self._lease_seconds / 3, 0.05), 10.0)):
            request = service_pb2.ReportProgressRequest(
                trial_id=self.id, worker_id=self.worker_id, attempt=self.attempt)
            try:
                response = self._conn.call("ReportProgress", request,
                                           retry_seconds=self._lease_seconds / 3)
            except LeaseLost:
                return
            except CaviarError:
                continue  # Down for a while: the next beat tries again.
            with self._lock:
                self._take(response, self._last_step)

    # -------------------------------------------------------------- ending

    def tell(self, value=None, **metrics):
        """Completes the trial with its objective `value` (the study's metric)
        and any further final metrics. A trial told to stop ends STOPPED (with
        the last reported metrics when value is None). Returns the finished
        trial as a dict of plain values."""
        final = {}
        if value is not None:
            final.update(check_metrics({self.metric: value}, "value"))
        final.update(check_metrics(metrics, "metrics"))
        request = service_pb2.CompleteTrialRequest(
            trial_id=self.id, worker_id=self.worker_id, attempt=self.attempt)
        with self._lock:
            self._check_open("tell")
            if value is None and self.metric not in final:
                if not self.should_stop:
                    raise ValueError(f"value: give the objective ({self.metric!r}) "
                                     "or call fail(reason)")
                final = {**self._last_metrics, **final}
            request.stopped = self.should_stop
            step = self._last_step
        if step is not None:
            request.final_measurement.step = step
        request.final_measurement.elapsed_seconds = time.monotonic() - self._start
        request.final_measurement.metrics.update(final)
        return self._end(request)

    def fail(self, reason, kind="crashed"):
        """Ends the trial FAILED with `reason` (kind: crashed, diverged,
        infeasible). Returns the finished trial as a dict."""
        if not isinstance(reason, str) or not reason:
            raise ValueError("reason: must be a non-empty string")
        if kind not in _FAILURE_KINDS:
            raise ValueError(f"kind: unknown failure kind {kind!r} (known: "
                             f"{', '.join(_FAILURE_KINDS)})")
        with self._lock:
            self._check_open("fail")
        request = service_pb2.CompleteTrialRequest(
            trial_id=self.id, worker_id=self.worker_id, attempt=self.attempt,
            failure_kind=_FAILURE_KINDS[kind], failure_reason=reason[:4000])
        return self._end(request)

    def release(self):
        """Gives the trial back unfinished (PENDING, same parameters) for
        another client to run."""
        with self._lock:
            self._check_open("release")
        request = service_pb2.CompleteTrialRequest(
            trial_id=self.id, worker_id=self.worker_id, attempt=self.attempt, release=True)
        return self._end(request)

    def _end(self, request):
        try:
            done = self._conn.call("CompleteTrial", request)
        finally:
            self.close()
        with self._lock:
            self.finished = True
            self.result = trial_dict(done)
        return self.result

    def _check_open(self, what):
        if self.finished:
            raise RuntimeError(f"{what}: trial {self.id} has already ended")

    def close(self):
        """Stops the heartbeat (the lease then runs out unless the trial ended)."""
        self._closed.set()
        if self._heartbeat is not None and self._heartbeat is not threading.current_thread():
            self._heartbeat.join()

    # ------------------------------------------------------ context manager

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if self.finished:
            self.close()
            return False
        try:
            if error is None:
                self.fail("the with block ended without tell()")
            elif isinstance(error, Exception):
                self.fail(f"{kind.__name__}: {error}"[:4000])
            else:  # KeyboardInterrupt, SystemExit: let someone else run it.
                self.release()
        except CaviarError:
            if error is None:
                raise
        return False
