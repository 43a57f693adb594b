"""catalog.openpgp and reconciler.sources.signatures with real keys made by gpg: key files read
offline, signatures verified by gpgv against the trusted key only."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog.openpgp import KeyFileInvalid, read_public_key
from reconciler.sources.signatures import SignatureInvalid, verify_clearsigned, verify_detached
from tests.signing import ExpiredKey, SigningKey

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="needs the system gpg")

DATA = b"0" * 64 + b"  disk.img\n"


def test_armored_and_binary_key_files_give_the_same_key(key: SigningKey) -> None:
    armored = read_public_key(key.public(armored=True))
    binary = read_public_key(key.public(armored=False))
    assert armored == binary
    assert armored.fingerprints == (key.fingerprint,)


def test_a_key_file_with_two_keys_trusts_both(key: SigningKey, stranger: SigningKey) -> None:
    both = read_public_key(key.public() + b"\n" + stranger.public())
    assert both.fingerprints == (key.fingerprint, stranger.fingerprint)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda key: b"", "the file is empty"),
        (lambda key: b"hello, not a key\n", "not OpenPGP data"),
        (lambda key: key.public(armored=False)[:40], "the key data is cut short"),
        (lambda key: key.detached(DATA, armored=True), "an armored signature, not a public key"),
        (lambda key: key.secret(), "it holds a secret key"),
        (lambda key: key.public()[:-30], "the armored key block has no END line"),
    ],
)
def test_what_is_not_a_public_key_is_refused_with_a_reason(
    key: SigningKey, make: Callable[[SigningKey], bytes], reason: str
) -> None:
    with pytest.raises(KeyFileInvalid, match=reason):
        read_public_key(make(key))


def test_a_damaged_armor_is_caught_by_its_crc(key: SigningKey) -> None:
    armored = key.public().decode()
    lines = armored.splitlines()
    body = next(index for index, line in enumerate(lines) if len(line) == 64)
    lines[body] = lines[body][:10] + ("A" if lines[body][10] != "A" else "B") + lines[body][11:]
    with pytest.raises(KeyFileInvalid, match="damaged"):
        read_public_key("\n".join(lines).encode())


@pytest.mark.parametrize("armored", [False, True])
def test_a_good_detached_signature_names_the_trusted_key(key: SigningKey, armored: bool) -> None:
    signature = key.detached(DATA, armored=armored)
    verified = verify_detached(DATA, signature, read_public_key(key.public()))
    assert verified.fingerprint == key.fingerprint
    assert verified.text == DATA


def test_a_further_signature_by_an_unknown_key_does_not_spoil_the_trusted_one(
    key: SigningKey, stranger: SigningKey
) -> None:
    # As Ubuntu's SHA256SUMS.gpg: signed by two keys, of which the key file may hold one.
    both = key.detached(DATA) + stranger.detached(DATA)
    verified = verify_detached(DATA, both, read_public_key(key.public()))
    assert verified.fingerprint == key.fingerprint


def test_a_tampered_file_has_a_bad_signature(key: SigningKey) -> None:
    signature = key.detached(DATA)
    tampered = DATA.replace(b"0", b"1", 1)
    with pytest.raises(SignatureInvalid, match=r"bad signature by key \w+: the file was changed"):
        verify_detached(tampered, signature, read_public_key(key.public()))


def test_a_signature_by_another_key_names_it_and_the_trusted_one(
    key: SigningKey, stranger: SigningKey
) -> None:
    with pytest.raises(SignatureInvalid) as raised:
        verify_detached(DATA, stranger.detached(DATA), read_public_key(key.public()))
    assert raised.value.reason == (
        f"signed by key {stranger.fingerprint}, which is not the trusted key {key.fingerprint}"
    )


def test_what_is_not_a_signature_is_refused(key: SigningKey) -> None:
    with pytest.raises(SignatureInvalid, match="the signature file holds no OpenPGP signature"):
        verify_detached(DATA, b"<html>404</html>", read_public_key(key.public()))


def test_a_sha1_signature_is_refused_although_gpgv_accepts_it(key: SigningKey) -> None:
    signature = key.detached(DATA, digest="SHA1")
    # gpgv 2.2 calls it good; should a later gpgv refuse it itself, it is refused all the same.
    with pytest.raises(SignatureInvalid, match=r"the signature uses SHA-1|cannot be checked"):
        verify_detached(DATA, signature, read_public_key(key.public()))


def test_a_signature_by_an_expired_key_is_refused_although_gpgv_exits_0(
    tmp_path: Path,
) -> None:
    expired = ExpiredKey(tmp_path / "home")
    try:
        signature = expired.detached(DATA)
        with pytest.raises(SignatureInvalid, match=r"signed by key \w+, which has expired"):
            verify_detached(DATA, signature, read_public_key(expired.public()))
    finally:
        expired.close()


def test_a_clear_signed_file_gives_the_signed_text_only(key: SigningKey) -> None:
    signed = key.clearsigned(DATA) + b"1" * 64 + b"  appended-unsigned.img\n"
    verified = verify_clearsigned(signed, read_public_key(key.public()))
    assert verified.text == DATA
    tampered = signed.replace(b"disk.img", b"evil.img")
    with pytest.raises(SignatureInvalid, match="bad signature"):
        verify_clearsigned(tampered, read_public_key(key.public()))


def test_two_clear_signed_messages_in_one_file_are_refused(key: SigningKey) -> None:
    signed = key.clearsigned(DATA) + key.clearsigned(b"1" * 64 + b"  other.img\n")
    with pytest.raises(SignatureInvalid, match="a good signature but also an error"):
        verify_clearsigned(signed, read_public_key(key.public()))


def test_gpgv_leaves_no_file_behind_and_never_reads_the_users_keyring(
    key: SigningKey, stranger: SigningKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stranger's home as the user's: were it read, the stranger's signature would pass.
    monkeypatch.setenv("GNUPGHOME", str(stranger.home))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = sorted(os.listdir(stranger.home))
    with pytest.raises(SignatureInvalid, match="not the trusted key"):
        verify_detached(DATA, stranger.detached(DATA), read_public_key(key.public()))
    assert os.listdir(tmp_path) == []
    assert sorted(os.listdir(stranger.home)) == before


def test_a_missing_gpgv_is_a_clear_error(
    key: SigningKey, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    public = read_public_key(key.public())
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SignatureInvalid, match="gpgv is not installed"):
        verify_detached(DATA, b"x", public)
