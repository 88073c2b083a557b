"""Call Osiris functions from Python.

    import osiris
    response = osiris.call_function('add_numbers', 3, 5)   # 8

The module-level functions use a default client configured from ``OSIRIS_URL``, ``OSIRIS_TOKEN``,
``OSIRIS_CA``, ``OSIRIS_CERT`` and ``OSIRIS_KEY``; ``osiris.Client(url, token=None, timeout=30.0,
ca=None, cert=None, key=None)`` makes an explicit one. Standard library only.
"""

from __future__ import annotations

import threading
from typing import Any

from ._client import DEFAULT_URL, Client
from ._errors import (
    ERROR_CODES,
    Cancelled,
    Closed,
    CompileError,
    DeadlineExceeded,
    FunctionError,
    InternalError,
    InvalidArgument,
    NotFound,
    OsirisError,
    PayloadTooLarge,
    PermissionDenied,
    ResourceExhausted,
    ResultNotJson,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "DEFAULT_URL", "ERROR_CODES", "Cancelled", "Client", "Closed", "CompileError", "DeadlineExceeded",
    "FunctionError", "InternalError", "InvalidArgument", "NotFound", "OsirisError", "PayloadTooLarge",
    "PermissionDenied", "ResourceExhausted", "ResultNotJson", "Unauthenticated", "Unavailable",
    "call_function", "default_client", "list_functions",
]

_default: Client | None = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The client the module-level functions use, made on first use from the environment."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default


def call_function(name: str, *args: Any, timeout: float | None = None, call_id: str | None = None) -> Any:
    """Calls ``name(*args)`` on the default client and returns what it returned."""
    return default_client().call_function(name, *args, timeout=timeout, call_id=call_id)


def list_functions() -> list[dict[str, Any]]:
    return default_client().list_functions()
