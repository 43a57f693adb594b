"""catalog.secrets: ${VAR} references and their expansion, URL and free-text redaction, and the
process-wide registry of secrets; ImageSource's location and fetch_url built on them."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from catalog.errors import GlanceCatalogError
from catalog.model import ImageSource
from catalog.secrets import (
    MIN_SECRET_LENGTH,
    EnvReferenceMalformed,
    EnvVariableNotSet,
    env_references,
    expand_env,
    redact_text,
    redact_url,
    register_secret,
    register_url_secrets,
)


def unique(prefix: str = "s") -> str:
    """A value no other test registers: the registry is process-wide and never forgets."""
    return f"{prefix}{uuid.uuid4().hex}"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@mirror/path?sig=x", "https://***@mirror/path?***"),
        ("https://mirror.example/ubuntu-24.04.qcow2", "https://mirror.example/ubuntu-24.04.qcow2"),
        ("http://127.0.0.1:8080/a/b.img", "http://127.0.0.1:8080/a/b.img"),
        ("https://token@mirror/x", "https://***@mirror/x"),
        ("https://mirror/x.qcow2?X-Amz-Signature=abc&X-Amz-Date=1", "https://mirror/x.qcow2?***"),
        ("https://mirror/x.qcow2?sig=abc#part", "https://mirror/x.qcow2?***"),
        (
            "https://${MIRROR_USER}:${MIRROR_TOKEN}@mirror/${RELEASE}/x.qcow2",
            "https://***@mirror/${RELEASE}/x.qcow2",
        ),
        ("https://mirror/x.qcow2?${SIGNED_QUERY}", "https://mirror/x.qcow2?***"),
        (
            "https://${MIRROR_HOST}/${PATH_PART}/x.qcow2",
            "https://${MIRROR_HOST}/${PATH_PART}/x.qcow2",
        ),
        # An unencoded '@', '?' or '#' in a password still belongs to the userinfo.
        ("https://user:p@ss@mirror/x", "https://***@mirror/x"),
        ("https://user:pa?ss@mirror/x", "https://***@mirror/x"),
        ("https://user:pa#ss@mirror/x", "https://***@mirror/x"),
        # An '@' in the path is not userinfo; empty userinfo and query hide nothing.
        ("https://mirror/~user@home/x", "https://mirror/~user@home/x"),
        ("https://@mirror/x?", "https://@mirror/x?"),
        # Not a URL as written (a typo in the scheme): too much is hidden rather than too little.
        ("htps:/user:pw@mirror/x?sig=1", "***@mirror/x?***"),
        ("user:pw@mirror/x", "***@mirror/x"),
        ("disk.raw", "disk.raw"),
    ],
)
def test_redact_url_hides_userinfo_and_query_and_keeps_the_rest_as_written(
    url: str, shown: str
) -> None:
    assert redact_url(url) == shown
    assert redact_url(shown) == shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "cannot fetch https://alice:pw1@mirror/x.img?sig=abc: connection refused",
            "cannot fetch https://***@mirror/x.img?***: connection refused",
        ),
        (
            "'https://alice:pw1@mirror/x?t=1', 'ftp://bob:pw2@files/y?z=2' and file://u:p@h/z",
            "'https://***@mirror/x?***', 'ftp://***@files/y?***' and file://***@h/z",
        ),
        (
            "(see HTTPS://mirror/x?sig=abc).",
            "(see HTTPS://mirror/x?***).",
        ),
        (
            "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
            "/path/x.img?token=abc (Caused by NewConnectionError('refused'))",
            "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
            "/path/x.img?*** (Caused by NewConnectionError('refused'))",
        ),
        (
            "No connection adapters were found for 's3://key:secret@bucket/x'",
            "No connection adapters were found for 's3://***@bucket/x'",
        ),
        ("no url here: 3 of 4 images, 50% done", "no url here: 3 of 4 images, 50% done"),
        ("https://mirror/x.qcow2 answered HTTP 404", "https://mirror/x.qcow2 answered HTTP 404"),
    ],
)
def test_redact_text_hides_the_credentials_of_every_url_in_free_text(text: str, shown: str) -> None:
    assert redact_text(text) == shown


def test_registered_secrets_are_hidden_anywhere_in_text() -> None:
    secret = unique("tok")
    longer = secret + "-and-more"
    register_secret(secret)
    register_secret(longer)
    register_secret(secret)  # again: a no-op
    assert redact_text(f"a {secret} b {longer} c {secret.upper()}") == (
        f"a *** b *** c {secret.upper()}"
    )


def test_values_shorter_than_the_minimum_are_not_registered() -> None:
    short = "x" * (MIN_SECRET_LENGTH - 1)
    register_secret(short)
    register_secret("")
    assert redact_text(f"1 {short} 2") == f"1 {short} 2"
    # Within a URL they are hidden all the same.
    assert redact_text(f"https://u:{short}@h/x") == "https://***@h/x"


def test_the_registry_is_shared_by_threads_and_safe_to_fill_concurrently() -> None:
    values = [unique(f"t{index}-") for index in range(200)]

    def register(part: list[str]) -> None:
        for value in part:
            register_secret(value)

    threads = [threading.Thread(target=register, args=(values[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    text = " ".join(values)
    assert redact_text(text) == " ".join(["***"] * len(values))


def test_register_url_secrets_takes_userinfo_password_and_query_in_both_encodings() -> None:
    user, password, signature = unique("user"), unique("p%40ss"), unique("sig")
    register_url_secrets(f"https://{user}:{password}@mirror/x?X-Amz-Signature={signature}")
    decoded = password.replace("%40", "@")
    text = (
        f"{user}:{password} | {password} | {decoded} | "
        f"X-Amz-Signature={signature} | /x?X-Amz-Signature={signature}"
    )
    assert redact_text(text) == "*** | *** | *** | *** | /x?***"
    # The user name alone is not a secret: only the whole userinfo and the password are.
    assert redact_text(f"hello {user}") == f"hello {user}"


def test_redact_text_is_cheap_enough_for_every_output_line() -> None:
    for _ in range(50):
        register_secret(unique("bulk"))
    lines = [f"ubuntu-{index}: upload 1.2 GiB in 10.0 s (120 MiB/s)" for index in range(20_000)]
    lines += [f"cannot fetch https://u:p@mirror/{index}?sig=x" for index in range(5_000)]
    started = time.perf_counter()
    for line in lines:
        redact_text(line)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("text", "references"),
    [
        ("https://mirror/x.qcow2", []),
        (
            "https://${MIRROR_USER}:${MIRROR_TOKEN}@mirror/x?${Q}",
            [("MIRROR_USER", 8), ("MIRROR_TOKEN", 23), ("Q", 48)],
        ),
        ("${_A1}${_A1}", [("_A1", 0), ("_A1", 6)]),
        # $${ is the escape for a literal ${; $NAME without braces is not a reference.
        ("https://mirror/$${NOT}/$HOME/${YES}", [("YES", 29)]),
        ("$$${X}", []),
        ("a$b$$c}", []),
    ],
)
def test_env_references_names_every_reference_with_its_offset(
    text: str, references: list[tuple[str, int]]
) -> None:
    assert env_references(text) == references


@pytest.mark.parametrize(
    ("text", "offset", "reason"),
    [
        ("https://mirror/${", 15, "'${' at character 16 is not closed by '}'"),
        ("https://${A}/${B", 13, "'${' at character 14 is not closed by '}'"),
        ("${}", 0, "'${}' at character 1 names no variable"),
        ("x${1X}", 1, "'${1X}' at character 2 is not a variable name: it starts with a digit"),
        (
            "${TOKEN:-default}",
            0,
            "'${TOKEN...}' at character 1: only ${NAME} is supported "
            "(no defaults or other shell forms)",
        ),
        (
            "https://u:${pa ss}@h",
            10,
            "'${' at character 11 must be followed by a variable name (letters, digits and _, "
            "not starting with a digit) and '}'",
        ),
    ],
)
def test_a_malformed_reference_is_an_error_at_its_offset_that_quotes_no_value(
    text: str, offset: int, reason: str
) -> None:
    with pytest.raises(EnvReferenceMalformed) as raised:
        env_references(text)
    assert (raised.value.offset, raised.value.reason) == (offset, reason)
    assert isinstance(raised.value, GlanceCatalogError)
    with pytest.raises(EnvReferenceMalformed):
        expand_env(text, {"A": "a", "B": "b", "TOKEN": "t"})


def test_expand_env_replaces_references_and_escapes_only() -> None:
    environ = {"USER": "alice", "TOKEN": "${NOT_AGAIN}$$", "EMPTY": ""}
    assert (
        expand_env("https://${USER}:${TOKEN}@h/$${X}/$USER/${EMPTY}x", environ)
        == "https://alice:${NOT_AGAIN}$$@h/${X}/$USER/x"
    )
    assert expand_env("https://mirror/a$b", {}) == "https://mirror/a$b"


def test_a_missing_variable_is_an_error_naming_it() -> None:
    with pytest.raises(EnvVariableNotSet) as raised:
        expand_env("https://${SET}@h/${MIRROR_TOKEN}", {"SET": "x"})
    assert raised.value.name == "MIRROR_TOKEN"
    assert raised.value.lines == ("environment variable 'MIRROR_TOKEN' is not set",)
    assert isinstance(raised.value, GlanceCatalogError)


def test_an_image_source_keeps_the_url_as_written_and_shows_it_redacted() -> None:
    written = "https://${MIRROR_USER}:${MIRROR_TOKEN}@mirror/x.qcow2?${SIGNED}"
    source = ImageSource(url=written, file=None, checksum=None)
    assert source.url == written
    assert source.location == "https://***@mirror/x.qcow2?***"
    literal = ImageSource(url="https://bob:hunter22@mirror/x?sig=1", file=None, checksum=None)
    assert literal.location == "https://***@mirror/x?***"
    assert ImageSource(url=None, file=Path("/d/x.raw"), checksum=None).location == "/d/x.raw"
    with pytest.raises(FrozenInstanceError):
        source.url = "https://other/"  # type: ignore[misc]


def test_fetch_url_expands_and_registers_what_it_expanded() -> None:
    user, token, signed, release = unique("u"), unique("t"), unique("X-Sig="), unique("r")
    environ = {"MIRROR_USER": user, "MIRROR_TOKEN": token, "SIGNED": signed, "RELEASE": release}
    source = ImageSource(
        url="https://${MIRROR_USER}:${MIRROR_TOKEN}@mirror/${RELEASE}/x?${SIGNED}",
        file=None,
        checksum=None,
    )
    fetched = source.fetch_url(environ)
    assert fetched == f"https://{user}:{token}@mirror/{release}/x?{signed}"
    # Every referenced value is a secret, wherever it shows up (a urllib3 message, a reason).
    assert redact_text(f"{user} {token} {signed} {release} {fetched}") == (
        "*** *** *** *** https://***@mirror/***/x?***"
    )
    assert source.location == "https://***@mirror/${RELEASE}/x?***"


def test_fetch_url_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    token = unique("env")
    monkeypatch.setenv("GC_TEST_TOKEN", token)
    source = ImageSource(url="https://mirror/x?token=${GC_TEST_TOKEN}", file=None, checksum=None)
    assert source.fetch_url() == f"https://mirror/x?token={token}"
    monkeypatch.delenv("GC_TEST_TOKEN")
    with pytest.raises(EnvVariableNotSet, match="'GC_TEST_TOKEN' is not set"):
        source.fetch_url()


def test_fetch_url_registers_literal_credentials_too() -> None:
    password, signature = unique("pw"), unique("sig")
    source = ImageSource(
        url=f"https://bob:{password}@mirror/x?sig={signature}", file=None, checksum=None
    )
    assert source.fetch_url({}) == source.url
    # The query is one secret, the signature with its name.
    assert redact_text(f"auth failed for {password}; sig={signature}") == (
        "auth failed for ***; ***"
    )


def test_a_file_source_has_no_url_to_fetch() -> None:
    with pytest.raises(ValueError, match="no URL"):
        ImageSource(url=None, file=Path("/d/x.raw"), checksum=None).fetch_url({})
