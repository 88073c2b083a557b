"""Errors raised by the Osiris client: one base class, a stable ``code`` on each.

The codes are the ones every Osiris client uses (the TypeScript SDK's
``OsirisError.code``, the HTTP API's ``error.code``)."""

from __future__ import annotations


class OsirisError(Exception):
    """Base class. ``code`` is the stable error code; ``status`` the HTTP status (0 when none)."""

    code = "INTERNAL"

    def __init__(self, message: str, *, status: int = 0, retry_after: float | None = None,
                 started: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        #: With RESOURCE_EXHAUSTED from a full queue: seconds to wait before retrying.
        self.retry_after = retry_after
        #: Whether a failed call may have run: ``"never"`` (it provably never started:
        #: safe to send again), ``"maybe"`` (it may have run, in part or whole), or
        #: None when the failure itself says what happened (the function threw, ...).
        self.started = started

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class NotFound(OsirisError):
    code = "NOT_FOUND"


class InvalidArgument(OsirisError):
    code = "INVALID_ARGUMENT"


class CompileError(InvalidArgument):
    code = "COMPILE_ERROR"


class FunctionError(OsirisError):
    """The function threw. ``remote_name``, ``remote_message`` and ``remote_stack`` are what it threw."""

    code = "FUNCTION_ERROR"

    def __init__(self, message: str, *, status: int = 0, remote_name: str = "Error",
                 remote_message: str = "", remote_stack: str = "") -> None:
        super().__init__(message, status=status)
        self.remote_name = remote_name
        self.remote_message = remote_message
        self.remote_stack = remote_stack


class ResultNotJson(OsirisError):
    code = "RESULT_NOT_JSON"


class DeadlineExceeded(OsirisError):
    code = "DEADLINE_EXCEEDED"


class ResourceExhausted(OsirisError):
    code = "RESOURCE_EXHAUSTED"


class PayloadTooLarge(ResourceExhausted):
    code = "PAYLOAD_TOO_LARGE"


class Unavailable(OsirisError):
    code = "UNAVAILABLE"


class Closed(Unavailable):
    code = "CLOSED"


class Unauthenticated(OsirisError):
    code = "UNAUTHENTICATED"


class PermissionDenied(OsirisError):
    code = "PERMISSION_DENIED"


class Cancelled(OsirisError):
    code = "CANCELLED"


class InternalError(OsirisError):
    code = "INTERNAL"


_BY_CODE = {cls.code: cls for cls in (
    NotFound, InvalidArgument, CompileError, FunctionError, ResultNotJson, DeadlineExceeded,
    ResourceExhausted, PayloadTooLarge, Unavailable, Closed, Unauthenticated, PermissionDenied,
    Cancelled, InternalError,
)}

#: Every stable code, as the TypeScript SDK's ERROR_CODES has them.
ERROR_CODES = frozenset(_BY_CODE)

_BY_STATUS = {400: InvalidArgument, 401: Unauthenticated, 403: PermissionDenied, 404: NotFound,
              413: PayloadTooLarge, 429: ResourceExhausted, 499: Cancelled, 500: InternalError,
              503: Unavailable, 504: DeadlineExceeded}


def status_error(status: int, message: str) -> OsirisError:
    """The exception an HTTP status stands for when the answer says no more (InternalError for any other)."""
    return _BY_STATUS.get(status, InternalError)(message, status=status)


def from_response(status: int, body: object, retry_after: str | None, started: str | None = None) -> OsirisError:
    """The one conversion on this boundary: an HTTP error answer -> the exception it stands for.

    ``started`` is the ``x-osiris-started`` header (``never`` or ``maybe``), if any."""
    if started not in ("never", "maybe"):
        started = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        cls = _BY_STATUS.get(status, InternalError)
        return cls(f"HTTP {status} without an Osiris error body", status=status, started=started)
    code = str(error.get("code", ""))
    message = str(error.get("message", ""))
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status, InternalError)
    if cls is FunctionError:
        guest = error.get("guest") if isinstance(error.get("guest"), dict) else {}
        return FunctionError(message, status=status, remote_name=str(guest.get("name", "Error")),
                             remote_message=str(guest.get("message", "")), remote_stack=str(guest.get("stack", "")))
    wait = None
    if retry_after is not None:
        try:
            wait = float(retry_after)
        except ValueError:
            wait = None
    return cls(message, status=status, retry_after=wait, started=started)
