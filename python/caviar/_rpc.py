"""The gRPC connection: channel, credentials, retries on UNAVAILABLE."""

import os
import time

import grpc

from caviar._errors import rpc_error
from caviar.v1 import service_pb2_grpc

# Retried: the coordinator is down or restarting. Every call the SDK makes is
# safe to repeat (a repeated SuggestTrial returns the same lease, a repeated
# report or completion is recognised by the coordinator).
_RETRIED = (grpc.StatusCode.UNAVAILABLE,)


class Connection:
    """One channel to a coordinator and the stubs on it. Thread-safe."""

    def __init__(self, address, token, tls_ca, timeout, retry_seconds,
                 min_backoff=0.05, max_backoff=1.0):
        if address is None:
            address = os.environ.get("CAVIAR_COORDINATOR", "")
        if not isinstance(address, str) or not address:
            raise ValueError("address: give HOST:PORT (or set CAVIAR_COORDINATOR)")
        if token is None:
            token = os.environ.get("CAVIAR_TOKEN") or None
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise ValueError("token: must be a non-empty string")
        for name, value in (("timeout", timeout), ("retry_seconds", retry_seconds)):
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{name}: must be a number of seconds > 0, got {value!r}")
        self.address = address
        self.timeout = float(timeout)
        self.retry_seconds = float(retry_seconds)
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._metadata = (("authorization", f"Bearer {token.strip()}"),) if token else ()
        if tls_ca is not None:
            with open(tls_ca, "rb") as f:
                credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
            self._channel = grpc.secure_channel(address, credentials)
        else:
            self._channel = grpc.insecure_channel(address)
        self.studies = service_pb2_grpc.StudyServiceStub(self._channel)
        self.workers = service_pb2_grpc.WorkerServiceStub(self._channel)

    def call(self, name, request, retry_seconds=None):
        """Calls the RPC `name` (e.g. "SuggestTrial"), retrying UNAVAILABLE
        with a capped exponential backoff for up to retry_seconds; raises
        CaviarError on anything else or when the time is up."""
        method = getattr(self.workers, name, None) or getattr(self.studies, name)
        budget = self.retry_seconds if retry_seconds is None else retry_seconds
        deadline = time.monotonic() + budget
        backoff = self.min_backoff
        while True:
            try:
                return method(request, timeout=self.timeout, metadata=self._metadata)
            except grpc.RpcError as error:
                if error.code() not in _RETRIED or time.monotonic() + backoff > deadline:
                    raise rpc_error(name, error) from None
            time.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    def close(self):
        self._channel.close()
