"""Real OpenPGP keys for the tests, made by the system gpg in a private home folder.

gpg starts a gpg-agent for its home folder to sign; ``close`` stops it, so that no test leaves
one running.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class SigningKey:
    """An ed25519 signing key in its own gpg home folder (``home``, created here)."""

    def __init__(self, home: Path, name: str = "Test", *, expire: str = "never") -> None:
        self.home = home
        home.mkdir(mode=0o700, parents=True)
        self._gpg(
            "--passphrase",
            "",
            "--quick-gen-key",
            f"{name} <{name.lower()}@example.invalid>",
            "ed25519",
            "sign",
            expire,
        )
        listing = self._gpg("--with-colons", "--list-keys").stdout.decode()
        self.fingerprint = next(
            line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")
        )

    _faked: tuple[str, ...] = ()

    def _gpg(self, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        gpg = shutil.which("gpg")
        assert gpg is not None, "the tests sign with the system gpg"
        return subprocess.run(
            [gpg, "--homedir", str(self.home), "--batch", "--yes", *self._faked, *args],
            input=data,
            capture_output=True,
            check=True,
            timeout=60,
        )

    def public(self, *, armored: bool = True) -> bytes:
        return self._gpg("--export", *(["--armor"] if armored else [])).stdout

    def secret(self) -> bytes:
        return self._gpg(
            "--pinentry-mode", "loopback", "--passphrase", "", "--export-secret-keys"
        ).stdout

    def detached(self, data: bytes, *, armored: bool = False, digest: str = "SHA512") -> bytes:
        """A detached signature of ``data``."""
        armor = ["--armor"] if armored else []
        return self._gpg(
            "--digest-algo", digest, *armor, "--detach-sign", "-o", "-", data=data
        ).stdout

    def clearsigned(self, data: bytes) -> bytes:
        return self._gpg("--clearsign", "-o", "-", data=data).stdout

    def close(self) -> None:
        gpgconf = shutil.which("gpgconf")
        if gpgconf is not None:
            subprocess.run(
                [gpgconf, "--homedir", str(self.home), "--kill", "gpg-agent"],
                capture_output=True,
                check=False,
                timeout=30,
            )


class ExpiredKey(SigningKey):
    """A key made and used in 2020 that expired a day after it was made."""

    _faked = ("--faked-system-time", "20200101T000000")

    def __init__(self, home: Path) -> None:
        super().__init__(home, "Expired", expire="1d")
