"""The CLI's live output during apply for people: a progress bar per running upload on a
terminal, one log line per upload start and finish otherwise, nothing but the outcome with
--quiet. (For log pipelines: reconciler.report.jsonlog.)

Every writer here is safe to call from the executor's worker threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from catalog.secrets import redact_text
from reconciler.core.results import ActionResult
from reconciler.image_data import ByteProgress
from reconciler.report.apply_text import render_result
from reconciler.report.headlines import human_bytes
from reconciler.report.style import Style, plain


class ApplyConsole:
    """Where apply's step results and upload progress go; use as a context manager. Progress
    bars only on a ``terminal``; step lines in ``style``, printed by ``write`` (the CLI's: the
    only code that prints); the bars in colour only with ``colour``."""

    def __init__(
        self,
        *,
        write: Callable[[str], None],
        terminal: bool,
        quiet: bool,
        style: Style = plain,
        colour: bool = False,
    ) -> None:
        self.quiet = quiet
        self._write = write
        self._style = style
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        if terminal and not quiet:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(binary_units=True),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(no_color=not colour),
            )

    def __enter__(self) -> ApplyConsole:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def line(self, text: str) -> None:
        """One line of output (it may carry ANSI colour), above the progress bars if any;
        redacted, as everything the CLI prints."""
        if self.quiet:
            return
        text = redact_text(text)
        if self._progress is not None:
            self._progress.console.print(Text.from_ansi(text))
            return
        with self._lock:
            self._write(text)

    def step(self, result: ActionResult, target: str | None = None) -> None:
        """The line of one finished step (apply's ``on_result``); ``target``: the label a
        run over several targets starts the line with."""
        self.line(render_result(result, self._style, target=target))

    def upload_progress(self, image: str) -> ByteProgress | None:
        if self.quiet:
            return None
        if self._progress is not None:
            return _Bar(self._progress, image)
        return _LogLines(self, image)


class _Bar:
    def __init__(self, progress: Progress, image: str) -> None:
        self._progress = progress
        self._image = image
        self._task: TaskID | None = None

    def start(self, total: int | None) -> None:
        if self._task is None:
            self._task = self._progress.add_task(self._image, total=total)
        else:
            self._progress.reset(self._task, total=total, description=f"{self._image} (retry)")

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, count)

    def finish(self, ok: bool) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)


class _LogLines:
    def __init__(self, console: ApplyConsole, image: str) -> None:
        self._console = console
        self._image = image
        self._sent = 0
        self._started = time.monotonic()
        self._began = False

    def start(self, total: int | None) -> None:
        retry = " again from byte 0" if self._began else ""
        self._began = True
        size = human_bytes(total) if total is not None else "size unknown"
        self._sent = 0
        self._started = time.monotonic()
        self._console.line(f"{self._image}: upload started{retry} ({size})")

    def advance(self, count: int) -> None:
        self._sent += count

    def finish(self, ok: bool) -> None:
        if not self._began:
            self._console.line(f"{self._image}: upload failed before any byte was read")
            return
        seconds = max(time.monotonic() - self._started, 1e-6)
        rate = human_bytes(self._sent / seconds)
        how = "finished" if ok else "failed after"
        self._console.line(
            f"{self._image}: upload {how} {human_bytes(self._sent)} in {seconds:.1f} s ({rate}/s)"
        )
