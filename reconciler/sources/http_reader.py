"""The reader of ``http`` and ``https`` sources, and the GET every other download of ours
(checksum files, signatures, release indexes) goes through."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
import urllib3

from catalog.errors import GlanceCatalogError
from catalog.model import ImageSource
from reconciler.errors import SourceError
from reconciler.failures import failure_reason, is_timeout
from reconciler.retry import SOURCE_TRANSIENT
from reconciler.sources.reading import CHUNK_SIZE, SourceBytes

CONNECT_TIMEOUT = 10.0


class HttpReader:
    """GETs the source's URL, its ``${VAR}`` expanded."""

    @contextmanager
    def open(self, source: ImageSource, image: str, timeout: float) -> Iterator[SourceBytes]:
        response = _get(source, image, timeout)
        with response:
            length = response.headers.get("Content-Length")
            yield SourceBytes(
                _url_chunks(response, image, source.location, timeout),
                int(length) if length and length.isdigit() else None,
            )

    def probe(self, source: ImageSource, image: str, timeout: float) -> None:
        """The URL answers a one-byte ranged GET (a HEAD is not used: signed URLs are often
        signed for GET only)."""
        response = _get(source, image, timeout, headers={"Range": "bytes=0-0"})
        response.close()

    @contextmanager
    def document(self, url: str, location: str, timeout: float) -> Iterator[Iterator[bytes]]:
        response = http_get(url, location, timeout)
        with response:
            yield _document_chunks(response, location, timeout)


def _document_chunks(response: requests.Response, location: str, timeout: float) -> Iterator[bytes]:
    try:
        # Content-Encoding undone: a signature is of the file, not of its transfer.
        yield from response.iter_content(CHUNK_SIZE)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
        # A stall is not tried again (as for image sources): each try would cost a timeout.
        raise SourceError(
            f"reading {location} failed: {failure_reason(error, timeout)}",
            transient=not is_timeout(error),
        ) from error


def _url_chunks(
    response: requests.Response, image: str, url: str, timeout: float
) -> Iterator[bytes]:
    expected = response.headers.get("Content-Length")
    received = 0
    try:
        # The bytes as served: a Content-Encoding is not undone, as the checksum is of the file.
        for chunk in response.raw.stream(CHUNK_SIZE, decode_content=False):
            received += len(chunk)
            yield chunk
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as error:
        # Not tried again: a source that stalled once tends to stall again, and each try
        # would cost another full timeout.
        raise SourceError(
            f"image '{image}': {url} sent no data for {timeout:g} s after {received} bytes "
            "(--timeout); not retried"
        ) from error
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
        raise SourceError(
            f"image '{image}': reading {url} failed after {received} bytes: "
            f"{failure_reason(error, timeout)}",
            transient=True,
        ) from error
    if expected is not None and expected.isdigit() and received != int(expected):
        raise SourceError(
            f"image '{image}': {url} ended after {received} of {expected} bytes", transient=True
        )


def fetch_url(source: ImageSource) -> str:
    """The URL to fetch, its ${VAR} expanded; a variable that is unset (it was set when the
    manifest was validated) is a SourceError rather than a crash."""
    try:
        return source.fetch_url()
    except GlanceCatalogError as error:
        raise SourceError(f"source {source.location}: {' '.join(error.lines)}") from error


def _get(
    source: ImageSource,
    image: str,
    timeout: float,
    headers: dict[str, str] | None = None,
) -> Any:
    return http_get(fetch_url(source), source.location, timeout, headers, f"image '{image}': ")


def http_get(
    url: str,
    location: str,
    timeout: float,
    headers: dict[str, str] | None = None,
    prefix: str = "",
) -> Any:
    """The streamed answer of a GET of ``url`` (expanded, its secrets registered), 200 or 206;
    raises SourceError (``transient`` when trying again may help) naming ``location`` (what
    to call it in messages, its URL redacted) after ``prefix``."""
    try:
        response = requests.get(
            url,
            stream=True,
            timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
            headers=headers,
        )
    except (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL) as error:
        # Also a redirect to file:// or ftp://: the same every time, so not tried again.
        raise SourceError(
            f"{prefix}cannot fetch {location}: it leads to a URL that is not http(s) ({error})"
        ) from error
    except requests.exceptions.TooManyRedirects as error:
        raise SourceError(f"{prefix}cannot fetch {location}: too many redirects") from error
    except requests.exceptions.Timeout as error:
        raise SourceError(
            f"{prefix}cannot fetch {location}: no answer within {timeout:g} s",
            transient=isinstance(error, requests.exceptions.ConnectTimeout),
        ) from error
    except requests.RequestException as error:
        raise SourceError(
            f"{prefix}cannot fetch {location}: {failure_reason(error, timeout)}",
            transient=True,
        ) from error
    if response.status_code not in (200, 206):
        response.close()
        raise SourceError(
            f"{prefix}{location} answered HTTP {response.status_code}",
            transient=response.status_code in SOURCE_TRANSIENT,
        )
    return response
