"""Long work as a plain function with a small progress-and-cancel object (no Qt).

As in Orange3's concurrent helpers: a job is `job(state) -> result`. It calls
`state(done, total)` now and then; that reports progress and, once someone
asked to cancel, raises `JobCancelledError` so the job stops at its next report.
Whoever runs the job (a GUI thread runner, a test, a command) owns the state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Progress = Callable[[int, int], None]
"""`progress(done, total)`: how far a job is; may raise JobCancelledError."""

Job = Callable[[Progress], Any]


class JobCancelledError(Exception):
    """Raised inside a job by its progress call once cancel was asked."""


class JobState:
    """Thread-safe progress-and-cancel object handed to a job as its `progress` callable."""

    def __init__(self, on_progress: Progress | None = None) -> None:
        self._on_progress = on_progress
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def __call__(self, done: int, total: int) -> None:
        """Report progress; `total` 0 is a bare cancel point (nothing new to show)."""
        if self._cancel.is_set():
            raise JobCancelledError
        if total > 0 and self._on_progress is not None:
            self._on_progress(int(done), int(total))


def no_progress(done: int, total: int) -> None:
    """A progress callable for callers that neither watch nor cancel."""
