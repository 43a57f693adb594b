"""The one exception type for expected failures: the CLI turns it into exit 1 and clear lines."""

from __future__ import annotations


class GlanceCatalogError(Exception):
    """An expected failure, caused by input or by the cloud, shown without a traceback.

    ``lines`` are the complete, self-explanatory messages to print, one per line.
    """

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines: tuple[str, ...] = lines
