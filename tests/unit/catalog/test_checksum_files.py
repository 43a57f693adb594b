"""catalog.checksum_files: GNU and BSD checksum files, sha256 and sha512, read into entries."""

from __future__ import annotations

import hashlib

import pytest

from catalog.checksum_files import (
    ChecksumEntryMissing,
    entry_name,
    parse_checksum_file,
    signed_text,
)
from catalog.model import Checksum, HashAlgorithm

SHA256 = hashlib.sha256(b"disk").hexdigest()
SHA512 = hashlib.sha512(b"disk").hexdigest()
OTHER256 = hashlib.sha256(b"other").hexdigest()
LOCATION = "https://mirror.example/SHA256SUMS"


def lookup(text: str, name: str) -> Checksum:
    return parse_checksum_file(text, LOCATION).lookup(name)


def test_gnu_lines_in_text_and_binary_mode_and_bsd_r_lines() -> None:
    text = f"{SHA256}  text.img\n{OTHER256} *binary.img\n{SHA256} single.img\n"
    assert lookup(text, "text.img") == Checksum(HashAlgorithm.SHA256, SHA256)
    assert lookup(text, "binary.img") == Checksum(HashAlgorithm.SHA256, OTHER256)
    assert lookup(text, "single.img") == Checksum(HashAlgorithm.SHA256, SHA256)


def test_the_algorithm_of_a_gnu_line_is_told_by_the_digest_length() -> None:
    text = f"{SHA512}  disk.qcow2\n"
    assert lookup(text, "disk.qcow2") == Checksum(HashAlgorithm.SHA512, SHA512)


def test_bsd_tagged_lines_of_both_algorithms() -> None:
    text = f"SHA256 (a.qcow2) = {SHA256}\nSHA512 (b.qcow2) = {SHA512.upper()}\n"
    assert lookup(text, "a.qcow2") == Checksum(HashAlgorithm.SHA256, SHA256)
    assert lookup(text, "b.qcow2") == Checksum(HashAlgorithm.SHA512, SHA512)


def test_a_name_with_spaces_and_parentheses_is_read_whole() -> None:
    text = f"SHA256 (my disk (1).img) = {SHA256}\n{OTHER256}  my other disk.img\n"
    assert lookup(text, "my disk (1).img").hexdigest == SHA256
    assert lookup(text, "my other disk.img").hexdigest == OTHER256


def test_escaped_gnu_names_are_unescaped() -> None:
    text = f"\\{SHA256}  back\\\\slash\\nnewline.img\n"
    assert lookup(text, "back\\slash\nnewline.img").hexdigest == SHA256


def test_a_leading_dot_slash_matches_either_way() -> None:
    text = f"{SHA256}  ./disk.img\n"
    assert lookup(text, "disk.img").hexdigest == SHA256
    assert lookup(text, "./disk.img").hexdigest == SHA256


def test_sha512_is_used_when_a_name_is_listed_with_both() -> None:
    text = f"SHA256 (disk.img) = {SHA256}\nSHA512 (disk.img) = {SHA512}\n"
    assert lookup(text, "disk.img").algorithm is HashAlgorithm.SHA512


def test_comments_blank_lines_garbage_and_other_algorithms_are_skipped() -> None:
    md5 = hashlib.md5(b"disk").hexdigest()
    text = (
        "\ufeff# Fedora-Cloud-Base.qcow2: 123 bytes\n\n   \n"
        "<html><body>not found</body></html>\n"
        f"MD5 (disk.img) = {md5}\n{md5}  disk.img\n"
        f"SHA256 (disk.img) = {SHA512}\n"  # a tag that does not fit its digest
        f"\\{SHA256}  bad\\escape.img\n"
        f"{SHA256}  disk.img\r\n"
    )
    checksums = parse_checksum_file(text, LOCATION)
    assert checksums.checksums() == {"disk.img": Checksum(HashAlgorithm.SHA256, SHA256)}
    assert checksums.skipped == 5


def test_every_entry_is_listed_for_tracking_a_release() -> None:
    text = f"{SHA256}  a.img\n{OTHER256}  b.img\nSHA512 (c.img) = {SHA512}\n{SHA256}  a.img\n"
    checksums = parse_checksum_file(text, LOCATION)
    assert checksums.names() == ("a.img", "b.img", "c.img")
    assert checksums.checksums() == {
        "a.img": Checksum(HashAlgorithm.SHA256, SHA256),
        "b.img": Checksum(HashAlgorithm.SHA256, OTHER256),
        "c.img": Checksum(HashAlgorithm.SHA512, SHA512),
    }
    assert [entry.line for entry in checksums.entries] == [1, 2, 3, 4]


def test_a_missing_entry_names_the_file_the_name_and_the_line_formats() -> None:
    text = f"{SHA256}  noble-server-cloudimg-amd64.img\n"
    with pytest.raises(ChecksumEntryMissing) as raised:
        lookup(text, "noble-server-cloudimg-amd64.qcow2")
    assert raised.value.reason == (
        f"checksum file {LOCATION} has no sha256 or sha512 entry for "
        "'noble-server-cloudimg-amd64.qcow2' (expected a line '<sha256 hex>  "
        "noble-server-cloudimg-amd64.qcow2' or 'SHA256 (noble-server-cloudimg-amd64.qcow2) = "
        "<hex>', or the same with sha512); did you mean 'noble-server-cloudimg-amd64.img'? "
        "(source.checksum_name sets the entry)"
    )
    with pytest.raises(ChecksumEntryMissing) as listed:
        lookup(text, "x.iso")
    assert listed.value.reason.endswith("; it lists 'noble-server-cloudimg-amd64.img'")
    many = "".join(f"{SHA256}  {name}.img\n" for name in "abcde")
    with pytest.raises(
        ChecksumEntryMissing, match=r"it lists 'a\.img', 'b\.img', 'c\.img' and 2 more"
    ):
        lookup(many, "x.iso")


def test_a_file_without_any_entry_says_it_may_not_be_a_checksum_file() -> None:
    with pytest.raises(ChecksumEntryMissing, match="no checksum lines at all: is it a checksum"):
        lookup("<html>404</html>\n", "disk.img")


def test_an_entry_listed_twice_with_different_digests_is_refused() -> None:
    text = f"{SHA256}  disk.img\n# again\n{OTHER256}  disk.img\n"
    with pytest.raises(ChecksumEntryMissing, match=r"different sha256 digests \(lines 1 and 3\)"):
        lookup(text, "disk.img")
    assert parse_checksum_file(text, LOCATION).checksums() == {}


def test_a_clear_signed_file_is_read_for_its_signed_text_only() -> None:
    text = (
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
        f"{SHA256}  disk.img\n- -----dash-escaped line\n"
        "-----BEGIN PGP SIGNATURE-----\n\niHUEARYIAB0WIQ\n=7qUq\n-----END PGP SIGNATURE-----\n"
        f"{OTHER256}  appended.img\n"
    )
    assert signed_text(text) == f"{SHA256}  disk.img\n-----dash-escaped line\n"
    assert parse_checksum_file(text, LOCATION).checksums() == {
        "disk.img": Checksum(HashAlgorithm.SHA256, SHA256)
    }


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://h/releases/noble/disk.img", "disk.img"),
        ("https://user:pw@h/a/my%20disk.img?sig=x#frag", "my disk.img"),
        ("https://h/a/", None),
        ("https://h", None),
    ],
)
def test_the_entry_name_is_the_last_path_segment(url: str, name: str | None) -> None:
    assert entry_name(url) == name
