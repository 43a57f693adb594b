"""Process, pid-file, lock and HTTP helpers for the local cloud (stdlib only)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

# Popen objects of servers started by THIS process, so we can reap them
# (a child that exited stays a zombie, i.e. "alive", until its parent waits).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class LocalCloudError(RuntimeError):
    """The local cloud could not be installed, started or stopped."""


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive inter-process lock (pytest-xdist workers, parallel make)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    tail = "\n".join(text.splitlines()[-lines:])
    return f"--- last {lines} lines of {path} ---\n{tail}\n--- end of {path.name} ---"


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return bool(200 <= resp.status < 300)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, pgrp) of a process, or None if it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return raw.replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            _CHILDREN.pop(pid, None)
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid``."""
    _reap(pgid)
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        st = _proc_stat(int(entry.name))
        if st and st[1] == pgid and st[0] != "Z":
            members.append(int(entry.name))
    return members


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def server_alive(pidfile: Path) -> int | None:
    """Pid of the running gunicorn master recorded in pidfile, else None."""
    pid = read_pid(pidfile)
    if pid is None:
        return None
    _reap(pid)
    st = _proc_stat(pid)
    if st is None or st[0] == "Z" or "gunicorn" not in _cmdline(pid):
        return None
    return pid


def spawn(argv: list[str], *, env: dict[str, str], cwd: Path, log: Path, pidfile: Path) -> int:
    """Start a server in its own session (pgid == pid), output to ``log``."""
    if log.exists():
        log.replace(log.with_name(log.name + ".1"))
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[proc.pid] = proc
    pidfile.write_text(f"{proc.pid}\n")
    return proc.pid


def exited(pid: int) -> int | None:
    """Exit code if a server we spawned in this process has exited."""
    child = _CHILDREN.get(pid)
    return None if child is None else child.poll()


def stop_group(pidfile: Path, timeout: float = 15.0) -> bool:
    """SIGTERM the process group recorded in pidfile, SIGKILL after timeout.

    Idempotent; removes the pid file.  Returns True if something was running.
    """
    pgid = read_pid(pidfile)
    if pgid is None:
        pidfile.unlink(missing_ok=True)
        return False
    members = group_members(pgid)
    # Only touch the group if it is (still) one of our gunicorns: guards
    # against a stale pid file whose pid got reused.
    if not any("gunicorn" in _cmdline(p) for p in members):
        pidfile.unlink(missing_ok=True)
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not group_members(pgid):
                break
            time.sleep(0.05)
        else:
            continue
        break
    else:
        raise LocalCloudError(f"process group {pgid} survived SIGKILL")
    _CHILDREN.pop(pgid, None)
    pidfile.unlink(missing_ok=True)
    return True
