"""reconciler.failures: why a request got no answer, in a few words, from whatever exception
keystoneauth, requests, urllib3 or the OS raised and whatever it wraps."""

from __future__ import annotations

import socket

import requests

from reconciler.failures import causes, failure_reason, is_timeout


def wrapped(inner: BaseException) -> requests.ConnectionError:
    """``inner`` as requests hands it over: an argument of its error, not its cause."""
    return requests.ConnectionError(OSError("urllib3 says"), inner)


def test_a_timeout_anywhere_in_the_chain_is_no_answer_within_the_timeout() -> None:
    try:
        try:
            raise TimeoutError("read")
        except TimeoutError as error:
            raise requests.ConnectionError("wrapped") from error
    except requests.ConnectionError as error:
        assert is_timeout(error)
        assert failure_reason(error, 2.5) == "no answer within 2.5 s"


def test_refused_and_reset_connections_are_named_from_what_requests_wraps() -> None:
    assert failure_reason(wrapped(ConnectionRefusedError()), 5) == "connection refused"
    assert failure_reason(wrapped(ConnectionResetError()), 5) == "connection reset"


def test_an_unknown_host_names_the_host() -> None:
    error = requests.ConnectionError(
        "HTTPSConnectionPool(host='glance.invalid', port=443)", socket.gaierror(-2, "unknown")
    )
    assert failure_reason(error, 5) == "cannot resolve host name 'glance.invalid'"


def test_what_is_no_connection_failure_is_named_by_its_type() -> None:
    assert failure_reason(ValueError("x"), 5) == "ValueError"
    assert not is_timeout(ValueError("x"))


def test_causes_follow_cause_context_and_arguments_each_once() -> None:
    inner = ConnectionResetError()
    outer = requests.ConnectionError(inner, inner)
    outer.__cause__ = inner
    assert list(causes(outer)) == [outer, inner]
