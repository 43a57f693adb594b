"""Why a request got no answer, in a few words a person can act on (never a urllib3 dump).

The one place that reads exceptions of requests, urllib3 and the OS for their reason: the
gateway's errors (Glance, Keystone) and the sources' use it. A client library above requests
(the gateway's keystoneauth) names its own classes in a ClientErrors, so that only the gateway
imports it.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import requests

ErrorTypes = tuple[type[BaseException], ...]


@dataclass(frozen=True)
class ClientErrors:
    """A client library's own exception classes for a request that timed out, failed its TLS
    handshake or lost its connection, read as requests' own are."""

    timeouts: ErrorTypes = ()
    tls: ErrorTypes = ()
    connection: ErrorTypes = ()


REQUESTS_ONLY = ClientErrors()


def failure_reason(
    error: BaseException, timeout: float, client: ClientErrors = REQUESTS_ONLY
) -> str:
    """What went wrong with a request that got no answer, in a few words: ``no answer within
    N s``, ``connection refused``, ``connection reset``, ... or the exception's type."""
    if is_timeout(error, client):
        return f"no answer within {timeout:g} s"
    return connection_reason(list(causes(error)), error, client) or type(error).__name__


def causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it wraps: causes, contexts, and the exceptions urllib3 and requests
    keep in their arguments or ``reason`` rather than chain (a reset is only an argument of
    urllib3's ProtocolError)."""
    seen: set[int] = set()
    pending = [error]
    while pending and len(seen) < 32:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += list(current.args)
        pending += [item for item in linked if isinstance(item, BaseException)]


def is_timeout(error: BaseException, client: ClientErrors = REQUESTS_ONLY) -> bool:
    return any(
        isinstance(item, (*client.timeouts, requests.Timeout, TimeoutError))
        or type(item).__name__ in ("ReadTimeoutError", "ConnectTimeoutError")
        for item in causes(error)
    )


def _tls_reason(error: BaseException) -> str:
    for item in causes(error):
        if isinstance(item, ssl.SSLCertVerificationError) and item.verify_message:
            return f"certificate verify failed: {item.verify_message}"
    for item in causes(error):
        if isinstance(item, ssl.SSLError):
            return str(item.reason or item.strerror or "handshake failed").lower().replace("_", " ")
    return "handshake failed"


def connection_reason(
    causes: Sequence[BaseException], error: BaseException, client: ClientErrors = REQUESTS_ONLY
) -> str | None:
    """Why a connection gave no answer, in a few words; None when it is not a connection
    failure."""
    kinds = tuple(type(item).__name__ for item in causes)
    text = " ".join(str(item) for item in causes)
    if any(isinstance(item, ConnectionRefusedError) for item in causes):
        return "connection refused"
    if any(isinstance(item, ConnectionResetError | BrokenPipeError) for item in causes):
        return "connection reset"
    if "RemoteDisconnected" in kinds or "closed connection without response" in text:
        return "the connection closed without an answer"
    if any(
        isinstance(item, (ssl.SSLError, *client.tls, requests.exceptions.SSLError))
        for item in causes
    ):
        return f"TLS error: {_tls_reason(error)}"
    for item in causes:
        if isinstance(item, socket.gaierror):
            host = re.search(r"host='([^']+)'", text)
            return f"cannot resolve host name '{host.group(1)}'" if host else "unknown host"
    if "IncompleteRead" in kinds or "ProtocolError" in kinds:
        return "the connection closed before the end of the answer"
    for item in causes:
        if isinstance(item, OSError) and item.strerror:
            return item.strerror[0].lower() + item.strerror[1:]
    if isinstance(error, (*client.connection, requests.ConnectionError)):
        return "connection failed"
    return None
