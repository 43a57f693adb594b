"""OpenPGP public key files (a manifest's ``signing_key``): armor removed, packets walked, primary
key fingerprints computed. Pure, and enough to check a key file offline at validate time and
to hand gpgv the binary keyring it needs; verifying signatures is gpgv's job
(reconciler.sources.signatures), not this module's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from catalog.errors import GlanceCatalogError

_ARMOR_BEGIN = "-----BEGIN PGP "
_ARMOR_END = "-----END PGP "
_PUBLIC_BLOCK = "PUBLIC KEY BLOCK-----"
_PUBLIC_KEY, _PUBLIC_SUBKEY, _SECRET_KEY, _SECRET_SUBKEY = 6, 14, 5, 7
_SECRET_KEY_FOUND = "it holds a secret key, which has no place in a repository"
_CRC24_INIT, _CRC24_POLY = 0xB704CE, 0x1864CFB
# The prefix octet of the fingerprint hash, and the hash, by key packet version (RFC 9580).
_FINGERPRINTS = {4: (b"\x99", 2, "sha1"), 5: (b"\x9a", 4, "sha256"), 6: (b"\x9b", 4, "sha256")}


class KeyFileInvalid(GlanceCatalogError):
    """The bytes are not an OpenPGP public key; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PublicKey:
    """An OpenPGP public key file: ``packets`` the binary (unarmored) packets, which gpgv takes
    as a keyring, and ``fingerprints`` the upper-case hex fingerprints of its primary keys, in
    file order (at least one)."""

    packets: bytes
    fingerprints: tuple[str, ...]


def read_public_key(data: bytes) -> PublicKey:
    """The key in ``data``, ASCII-armored or binary; raises KeyFileInvalid when it is not an
    OpenPGP public key (a secret key included: only a public key belongs in a repository)."""
    packets = _dearmor(data) if data.lstrip().startswith(_ARMOR_BEGIN.encode()) else data
    if not packets:
        raise KeyFileInvalid("the file is empty")
    fingerprints: list[str] = []
    for tag, body in _packets(packets):
        if tag in (_SECRET_KEY, _SECRET_SUBKEY):
            raise KeyFileInvalid(_SECRET_KEY_FOUND)
        if tag == _PUBLIC_KEY:
            fingerprints.append(_fingerprint(body))
    if not fingerprints:
        raise KeyFileInvalid("it holds no OpenPGP public key")
    return PublicKey(packets, tuple(fingerprints))


def _dearmor(data: bytes) -> bytes:
    """The packets of every armored block in ``data``, concatenated."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as error:
        raise KeyFileInvalid(f"the armored key has a non-ASCII byte at {error.start}") from error
    lines = iter(line.strip() for line in text.splitlines())
    decoded = b""
    for line in lines:
        if not line.startswith(_ARMOR_BEGIN):
            continue
        if line.removeprefix(_ARMOR_BEGIN) == "PRIVATE KEY BLOCK-----":
            raise KeyFileInvalid(_SECRET_KEY_FOUND)
        if line.removeprefix(_ARMOR_BEGIN) != _PUBLIC_BLOCK:
            kind = line.removeprefix(_ARMOR_BEGIN).removesuffix("-----").lower()
            raise KeyFileInvalid(f"it is an armored {kind}, not a public key block")
        decoded += _armored_block(lines)
    return decoded


def _armored_block(lines: Iterator[str]) -> bytes:
    block: list[str] = []
    for line in lines:
        if line.startswith(_ARMOR_END):
            break
        block.append(line)
    else:
        raise KeyFileInvalid("the armored key block has no END line")
    # Armor headers ("Comment: ...") hold a ':', which base64 never does.
    body = [line for line in block if line and ":" not in line]
    checksum = body.pop()[1:] if body and body[-1].startswith("=") else None
    try:
        packets = base64.b64decode("".join(body), validate=True)
        crc = base64.b64decode(checksum, validate=True) if checksum else None
    except binascii.Error as error:
        raise KeyFileInvalid("the armored key block is not valid base64") from error
    if crc is not None and int.from_bytes(crc, "big") != _crc24(packets):
        raise KeyFileInvalid("the armored key block is damaged (its CRC does not match)")
    return packets


def _crc24(data: bytes) -> int:
    crc = _CRC24_INIT
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= _CRC24_POLY
    return crc & 0xFFFFFF


def _packets(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(tag, body) of every packet (RFC 9580 section 4.2, old and new formats)."""
    offset = 0
    while offset < len(data):
        first = data[offset]
        if not first & 0x80:
            raise KeyFileInvalid(f"not OpenPGP data (byte {offset} starts no packet)")
        if first & 0x40:
            tag, (length, offset) = first & 0x3F, _new_length(data, offset + 1)
        else:
            tag, (length, offset) = (first >> 2) & 0x0F, _old_length(data, offset, first & 0x03)
        if offset + length > len(data):
            raise KeyFileInvalid("the key data is cut short")
        yield tag, data[offset : offset + length]
        offset += length


def _new_length(data: bytes, offset: int) -> tuple[int, int]:
    if offset >= len(data):
        raise KeyFileInvalid("the key data is cut short")
    octet = data[offset]
    if octet < 192:
        return octet, offset + 1
    if octet < 224 and offset + 1 < len(data):
        return ((octet - 192) << 8) + data[offset + 1] + 192, offset + 2
    if octet == 255 and offset + 4 < len(data):
        return int.from_bytes(data[offset + 1 : offset + 5], "big"), offset + 5
    # Partial body lengths are for data packets, never for keys.
    raise KeyFileInvalid("the key data has a length no key packet uses")


def _old_length(data: bytes, offset: int, kind: int) -> tuple[int, int]:
    if kind == 3:
        return len(data) - offset - 1, offset + 1
    size = (1, 2, 4)[kind]
    start = offset + 1
    if start + size > len(data):
        raise KeyFileInvalid("the key data is cut short")
    return int.from_bytes(data[start : start + size], "big"), start + size


def _fingerprint(body: bytes) -> str:
    version = body[0] if body else 0
    if version not in _FINGERPRINTS:
        raise KeyFileInvalid(f"version {version} keys are not supported (only 4, 5 and 6)")
    prefix, size, algorithm = _FINGERPRINTS[version]
    digest = hashlib.new(algorithm, prefix + len(body).to_bytes(size, "big") + body)
    return digest.hexdigest().upper()
