"""The readers of source schemes: the one place that maps a scheme of catalog.schemes to the
code that opens it. A new scheme is a reader module and one line here (and one in the
catalog's table)."""

from __future__ import annotations

from catalog.model import ImageSource
from catalog.schemes import source_scheme, url_scheme
from reconciler.errors import SourceError
from reconciler.sources.file_reader import FileReader
from reconciler.sources.http_reader import HttpReader
from reconciler.sources.reading import SourceReader

READER_BY_SCHEME: dict[str, SourceReader] = {
    "file": FileReader(),
    "http": HttpReader(),
    "https": HttpReader(),
}


def reader_for(source: ImageSource, image: str) -> SourceReader:
    """The reader of the source's scheme; a scheme without one (the manifest's validation
    lets none through) is a SourceError."""
    scheme = source_scheme(source.url, source.file)
    reader = READER_BY_SCHEME.get(scheme)
    if reader is None:
        raise SourceError(f"image '{image}': no reader for {scheme}: sources ({source.location})")
    return reader


def document_reader(url: str, location: str) -> SourceReader:
    """The reader of the scheme of ``url`` (a checksum file's, a signature's, an index's); a
    scheme without one is a SourceError naming ``location``."""
    reader = READER_BY_SCHEME.get(url_scheme(url))
    if reader is None:
        raise SourceError(f"cannot fetch {location}: no reader for {url_scheme(url)}: URLs")
    return reader
