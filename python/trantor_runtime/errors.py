"""
Errors that become Seldon failure bodies:
``{"status":{"code":<http status>,"info":"<what is wrong, where>","reason":"<REASON>","status":"FAILURE"}}``.

A model raises :class:`MicroserviceError` (or any exception with a ``status_code``
attribute, as Seldon's ``SeldonMicroserviceException`` has) to answer with its own 4xx;
any other exception from model code becomes a 500 ``MICROSERVICE_INTERNAL_ERROR``.
The reasons match the table in ``docs/errors.md``.
"""

BAD_DATA = "MICROSERVICE_BAD_DATA"
INTERNAL_ERROR = "MICROSERVICE_INTERNAL_ERROR"


class MicroserviceError(Exception):
    """An error a model (or the runtime) answers with: HTTP status, Seldon reason, message."""

    def __init__(self, message, status_code=400, reason=BAD_DATA):
        super().__init__(message)
        self.message = str(message)
        self.status_code = int(status_code)
        self.reason = reason

    def to_dict(self):
        return failure_body(self.status_code, self.message, self.reason)


class StartupError(Exception):
    """A component cannot start (bad parameters, missing model files, ...); the message says why."""


def failure_body(code, info, reason):
    return {"status": {"code": code, "info": info, "reason": reason, "status": "FAILURE"}}


def bad_payload(info):
    return MicroserviceError(info, 400, BAD_DATA)


def from_model_exception(exc, where):
    """The MicroserviceError to answer with when model code at ``where`` raised ``exc``."""
    if isinstance(exc, MicroserviceError):
        return exc
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599:
        message = getattr(exc, "message", None)
        if not isinstance(message, str) or message == "":
            message = str(exc)
        reason = getattr(exc, "reason", None)
        if not isinstance(reason, str) or reason == "":
            reason = BAD_DATA if status < 500 else INTERNAL_ERROR
        return MicroserviceError(message, status, reason)
    detail = str(exc)
    text = type(exc).__name__ + (": " + detail if detail else "")
    return MicroserviceError(text + " (in " + where + ")", 500, INTERNAL_ERROR)
