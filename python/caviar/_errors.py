"""Exceptions of the caviar SDK."""

import grpc


class CaviarError(Exception):
    """The coordinator refused a call, or could not be reached in time.

    `code` is the grpc.StatusCode, `details` the coordinator's message (it
    names the field and the reason for bad input).
    """

    def __init__(self, method, code, details):
        super().__init__(f"{method}: {code.name}: {details}")
        self.method = method
        self.code = code
        self.details = details


class SpecError(ValueError):
    """A study spec that cannot be used; the message names the field."""


class LeaseLost(CaviarError):
    """The trial's lease is gone (expired, or the trial ended elsewhere)."""


def rpc_error(method, error):
    """A CaviarError (or LeaseLost) for a grpc.RpcError of `method`."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED) and \
            "lease" in (details or ""):
        return LeaseLost(method, code, details)
    return CaviarError(method, code, details)
