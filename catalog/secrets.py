"""Secrets in source URLs: ``${VAR}`` references, their expansion, and redaction for display.

A manifest keeps credentials out of Git by naming environment variables in a source URL:
``https://${MIRROR_USER}:${MIRROR_TOKEN}@mirror/x.qcow2`` or ``https://mirror/x?${SIGNED}``.
Nothing glance-catalog prints, saves or reports may show a credential, whether written in the
manifest or expanded from the environment:

- ``redact_url`` hides a URL's userinfo and query string; all else stays as written.
- ``register_secret`` remembers a value that must never be shown, and ``redact_text`` hides
  every remembered value and the userinfo and query of every URL in free text (such as the
  error messages of the libraries that fetch, which quote the expanded URL).

Reference syntax: ``${NAME}``, NAME being ``[A-Za-z_][A-Za-z0-9_]*``; ``$${`` stands for a
literal ``${``; every other ``$`` is literal (``$NAME`` without braces is not expanded), so a
URL without ``${`` means exactly what it says. There are no defaults (``${NAME:-x}``) or other
shell forms. A literal ``$`` directly before a reference cannot be written (``$${`` is the
escape): put it into the variable's value instead.

Pure apart from the secret registry, which is process-wide (a secret learnt in one worker
thread must be hidden in every line any thread prints) and guarded by a lock.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from urllib.parse import quote, unquote

from catalog.errors import GlanceCatalogError
from catalog.schemes import QUOTED_SCHEMES, URL_SCHEMES, schemes_pattern

REDACTED = "***"
# Shorter values are not registered: replacing every "1" or "ab" in all output would wreck
# it, and the gaps left would spell out where (and so what) the secret is.
MIN_SECRET_LENGTH = 4


class EnvReferenceMalformed(GlanceCatalogError):
    """A ``${`` that does not start a well-formed ``${NAME}``; ``offset`` is the 0-based index
    of its ``$`` in the text and ``reason`` says what is wrong without quoting the text
    around it (which may be a literal credential)."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


class EnvVariableNotSet(GlanceCatalogError):
    """A referenced environment variable is not set; ``name`` names it."""

    def __init__(self, name: str) -> None:
        super().__init__(f"environment variable '{name}' is not set")
        self.name = name


# --- ${VAR} references ---------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPENING = re.compile(r"\$?\$\{")  # "${" starts a reference, "$${" is the escape
_ECHOABLE = re.compile(r"[A-Za-z0-9_]{1,64}")


def _scan(text: str) -> Iterator[tuple[int, int, str | None]]:
    """(start, end, name) of every reference and (start, end, None) of every ``$${``, in
    order; raises EnvReferenceMalformed at the first malformed reference."""
    position = 0
    while (match := _OPENING.search(text, position)) is not None:
        if match.group() == "$${":
            yield match.start(), match.end(), None
            position = match.end()
            continue
        start, inner = match.start(), match.end()
        close = text.find("}", inner)
        if close == -1:
            raise EnvReferenceMalformed(
                start, f"'${{' at character {start + 1} is not closed by '}}'"
            )
        name = text[inner:close]
        if not _NAME.fullmatch(name):
            raise EnvReferenceMalformed(start, _malformed_reason(start, name))
        yield start, close + 1, name
        position = close + 1


def _malformed_reason(start: int, name: str) -> str:
    where = f"at character {start + 1}"
    if not name:
        return f"'${{}}' {where} names no variable"
    # Only a plain word is quoted back: that is a mistyped name, whereas other text between
    # the braces may be part of a credential written in the url.
    if _ECHOABLE.fullmatch(name):
        return f"'${{{name}}}' {where} is not a variable name: it starts with a digit"
    prefix = _NAME.match(name)
    if prefix is not None and name[prefix.end()] in ":-=?+":
        return (
            f"'${{{prefix.group()}...}}' {where}: only ${{NAME}} is supported "
            "(no defaults or other shell forms)"
        )
    return (
        f"'${{' {where} must be followed by a variable name (letters, digits and _, "
        "not starting with a digit) and '}'"
    )


def env_references(text: str) -> list[tuple[str, int]]:
    """The variables ``text`` references, as (name, 0-based offset of its ``$``), in order and
    with repeats; ``$${`` escapes are not references. Raises EnvReferenceMalformed at the first
    malformed reference."""
    return [(name, start) for start, _, name in _scan(text) if name is not None]


def expand_env(text: str, environ: Mapping[str, str]) -> str:
    """``text`` with every ``${NAME}`` replaced by ``environ[NAME]`` and every ``$${`` by
    ``${``. A value is inserted as it is (never expanded again). Raises EnvVariableNotSet for
    the first variable that ``environ`` lacks (an empty value counts as set) and
    EnvReferenceMalformed for a malformed reference."""
    parts: list[str] = []
    position = 0
    for start, end, name in _scan(text):
        parts.append(text[position:start])
        if name is None:
            parts.append("${")
        elif name in environ:
            parts.append(environ[name])
        else:
            raise EnvVariableNotSet(name)
        position = end
    parts.append(text[position:])
    return "".join(parts)


# --- Redaction -----------------------------------------------------------------------------

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# URLs in free text whose userinfo and query are hidden; a URL ends at whitespace, a quote or
# an angle bracket, and punctuation that ends a sentence or a parenthesis is not part of it.
_TEXT_URL = re.compile(rf"\b{schemes_pattern((*URL_SCHEMES, *QUOTED_SCHEMES))}://[^\s'\"<>`]+")
_TRAILING = re.compile(r"[.,;:!?)\]]+$")
# urllib3 names the request target without scheme and host: "... with url: /path?token=abc".
_PATH_URL = re.compile(r"(?<=url: )/[^\s'\"<>`]*")
# Userinfo of a URL of any other scheme (s3://key:secret@bucket/...).
_USERINFO = re.compile(r"(?<=://)[^\s/'\"<>`]+@")

_lock = threading.Lock()
_secrets: set[str] = set()
# Longest first, so that a secret containing another is hidden whole rather than in part.
# Replaced as a whole under the lock; readers take the current tuple without locking.
_ordered: tuple[str, ...] = ()


def register_secret(value: str) -> None:
    """Hide ``value`` from now on in everything ``redact_text`` sees, in every thread.

    Values shorter than MIN_SECRET_LENGTH characters are ignored: replacing every occurrence
    of one or two characters would make all output unreadable, and which characters went
    missing would give the secret away. (Within URLs they are hidden anyway: ``redact_url``
    hides the whole userinfo and query.)
    """
    global _ordered
    if len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        _ordered = tuple(sorted(_secrets, key=lambda secret: (-len(secret), secret)))


def register_url_secrets(url: str) -> None:
    """Register the userinfo, the password and the query string of ``url`` (the expanded URL
    that is fetched), each also percent-decoded, since libraries print either form."""
    start, at, query = _url_parts(url)
    found: list[str] = []
    if at > start:
        userinfo = url[start:at]
        found.append(userinfo)
        _user, colon, password = userinfo.partition(":")
        if colon:
            found.append(password)
    if query != -1 and query + 1 < len(url):
        found.append(url[query + 1 :])
    for value in found:
        register_secret(value)
        register_secret(unquote(value))


def register_value_secret(value: str) -> None:
    """Register ``value`` (a variable's value spliced into a URL) and its percent-encoded
    form, the way a library may print it in the URL it requests."""
    register_secret(value)
    register_secret(quote(value, safe=""))


def _url_parts(url: str) -> tuple[int, int, int]:
    """(where the authority starts, the index of the '@' that ends the userinfo or -1, the
    index of the '?' that starts the query or -1).

    The userinfo ends at the last '@' before the first '/' after the scheme, so that a '?' or
    '#' left unencoded in a password is still taken as part of it. Text without a
    ``scheme://`` is not a URL as written, perhaps one with a typo: everything before its last
    '@' up to the first '?' is taken as userinfo, to hide too much rather than too little.
    """
    scheme = _SCHEME.match(url)
    if scheme is not None:
        start = scheme.end()
        slash = url.find("/", start)
        at = url.rfind("@", start, slash if slash != -1 else len(url))
    else:
        start = 0
        question = url.find("?")
        at = url.rfind("@", 0, question if question != -1 else len(url))
    query = url.find("?", at + 1 if at != -1 else start)
    return start, at, query


def redact_url(url: str) -> str:
    """``url`` with its userinfo and its query string (with any fragment after it) each shown
    as ``***``: ``https://user:pw@mirror/path?sig=x`` gives ``https://***@mirror/path?***``.
    Everything else stays as written, ``${VAR}`` references included; a URL without userinfo
    or query is returned unchanged."""
    start, at, query = _url_parts(url)
    redacted = url
    if query != -1 and query + 1 < len(url):
        redacted = redacted[: query + 1] + REDACTED
    if at > start:
        redacted = redacted[:start] + REDACTED + redacted[at:]
    return redacted


def _redact_text_url(match: re.Match[str]) -> str:
    found = match.group()
    trailing = _TRAILING.search(found)
    if trailing is None:
        return redact_url(found)
    return redact_url(found[: trailing.start()]) + trailing.group()


def _redact_path_url(match: re.Match[str]) -> str:
    target = match.group()
    query = target.find("?")
    if query == -1 or query + 1 == len(target):
        return target
    return target[: query + 1] + REDACTED


def redact_text(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``, and the userinfo and query
    of every http, https, ftp and file URL in it (and of a urllib3 ``url: /path?query``), and
    the userinfo of a URL of any other scheme, hidden. Cheap enough for every output line:
    text with neither a registered secret nor a URL is returned after a few substring tests."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "://" in text:
        text = _TEXT_URL.sub(_redact_text_url, text)
        text = _USERINFO.sub(REDACTED + "@", text)
    if "url: /" in text:
        text = _PATH_URL.sub(_redact_path_url, text)
    return text
