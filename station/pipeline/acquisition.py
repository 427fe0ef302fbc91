"""Acquisition: the camera opened, read, checked and reopened with backoff, on one thread.

`CameraLink.acquire()` does the next bit of camera work and says what happened as
items for the inspection side: an `Acquired` part (a frame, or the NO DECISION
reason why there is none) or a `CameraChange` (state, event to log, fault, halt).
Every call to the source happens on the thread that calls `acquire`/`close`.

Only a lost connection (CameraLost, or an unexpected driver error while reading) is
retried, after the delays of the one `BackoffPolicy`; a configuration the camera
refuses (a StationError from `open`: an unknown option, a pixel format it does not
offer) stops inspection with a fault the operator sees.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from station.core.errors import StationError
from station.core.no_decision import NoDecisionCause
from station.core.ports import (
    BadLabelFile,
    CameraInfo,
    CameraLost,
    CorruptFrame,
    Frame,
    FrameSource,
    ReadInterrupted,
    SourceExhausted,
)
from station.pipeline.frame_check import frame_problem
from station.pipeline.results import CameraState, CameraStatus


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text and text[0] else type(exc).__name__


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Delays before reopening a lost camera: `first_s * factor**n`, capped at `max_s`.

    0.5, 1, 2, 4, 5, 5 ... seconds by default: quick for a glitch, and no faster than
    every 5 s for a camera that is gone (a GigE discovery costs the network).
    """

    first_s: float = 0.5
    factor: float = 2.0
    max_s: float = 5.0

    def delay(self, attempt: int) -> float:
        """The wait before attempt `attempt + 1` (attempt 0: the first retry), seconds."""
        return float(min(self.first_s * self.factor ** min(attempt, 64), self.max_s))

    def delays(self) -> Iterator[float]:
        """The delays, without end."""
        attempt = 0
        while True:
            yield self.delay(attempt)
            attempt += 1


@dataclass(frozen=True, slots=True)
class Acquired:
    """One part from acquisition: a frame to inspect, or `problem` (NO DECISION) instead.

    `available_s` is `time.perf_counter()` when the frame (or the failure) became known:
    the start of the part's latency. `prepared` is the detector input made ahead of
    inference when acquisition overlaps it (None otherwise). `trigger_id` is the PLC's
    trigger the part answers (trigger mode).
    """

    sequence: int
    available_s: float
    frame: Frame | None = None
    problem: str = ""
    prepared: Any = None
    trigger_id: int | None = None


@dataclass(frozen=True, slots=True)
class LogEvent:
    kind: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CameraChange:
    """The camera changed state. `halt` (non-empty) stops inspection with that message."""

    status: CameraStatus
    event: LogEvent | None = None
    fault: str = ""
    halt: str = ""


Item = Acquired | CameraChange

REPLAY_FINISHED = "replay finished"
"""How the end of a replay opened with `loop = false` is told: a stop, not a failure."""


class CameraLink:
    """The source, its state and its reconnect schedule. Not thread-safe: one thread
    (`interrupt` excepted)."""

    def __init__(
        self,
        source: FrameSource,
        *,
        read_timeout_s: float = 2.0,
        backoff: BackoffPolicy | None = None,
        prepare: Callable[[Frame], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._read_timeout_s = read_timeout_s
        self._backoff = backoff or BackoffPolicy()
        self._prepare = prepare
        self._clock = clock
        self._info: CameraInfo | None = None
        self._expected_wh: tuple[int, int] | None = None
        self._lost = False
        self._attempt = 0
        self._retry_at = 0.0
        self._announced = False
        self._last_sequence = 0

    @property
    def is_open(self) -> bool:
        return self._info is not None

    def acquire(self) -> tuple[list[Item], float]:
        """Do the next bit of camera work: (what happened, seconds until the next call helps).

        A wait of 0 means call again now; > 0 means the camera is waiting to be reopened.
        """
        if self._info is None:
            wait_s = self._retry_at - self._clock()
            if wait_s > 0:
                return [], wait_s
            if not self._announced:  # say so first: opening a camera can take seconds
                self._announced = True
                return [
                    CameraChange(CameraStatus(CameraState.CONNECTING, attempt=self._attempt))
                ], 0.0
            self._announced = False
            change = self._open()
            return [change], 0.0 if self._info is not None else self._retry_wait()
        return self._read(), 0.0

    def interrupt(self) -> None:
        """From another thread: cut short a read that waits for its frame's time (a paced
        replay), so a stop does not wait for the next part. A no-op for other sources."""
        interrupt = getattr(self._source, "interrupt", None)
        if callable(interrupt):
            interrupt()

    def close(self) -> list[Item]:
        """Close the camera and forget any reconnect schedule."""
        items: list[Item] = []
        problem = self._close_source()
        if problem:
            items.append(CameraChange(CameraStatus(CameraState.STOPPED), fault=problem))
        self._lost = False
        self._attempt = 0
        self._retry_at = 0.0
        self._announced = False
        items.append(CameraChange(CameraStatus(CameraState.STOPPED)))
        return items

    # ---- inside -------------------------------------------------------------------------

    def _retry_wait(self) -> float:
        return max(0.0, self._retry_at - self._clock())

    def _open(self) -> CameraChange:
        try:
            info = self._source.open()
        except StationError as exc:  # the camera refuses the recipe: retrying cannot help
            why = f"camera configuration: {one_line(exc)}"
            self._close_source()
            return CameraChange(
                CameraStatus(CameraState.FAULT, message=why),
                LogEvent("camera_fault", why),
                fault=why,
                halt=f"inspection stopped: {why}",
            )
        except Exception as exc:
            return self._lost_change(NoDecisionCause.CAMERA_LOST.message(one_line(exc)))
        self._info = info
        self._expected_wh = (info.width, info.height) if info.width and info.height else None
        event = None
        if self._lost:
            event = LogEvent(
                "camera_found", f"camera {info.name} reconnected", {"attempts": self._attempt}
            )
        self._lost = False
        self._attempt = 0
        return CameraChange(CameraStatus(CameraState.CONNECTED, info), event)

    def _lost_change(self, why: str) -> CameraChange:
        """Close the camera, record the loss once, and schedule the next attempt."""
        self._close_source()
        event = None
        if not self._lost:
            self._lost = True
            event = LogEvent("camera_lost", why)
        wait_s = self._backoff.delay(self._attempt)
        self._attempt += 1
        self._retry_at = self._clock() + wait_s
        status = CameraStatus(
            CameraState.LOST, message=why, attempt=self._attempt, retry_in_s=wait_s
        )
        return CameraChange(status, event)

    def _close_source(self) -> str:
        if self._info is None:
            return ""
        self._info = None
        try:
            self._source.close()
        except Exception as exc:
            return f"camera: could not close: {one_line(exc)}"
        return ""

    def _read(self) -> list[Item]:
        try:
            frame = self._source.read(self._read_timeout_s)
        except CorruptFrame as exc:
            bad_label = isinstance(exc, BadLabelFile)
            cause = NoDecisionCause.BAD_LABEL if bad_label else NoDecisionCause.CORRUPT_FRAME
            why = cause.message(one_line(exc))
            self._last_sequence = max(self._last_sequence, exc.sequence)
            return [Acquired(exc.sequence, time.perf_counter(), problem=why)]
        except ReadInterrupted:
            return []  # inspection is stopping: no part
        except SourceExhausted as exc:
            why = f"{REPLAY_FINISHED}: {one_line(exc)}"
            self._close_source()
            return [CameraChange(CameraStatus(CameraState.STOPPED), fault=why, halt=why)]
        except CameraLost as exc:
            return self._lost_part(NoDecisionCause.CAMERA_LOST.message(one_line(exc)))
        except Exception as exc:
            why = NoDecisionCause.CAMERA_ERROR.message(f"{type(exc).__name__}: {one_line(exc)}")
            return self._lost_part(why)
        available_s = time.perf_counter()
        self._last_sequence = max(self._last_sequence, frame.sequence)
        problem = frame_problem(frame.image, self._expected_wh)
        if problem is not None:
            return [Acquired(frame.sequence, available_s, frame, problem)]
        if self._expected_wh is None:
            self._expected_wh = (frame.image.shape[1], frame.image.shape[0])
        prepared = None
        if self._prepare is not None:
            try:
                prepared = self._prepare(frame)
            except Exception:  # detect() meets the same problem and makes it NO DECISION
                prepared = None
        return [Acquired(frame.sequence, available_s, frame, prepared=prepared)]

    def _lost_part(self, why: str) -> list[Item]:
        """The part that was due is NO DECISION; then the camera is lost."""
        part = Acquired(self._last_sequence + 1, time.perf_counter(), problem=why)
        self._last_sequence += 1
        return [part, self._lost_change(why)]
