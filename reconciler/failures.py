"""Why a request got no answer, in a few words a person can act on (never a urllib3 dump)."""

from __future__ import annotations

import keystoneauth1.exceptions
import requests


def failure_reason(error: BaseException, timeout: float) -> str:
    """What went wrong with a request that got no answer, in a few words."""
    if isinstance(error, keystoneauth1.exceptions.ConnectTimeout | requests.Timeout):
        return f"no answer within {timeout:g} s"
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(item) for item in chain)
    if any(isinstance(item, ConnectionRefusedError) for item in chain) or "refused" in text:
        return "connection refused"
    if any(isinstance(item, ConnectionResetError) for item in chain) or "reset" in text:
        return "connection reset"
    if "RemoteDisconnected" in text or "closed connection without response" in text:
        return "the connection closed without an answer"
    if "IncompleteRead" in text or "ProtocolError" in text:
        return "the connection closed before the end of the data"
    if isinstance(error, keystoneauth1.exceptions.SSLError | requests.exceptions.SSLError):
        return "TLS error"
    return type(error).__name__
