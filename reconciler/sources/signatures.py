"""OpenPGP signatures of checksum files, verified with the system's gpgv against one trusted key.

gpgv is the verifier apt uses (every Debian and Ubuntu system has it) and it does nothing but
verify: no keyring of the user's is read (a fresh --homedir and --keyring in a temporary
folder, removed afterwards), no trust database, no agent. Its verdict is read from its
--status-fd lines, not from its exit code alone: a signature is good only with a GOODSIG and a
VALIDSIG by a primary key of the trusted key file, no BADSIG, and a hash stronger than SHA-1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from catalog.errors import GlanceCatalogError
from catalog.openpgp import PublicKey

GPGV_TIMEOUT = 60.0
_STATUS = "[GNUPG:] "
# OpenPGP hash algorithm ids (RFC 9580 9.5) that no longer protect a signature.
_WEAK_HASHES = {"1": "MD5", "2": "SHA-1", "3": "RIPEMD-160"}
_ERRSIG_NO_KEY = "9"
_FAILED = "EXIT"  # not a gpgv keyword: the status line _run adds for a non-zero exit


class SignatureInvalid(GlanceCatalogError):
    """The signature does not show that the trusted key signed the data, or it could not be
    checked; ``reason`` says which, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Verified:
    """A good signature: ``fingerprint`` is the trusted primary key that made it, ``text`` the
    bytes it covers (for a clear-signed file, the signed text alone)."""

    fingerprint: str
    text: bytes


def verify_detached(data: bytes, signature: bytes, key: PublicKey) -> Verified:
    """Check a detached signature (armored or binary) of ``data`` by ``key``; raises
    SignatureInvalid unless it is good."""
    with _workspace(key) as (folder, command):
        (folder / "data").write_bytes(data)
        (folder / "data.sig").write_bytes(signature)
        status = _run([*command, str(folder / "data.sig"), str(folder / "data")])
    return Verified(_judge(status, key, "the signature file"), data)


def verify_clearsigned(data: bytes, key: PublicKey) -> Verified:
    """Check a clear-signed file by ``key``; the Verified text is what the signature covers,
    as gpgv wrote it out (anything around the signed block is not part of it). Raises
    SignatureInvalid unless the signature is good."""
    with _workspace(key) as (folder, command):
        (folder / "data").write_bytes(data)
        output = folder / "signed"
        status = _run([*command, "--output", str(output), str(folder / "data")])
        fingerprint = _judge(status, key, "the checksum file")
        return Verified(fingerprint, output.read_bytes())


@contextmanager
def _workspace(key: PublicKey) -> Iterator[tuple[Path, list[str]]]:
    """A temporary folder holding the keyring, and the gpgv command line that uses it; the
    folder is removed on exit."""
    gpgv = shutil.which("gpgv")
    if gpgv is None:
        raise SignatureInvalid(
            "gpgv is not installed, and checking a signed checksum file needs it "
            "(Debian and Ubuntu: apt-get install gpgv; elsewhere it comes with GnuPG)"
        )
    with tempfile.TemporaryDirectory(prefix="glance-catalog-gpgv-") as name:
        folder = Path(name)
        home = folder / "home"
        home.mkdir(mode=0o700)
        keyring = folder / "trusted.gpg"
        keyring.write_bytes(key.packets)
        yield folder, [gpgv, "--homedir", str(home), "--keyring", str(keyring), "--status-fd", "1"]


def _run(command: Sequence[str]) -> list[str]:
    """gpgv's status lines, without their ``[GNUPG:] `` prefix."""
    try:
        finished = subprocess.run(
            command,
            capture_output=True,
            timeout=GPGV_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C"},
        )
    except subprocess.TimeoutExpired as error:
        raise SignatureInvalid(f"gpgv did not finish within {GPGV_TIMEOUT:g} s") from error
    except OSError as error:
        raise SignatureInvalid(f"gpgv could not be run: {error.strerror}") from error
    lines = finished.stdout.decode("utf-8", "replace").splitlines()
    status = [line.removeprefix(_STATUS) for line in lines if line.startswith(_STATUS)]
    if finished.returncode != 0:
        # A good signature next to a failure (a second signed message, say) is no good one.
        status.append(f"{_FAILED} {finished.returncode}")
    return status


def _judge(status: list[str], key: PublicKey, what: str) -> str:
    """The trusted fingerprint behind the good signature the status lines report; raises
    SignatureInvalid with the most telling reason otherwise."""
    trusted = ", ".join(key.fingerprints)
    found: dict[str, list[str]] = {}
    for line in status:
        keyword, *fields = line.split(" ")
        found.setdefault(keyword, fields)  # the first of each kind tells enough
    if "BADSIG" in found:
        raise SignatureInvalid(
            f"bad signature by key {found['BADSIG'][0]}: the file was changed or damaged "
            "after it was signed"
        )
    for keyword, state in (("EXPKEYSIG", "has expired"), ("REVKEYSIG", "is revoked")):
        if keyword in found:
            raise SignatureInvalid(f"signed by key {found[keyword][0]}, which {state}")
    if "EXPSIG" in found:
        raise SignatureInvalid("the signature has expired")
    valid = [line.split(" ")[1:] for line in status if line.startswith("VALIDSIG ")]
    valid = [fields for fields in valid if len(fields) >= 10]
    good = [fields for fields in valid if fields[9] in key.fingerprints]
    if "GOODSIG" in found and good:
        weak = _WEAK_HASHES.get(good[0][7])
        if weak is not None:
            raise SignatureInvalid(f"the signature uses {weak}, which no longer protects it")
        # gpgv also exits non-zero for a further signature by a key it does not have (Ubuntu's
        # SHA256SUMS.gpg carries two): that is no reason to refuse the trusted one's.
        if "ERROR" in found or (_FAILED in found and "ERRSIG" not in found):
            detail = " ".join(found.get("ERROR", [])) or f"exit code {found[_FAILED][0]}"
            raise SignatureInvalid(
                f"gpgv found a good signature but also an error ({detail}): is it more than "
                "one signed message?"
            )
        return good[0][9]
    if valid:
        raise SignatureInvalid(
            f"signed by key {valid[0][9]}, which is not the trusted key {trusted}"
        )
    error = found.get("ERRSIG")
    if error is not None and error[5:6] == [_ERRSIG_NO_KEY]:
        # The issuer's fingerprint when the signature names it, else its key id.
        signer = error[6] if len(error) > 6 and error[6] != "-" else error[0]
        raise SignatureInvalid(f"signed by key {signer}, which is not the trusted key {trusted}")
    if error is not None:
        code = error[5] if len(error) > 5 else "?"
        raise SignatureInvalid(f"the signature cannot be checked (gpgv ERRSIG code {code})")
    if "NODATA" in found:
        raise SignatureInvalid(f"{what} holds no OpenPGP signature")
    raise SignatureInvalid("gpgv found no good signature")
