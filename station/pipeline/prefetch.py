"""Acquisition on its own thread, running up to `depth` parts ahead of inference.

While part n is inferred, part n+1 is read from the camera, checked and turned
into the model's input (letterbox) on the acquisition thread; onnxruntime and
OpenCV release the GIL, so the two overlap on a multi-core machine. The queue is
bounded (`depth` parts), keeps acquisition order and drops nothing: a part that
could not be acquired is queued as NO DECISION like any other. Every call to the
camera (open, read, close, reconnect) happens on the acquisition thread.
"""

from __future__ import annotations

import threading
from collections import deque

from station.pipeline.acquisition import Acquired, CameraChange, CameraLink, Item
from station.pipeline.results import CameraState, CameraStatus

POLL_S = 0.1
"""The longest `next()` blocks waiting for a part, so commands are never held up longer."""
STOP_S = 15.0
"""How long `close()` waits for a camera call in progress before leaving the thread behind."""


class PrefetchFeed:
    """A Feed whose acquisition runs on a thread started on first demand."""

    def __init__(
        self, link: CameraLink, depth: int = 2, poll_s: float = POLL_S, stop_s: float = STOP_S
    ) -> None:
        self._link = link
        self._stop_s = stop_s
        self._abandoned = False
        self._depth = max(1, depth)
        self._poll_s = poll_s
        self._cond = threading.Condition()
        self._queue: deque[Item] = deque()
        self._queued_parts = 0
        self._unlimited = False
        self._allowance = 0
        self._close_requested = False
        self._closed_items: list[Item] | None = None
        self._shutdown = False
        self._thread: threading.Thread | None = None

    # ---- the inspection side ----------------------------------------------------------------

    def demand(self, *, running: bool, parts: int) -> None:
        with self._cond:
            if running:
                self._unlimited = True
            self._allowance += parts
            self._cond.notify_all()
        self._ensure_thread()

    def next(self) -> tuple[list[Item], float]:
        """Camera changes up to and including the next part, waiting at most `poll_s`."""
        with self._cond:
            if not self._queue:
                self._cond.wait(self._poll_s)
            items: list[Item] = []
            while self._queue:
                item = self._queue.popleft()
                items.append(item)
                if isinstance(item, Acquired):
                    self._queued_parts -= 1
                    self._cond.notify_all()  # room for the next part
                    break
        return items, 0.0

    def ready(self) -> bool:
        with self._cond:
            return self._queued_parts > 0

    def close(self) -> list[Item]:
        """Stop acquiring, close the camera (on its thread), hand back what was still queued."""
        with self._cond:
            self._unlimited = False
            self._allowance = 0
            if self._thread is None or not self._thread.is_alive():
                pending = list(self._queue)
                self._clear()
                return pending + self._link.close()
            self._close_requested = True
            self._closed_items = None
            self._cond.notify_all()
            self.interrupt()  # a paced read stops waiting: no part after the stop
            if not self._cond.wait_for(lambda: self._closed_items is not None, self._stop_s):
                # A driver call that never returns: do not hang the station on it.
                why = f"camera: did not stop within {self._stop_s:g} s; left behind"
                pending = list(self._queue)
                self._clear()
                self._abandoned = True
                return [*pending, CameraChange(CameraStatus(CameraState.STOPPED), fault=why)]
            pending = list(self._queue) + (self._closed_items or [])
            self._clear()
            return pending

    def interrupt(self) -> None:
        self._link.interrupt()

    def shutdown(self) -> None:
        with self._cond:
            self._shutdown = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(None if not self._abandoned else 1.0)
            self._thread = None

    # ---- the acquisition thread -------------------------------------------------------------

    def _clear(self) -> None:
        self._queue.clear()
        self._queued_parts = 0

    def _ensure_thread(self) -> None:
        if self._thread is None and not self._shutdown:
            self._thread = threading.Thread(target=self._run, name="acquisition", daemon=True)
            self._thread.start()

    def _wanted(self) -> bool:
        return (self._unlimited or self._allowance > 0) and self._queued_parts < self._depth

    def _run(self) -> None:
        wait_s = 0.0
        while True:
            with self._cond:
                if wait_s > 0:  # waiting to reopen the camera, unless told otherwise
                    self._cond.wait_for(lambda: self._shutdown or self._close_requested, wait_s)
                while not (self._shutdown or self._close_requested or self._wanted()):
                    self._cond.wait()
                if self._shutdown:
                    return
                if self._close_requested:
                    self._close_requested = False
                    self._closed_items = self._link.close()
                    self._cond.notify_all()
                    wait_s = 0.0
                    continue
            items, wait_s = self._link.acquire()  # the camera's time: no lock held
            with self._cond:
                for item in items:
                    self._queue.append(item)
                    if isinstance(item, Acquired):
                        self._queued_parts += 1
                        if not self._unlimited and self._allowance > 0:
                            self._allowance -= 1
                    elif item.halt:  # end of a replay, a refused configuration: stop here
                        self._unlimited = False
                        self._allowance = 0
                self._cond.notify_all()
