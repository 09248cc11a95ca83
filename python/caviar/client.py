"""Client and Study: create or load studies, ask for trials, read results."""

import itertools
import os
import socket
import time

import grpc
from google.protobuf import json_format

from caviar import _spec
from caviar._errors import CaviarError, SpecError
from caviar._rpc import Connection
from caviar._values import study_dict, trial_dict, trial_states
from caviar.trial import Trial
from caviar.v1 import service_pb2, study_pb2


class Client:
    """A connection to caviar-coordinator at `address` (HOST:PORT; default
    $CAVIAR_COORDINATOR) with an optional bearer `token` (default
    $CAVIAR_TOKEN) and TLS CA file `tls_ca`. Calls time out after `timeout`
    seconds and are retried while the coordinator is UNAVAILABLE for up to
    `retry_seconds`, at most a second apart. Thread-safe."""

    def __init__(self, address=None, token=None, *, tls_ca=None, timeout=30.0,
                 retry_seconds=60.0, worker_id=None):
        self._conn = Connection(address, token, tls_ca, timeout, retry_seconds)
        if worker_id is not None and (not isinstance(worker_id, str) or not worker_id):
            raise ValueError("worker_id: must be a non-empty string")
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-py{id(self):x}"
        self._asks = itertools.count(1)

    def close(self):
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def create_study(self, spec, *, load_if_exists=False):
        """Creates a study from a dict, YAML text or a YAML file (keys: the
        fields of caviar.v1.StudySpec; without command/trainer the study is
        external: its trials are run by SDK clients). With load_if_exists, a
        study of that name that exists already is loaded instead."""
        message = _spec.to_proto(spec)
        try:
            created = self._conn.call("CreateStudy",
                                      service_pb2.CreateStudyRequest(spec=message))
        except CaviarError as error:
            if error.code == grpc.StatusCode.ALREADY_EXISTS and load_if_exists:
                return self.load_study(message.name)
            if error.code == grpc.StatusCode.INVALID_ARGUMENT:
                raise SpecError(f"spec: {error.details}") from None
            raise
        return Study(self, created)

    def load_study(self, name):
        """The existing study `name`."""
        if not isinstance(name, str) or not name:
            raise ValueError("name: must be a non-empty string")
        return Study(self, self._conn.call("GetStudy", service_pb2.GetStudyRequest(name=name)))

    def studies(self):
        """Every study, as dicts (name, state, counts, ...)."""
        response = self._conn.call("ListStudies", service_pb2.ListStudiesRequest())
        return [study_dict(s) for s in response.studies]

    def _next_worker_id(self):
        return f"{self.worker_id}-{next(self._asks)}"


class Study:
    """A study on the coordinator. `name`, `spec` (a dict of its spec)."""

    def __init__(self, client, study):
        self._client = client
        self._conn = client._conn
        self.name = study.spec.name
        self.spec = json_format.MessageToDict(study.spec, preserving_proto_field_name=True)
        self._external = study.spec.HasField("external")

    def __repr__(self):
        return f"Study({self.name!r})"

    def info(self):
        """State and trial counts, as a dict."""
        return study_dict(self._conn.call("GetStudy",
                                          service_pb2.GetStudyRequest(name=self.name)))

    def ask(self, timeout=None, heartbeat=True):
        """Leases the next trial of this study. Waits while the study has no
        trial to give (parallel limit, trials of others still running) for up
        to `timeout` seconds (None: as long as it takes); returns None when the
        study has ended or the time is up. Use it as `with study.ask() as t:`
        to fail the trial if the block raises."""
        if not self._external:
            raise CaviarError("SuggestTrial", grpc.StatusCode.FAILED_PRECONDITION,
                              f"study \"{self.name}\" is run by caviar-worker (its spec has "
                              "command or trainer); the SDK runs external studies")
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0):
            raise ValueError(f"timeout: must be a number of seconds >= 0, got {timeout!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        # One worker id per ask: a retried SuggestTrial gets the same lease back,
        # and trials asked for one after another are different trials.
        request = service_pb2.SuggestTrialRequest(
            worker_id=self._client._next_worker_id(), study=self.name,
            run_kinds=[study_pb2.RUN_KIND_EXTERNAL])
        while True:
            response = self._conn.call("SuggestTrial", request)
            if response.HasField("trial"):
                return Trial(self._conn, response, request.worker_id, heartbeat=heartbeat)
            if response.no_more_work:
                return None
            wait = response.retry_after_seconds or 1.0
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                wait = min(wait, left)
            time.sleep(wait)

    def best(self, k=1):
        """The k best finished trials, best first, as dicts."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k: must be an int >= 1, got {k!r}")
        response = self._conn.call("BestTrials",
                                   service_pb2.BestTrialsRequest(study=self.name, top=k))
        return [trial_dict(t) for t in response.trials]

    def trials(self, states=None, curves=False, order_by="id"):
        """Every trial (or those in `states`, e.g. ["SUCCEEDED"]) as dicts, by
        id or by objective ("objective", best first); with curves=True each
        has its learning curve under "curve"."""
        if order_by not in ("id", "objective"):
            raise ValueError(f"order_by: must be \"id\" or \"objective\", got {order_by!r}")
        request = service_pb2.ListTrialsRequest(
            study=self.name, states=trial_states(states), order_by=order_by,
            page_size=1000, include_measurements=bool(curves))
        out = []
        while True:
            response = self._conn.call("ListTrials", request)
            out.extend(trial_dict(t) for t in response.trials)
            if not response.next_page_token:
                return out
            request.page_token = response.next_page_token

    def stop(self, reason=""):
        """Stops the study (running trials are told to stop at their next report)."""
        return study_dict(self._conn.call(
            "StopStudy", service_pb2.StopStudyRequest(name=self.name, reason=reason)))
