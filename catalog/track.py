"""Following upstream releases: the version a template marks, and which version is newest.
Pure; fetching the index and the checksum files is the reconciler's
(reconciler.sources.upstream)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

VERSION_PLACEHOLDER = "{version}"
# What a version label may be (the schema's version pattern).
_LABEL = r"[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}"


def template_pattern(template: str) -> re.Pattern[str]:
    """A pattern that fully matches ``template`` with ``{version}`` standing for a label (the
    ``version`` group); the rest of the template is literal."""
    before, marker, after = template.partition(VERSION_PLACEHOLDER)
    if not marker:
        return re.compile(re.escape(template))
    return re.compile(re.escape(before) + f"(?P<version>{_LABEL}?)" + re.escape(after))


def versions_in(names: Iterable[str], template: str) -> set[str]:
    """The labels of the names that ``template`` (holding ``{version}``) matches."""
    pattern = template_pattern(template)
    found = set()
    for name in names:
        match = pattern.fullmatch(name)
        if match is not None:
            found.add(match.group("version"))
    return found


def version_key(label: str) -> tuple[tuple[int, int, str], ...]:
    """Orders labels as people read them: 24.04.10 after 24.04.9, 20240701 after 20240601."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.findall(r"\d+|\D+", label)
    )


def newest(labels: Iterable[str]) -> str | None:
    return max(labels, key=version_key, default=None)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.targets += [value for name, value in attrs if name == "href" and value]


def index_entries(text: str) -> list[str]:
    """The names a release index lists: the last path segment of each link of an HTML page
    (a web server's folder listing), or each word of a plain-text one."""
    parser = _Links()
    parser.feed(text)
    parser.close()
    targets = parser.targets or text.split()
    names = []
    for target in targets:
        path = target.split("?", 1)[0].split("#", 1)[0].rstrip("/")
        if path:
            names.append(path.rsplit("/", 1)[-1])
    return names


def segment_with_version(url: str) -> str | None:
    """The path segment of ``url`` that holds ``{version}`` (``release-{version}``), or None."""
    for segment in url.split("?", 1)[0].split("/"):
        if VERSION_PLACEHOLDER in segment:
            return segment
    return None
