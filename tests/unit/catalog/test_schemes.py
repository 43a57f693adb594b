"""catalog.schemes and reconciler.sources.readers: one table of source schemes, from which the
schema's URL patterns, their error message and the redaction of URLs derive, and a reader for
each scheme of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog.model import ImageSource
from catalog.schema import load_schema
from catalog.schemes import (
    SOURCE_SCHEMES,
    URL_PATTERN,
    URL_SCHEME_RULE,
    URL_SCHEMES,
    source_scheme,
    with_url_patterns,
)
from catalog.secrets import redact_text
from reconciler.errors import SourceError
from reconciler.sources.file_reader import FileReader
from reconciler.sources.http_reader import HttpReader
from reconciler.sources.readers import READER_BY_SCHEME, document_reader, reader_for


def test_every_scheme_of_the_table_has_a_reader_and_every_reader_a_scheme() -> None:
    assert sorted(READER_BY_SCHEME) == sorted(scheme.name for scheme in SOURCE_SCHEMES)


def test_the_schema_file_holds_the_url_patterns_the_table_gives() -> None:
    schema = load_schema()
    # Regenerate with: python -m catalog.schemes schemas/catalog-v1.json
    assert with_url_patterns(schema) == schema
    patterns = re.findall(r"'pattern': '([^']*://)'", str(schema))
    assert len(patterns) == 7 and set(patterns) == {URL_PATTERN}


def test_the_url_pattern_takes_the_url_schemes_in_any_case_and_nothing_else() -> None:
    pattern = re.compile(URL_PATTERN)
    assert URL_SCHEMES == ("http", "https")
    for url in ("http://h/x", "https://h/x", "HTTPS://h/x", "hTtP://h/x"):
        assert pattern.search(url), url
    for url in ("ftp://h/x", "file:///x", "httpx://h/x", "s3://b/x", " https://h/x", "/x"):
        assert not pattern.search(url), url
    assert URL_SCHEME_RULE == "the URL scheme must be http or https"


@pytest.mark.parametrize("scheme", [*URL_SCHEMES, "ftp", "file", "HTTPS"])
def test_text_redaction_hides_the_userinfo_and_query_of_every_url_scheme(scheme: str) -> None:
    text = f"GET {scheme}://someone:hunter22@mirror/x.img?sig=abcdef failed."
    assert redact_text(text) == f"GET {scheme}://***@mirror/x.img?*** failed."


def test_a_source_is_read_by_the_reader_of_its_scheme(tmp_path: Path) -> None:
    file = ImageSource(url=None, file=tmp_path / "disk.raw", checksum=None)
    assert source_scheme(file.url, file.file) == "file"
    assert isinstance(reader_for(file, "img"), FileReader)
    for url in ("http://h/x", "HTTPS://h/x"):
        assert isinstance(
            reader_for(ImageSource(url=url, file=None, checksum=None), "img"), HttpReader
        )
    with pytest.raises(SourceError, match="image 'img': no reader for ftp: sources"):
        reader_for(ImageSource(url="ftp://h/x", file=None, checksum=None), "img")


def test_a_document_is_read_by_the_reader_of_its_urls_scheme() -> None:
    assert isinstance(document_reader("HTTPS://h/SHA256SUMS", "checksum file"), HttpReader)
    with pytest.raises(SourceError, match="cannot fetch checksum file: no reader for ftp: URLs"):
        document_reader("ftp://h/SHA256SUMS", "checksum file")
