"""The HTTP client: one keep-alive connection per thread to the controller's gateway."""

from __future__ import annotations

import http.client
import json
import math
import os
import select
import socket
import ssl
import threading
import time
import urllib.parse
import uuid
from typing import Any

from ._errors import (
    Closed,
    DeadlineExceeded,
    InternalError,
    InvalidArgument,
    OsirisError,
    ResultNotJson,
    Unavailable,
    from_response,
    status_error,
)
from ._json import NotJson, to_json

DEFAULT_URL = "http://127.0.0.1:8080"
#: The server closes idle keep-alive connections after 5 s; reconnect before that.
_IDLE_RECONNECT_S = 4.0
#: Largest answer read, bytes: a result is at most 16 MiB of JSON (the platform's bound on maxResultBytes);
#: twice that leaves room for the error envelope and escapes. A longer answer is not read.
MAX_ANSWER_BYTES = 32 * 1024 * 1024


class Client:
    """A client of one Osiris controller.

    ``url`` defaults to ``$OSIRIS_URL``, else ``http://127.0.0.1:8080``; ``token`` to ``$OSIRIS_TOKEN``
    (sent as ``Authorization: Bearer``); ``timeout`` is the default deadline of a call in seconds.
    ``ca`` (default ``$OSIRIS_CA``) is a CA certificate file for an ``https://`` url: the controller's
    certificate must chain to it (e.g. the ca.pem of ``osiris certs init``); without it, the system's
    trusted CAs. ``cert`` and ``key`` (default ``$OSIRIS_CERT``, ``$OSIRIS_KEY``) are a client
    certificate and key file to present (``osiris certs client NAME --role invoke``): the controller
    takes the certificate's role as credentials when no token is sent.
    """

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 30.0,
                 ca: str | None = None, cert: str | None = None, key: str | None = None) -> None:
        self.url = url or os.environ.get("OSIRIS_URL") or DEFAULT_URL
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidArgument(f"url must be http://host:port or https://host:port, got {self.url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._token = token if token is not None else os.environ.get("OSIRIS_TOKEN")
        cafile = ca if ca is not None else (os.environ.get("OSIRIS_CA") or None)
        certfile = cert if cert is not None else (os.environ.get("OSIRIS_CERT") or None)
        keyfile = key if key is not None else (os.environ.get("OSIRIS_KEY") or None)
        self._tls = None
        if self._https:
            try:
                self._tls = ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError) as error:
                raise InvalidArgument(f"cannot use the CA certificate {cafile!r}: {error}") from error
            if certfile is not None:
                try:
                    self._tls.load_cert_chain(certfile, keyfile)
                except (OSError, ssl.SSLError) as error:
                    raise InvalidArgument(f"cannot use the client certificate {certfile!r}: {error}") from error
        self.timeout = timeout
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def call_function(self, name: str, *args: Any, timeout: float | None = None, call_id: str | None = None) -> Any:
        """Calls ``name(*args)`` and returns what it returned: ``call_function('add_numbers', 3, 5)``.

        Arguments are sent as JSON, UTF-8 as is (the same bytes as from the TypeScript SDK or curl).
        A value JSON would lose (NaN or infinity, a set, bytes, an object, a dict key that is not a
        string) raises ``InvalidArgument`` before anything is sent, naming it: ``args[0]["x"] is NaN``.

        ``call_id`` names the call (default: a random UUID); the host that runs it
        refuses to run an id it has already seen. A failure that may have run
        carries ``started == "maybe"`` and is never sent again by this client.
        """
        parts = []
        for i, arg in enumerate(args):
            try:
                parts.append(to_json(arg, f"args[{i}]"))
            except NotJson as error:
                raise InvalidArgument(f'argument {i + 1} of "{name}" cannot be encoded as JSON: {error}') from None
        body = ("[" + ",".join(parts) + "]").encode("utf-8")
        wait = self.timeout if timeout is None else timeout
        headers = {
            "x-osiris-timeout-ms": str(max(1, math.ceil(wait * 1000))),
            "x-osiris-call-id": call_id or str(uuid.uuid4()),
        }
        path = "/v1/call/" + urllib.parse.quote(name, safe="")
        return self._request("POST", path, body, headers, wait)

    def list_functions(self) -> list[dict[str, Any]]:
        """Every deployed function: name, module, runtime, version, params, deployedAtMs, codeHash."""
        return self._request("GET", "/v1/functions", None, {}, self.timeout)["functions"]

    def get_function(self, name: str) -> dict[str, Any]:
        return self._request("GET", "/v1/functions/" + urllib.parse.quote(name, safe=""), None, {}, self.timeout)

    def close(self) -> None:
        """Closes every connection. Idempotent; calls after it raise ``Closed``."""
        with self._lock:
            self._closed = True
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    def _connection(self, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it was reused (so a stale one may be retried)."""
        connection = getattr(self._local, "connection", None)
        last = getattr(self._local, "last_used", 0.0)
        if connection is not None and (time.monotonic() - last > _IDLE_RECONNECT_S or _dropped(connection)):
            connection.close()
        reused = connection is not None and connection.sock is not None
        if connection is None:
            if self._tls is not None:
                connection = http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._tls)
            else:
                connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection, reused

    def _request(self, method: str, path: str, body: bytes | None, headers: dict[str, str], wait: float) -> Any:
        if self._closed:
            raise Closed("this Osiris client is closed")
        headers = {"content-type": "application/json", **headers}
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        # The socket waits a little past the call's deadline, so the server's answer arrives.
        # Only a request that cannot have run anything is sent twice: a GET on a
        # keep-alive connection the server had closed. A call (POST) that was
        # sent and got no answer may have run: it fails with started "maybe".
        for attempt in (1, 2):
            connection, reused = self._connection(wait + 1.0)
            sent = False
            try:
                if connection.sock is None:
                    connection.connect()  # refused or unreachable here: nothing was sent
                sent = True
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                raw = response.read(MAX_ANSWER_BYTES + 1)
                if len(raw) > MAX_ANSWER_BYTES:
                    connection.close()  # the rest is never read
                    raise _unreadable(response.status, f"is over {MAX_ANSWER_BYTES} bytes")
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                connection.close()
                if reused and attempt == 1 and method == "GET":
                    continue  # the server had closed an idle keep-alive connection: nothing was processed
                raise Unavailable(f"controller {self.url} closed the connection: {error}",
                                  started="maybe" if sent and method == "POST" else None) from None
            except (socket.timeout, TimeoutError):
                connection.close()
                raise DeadlineExceeded(f"no answer from {self.url} within {wait:g} s",
                                       started="maybe" if sent else "never") from None
            except OSError as error:
                connection.close()
                raise Unavailable(f"cannot reach controller {self.url}: {error}",
                                  started="maybe" if sent else "never") from None
            except http.client.HTTPException as error:
                connection.close()
                raise InternalError(f"{self.url} answered something that is not HTTP: {error!r}",
                                    started="maybe" if sent else "never") from None
            self._local.last_used = time.monotonic()
            return _decode(response.status, raw, response.getheader("retry-after"), response.getheader("x-osiris-started"))
        raise Unavailable(f"controller {self.url} kept closing the connection")


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether the server has closed this idle connection (its socket reads as ready: EOF or a reset)."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _unreadable(status: int, why: str) -> Exception:
    """An answer that cannot be read: ``ResultNotJson`` for a call's result (2xx), else the status's error."""
    if 200 <= status < 300:
        return ResultNotJson(f"HTTP {status}: the answer {why}", status=status)
    return status_error(status, f"HTTP {status}: the answer {why}")


def _decode(status: int, raw: bytes, retry_after: str | None, started: str | None = None) -> Any:
    # Whatever answered is not trusted to be well-formed: a parser failure of any kind (a
    # RecursionError on deep nesting included) is an Osiris error with a stable code.
    try:
        payload = json.loads(raw) if raw else None
    except RecursionError:
        raise _unreadable(status, "nests deeper than Python's JSON parser can take") from None
    except ValueError:
        raise _unreadable(status, "is not JSON") from None
    if 200 <= status < 300:
        return payload
    raise from_response(status, payload, retry_after, started)
