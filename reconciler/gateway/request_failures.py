"""A failed request to Keystone or Glance in one line: ``describe_failure`` is the one mapping
from a request's exception (openstacksdk's, keystoneauth's or requests') to a sentence;
Keystone's failures use it (clouds.py), and Glance's may too (see its docstring)."""

from __future__ import annotations

import re

import keystoneauth1.exceptions
import requests

from reconciler import failures
from reconciler.failures import ClientErrors, causes

# keystoneauth's own classes for what requests calls Timeout, SSLError and ConnectionError:
# read here, at the edge, so that nothing outside the gateway imports keystoneauth.
KEYSTONEAUTH_ERRORS = ClientErrors(
    timeouts=(keystoneauth1.exceptions.ConnectTimeout,),
    tls=(keystoneauth1.exceptions.SSLError,),
    connection=(keystoneauth1.exceptions.ConnectionError,),
)


def failure_reason(error: BaseException, timeout: float) -> str:
    """failures.failure_reason, keystoneauth's exceptions included."""
    return failures.failure_reason(error, timeout, KEYSTONEAUTH_ERRORS)


def is_timeout(error: BaseException) -> bool:
    """failures.is_timeout, keystoneauth's exceptions included."""
    return failures.is_timeout(error, KEYSTONEAUTH_ERRORS)


def connection_reason(error: BaseException) -> str | None:
    """failures.connection_reason over ``error`` and its causes, keystoneauth's exceptions
    included."""
    return failures.connection_reason(list(causes(error)), error, KEYSTONEAUTH_ERRORS)


def status_of(error: BaseException) -> int | None:
    """The HTTP status of an error that is an answer (keystoneauth's HttpError, openstacksdk's
    HttpException, requests' HTTPError), else None. Only the error itself: an error raised
    while handling an earlier answer keeps that answer in its context."""
    status = getattr(error, "http_status", None) or getattr(error, "status_code", None)
    if isinstance(status, int):
        return status
    response = response_of(error)
    return response.status_code if response is not None else None


def response_of(error: BaseException) -> requests.Response | None:
    response = getattr(error, "response", None)
    return response if isinstance(response, requests.Response) else None


def answer_text(response: requests.Response | None, fallback: str) -> str:
    """The human part of an error answer: the JSON message, the text of an HTML page (without
    its head and heading), or ``fallback``; at most 200 characters, on one line."""
    if response is None:
        return fallback
    try:
        body = response.json()
    except ValueError:
        text = re.sub(r"(?s)<head>.*?</head>|<h1>.*?</h1>|<[^>]+>", " ", response.text or "")
        text = " ".join(text.split())
        return text[:200] or str(response.reason or fallback)
    if isinstance(body, dict):
        for key in ("error", "message", "title", "errors"):
            value = body.get(key)
            if isinstance(value, list) and value and isinstance(value[0], dict):
                value = value[0]
            if isinstance(value, dict):
                value = value.get("message") or value.get("title") or value.get("detail")
            if isinstance(value, str) and value:
                return " ".join(value.split())[:200]
    return str(response.reason or fallback)


def _content_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "no Content-Type").split(";")[0].strip()


def describe_failure(error: BaseException, server: str, url: str, timeout: float) -> str:
    """One line on why a request to ``server`` (a name a person knows: "Keystone", "Glance")
    at ``url`` (the base URL the user configured, not the request's) failed, never a urllib3
    dump and never a request body. ``timeout`` is the seconds the request was allowed.

    The sentence names the server and URL and ends with the reason, so that it reads after a
    prefix such as ``cloud 'x': `` or ``image 'y': ``:

    - ``cannot reach S at URL: connection refused`` (also ``connection reset``, ``the
      connection closed without an answer``, ``TLS error: ...``, ``cannot resolve host
      name 'h'``, or the OS's reason in lower case);
    - ``S at URL did not answer within N s``;
    - ``S at URL answered HTTP 503: message`` for an error answer (an openstacksdk,
      keystoneauth or requests exception that carries one);
    - ``S at URL answered HTTP 200 with text/html, not JSON`` for an answer that is not an
      OpenStack API's;
    - otherwise ``S at URL failed: <exception type>`` (plus its message if that is short and
      not a connection-pool dump).
    """
    response = response_of(error)
    if isinstance(error, keystoneauth1.exceptions.InvalidResponse) and response is not None:
        return (
            f"{server} at {url} answered HTTP {response.status_code} with "
            f"{_content_type(response)}, not JSON"
        )
    status = status_of(error)
    if status is not None:
        fallback = str(getattr(error, "message", "") or type(error).__name__)
        return f"{server} at {url} answered HTTP {status}: {answer_text(response, fallback)}"
    if is_timeout(error):
        return f"{server} at {url} did not answer within {timeout:g} s"
    reason = connection_reason(error)
    if reason is not None:
        return f"cannot reach {server} at {url}: {reason}"
    text = " ".join(str(error).split())
    detail = f": {text}" if text and len(text) < 160 and "Pool(" not in text else ""
    return f"{server} at {url} failed: {type(error).__name__}{detail}"
