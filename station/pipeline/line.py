"""The line's side of the pipeline: a PLC that triggers parts and reads every result.

`LineSide` is what the pipeline needs of a PLC output (station.outputs.plc.PlcOutput).
`TriggeredFeed` acquires one frame per trigger_id and accounts for every trigger: a
trigger without a frame, one the full queue dropped, and one whose frame follows a gap
in the camera's own frame counter (the frame may be another part's) are NO DECISION.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

from station.pipeline.acquisition import Acquired, CameraLink, Item

TRIGGER_POLL_S = 0.05
"""How long one step waits for a trigger: commands (stop, new thresholds) wait no longer."""


class LineSide(Protocol):
    """A PLC output the pipeline steers (triggers, deadline, state, heartbeat)."""

    triggered: bool
    deadline_ms: int

    def set_running(self, running: bool) -> None: ...

    def camera_ok(self, ok: bool, why: str = "") -> None: ...

    def pulse(self) -> None: ...

    def take_trigger(self, timeout_s: float) -> int | None: ...

    def take_dropped(self) -> list[int]: ...

    def take_waiting(self) -> list[int]: ...

    def open_part(self, trigger_id: int | None, started_s: float | None = None) -> int: ...

    def claim(self, result_id: int) -> float | None: ...

    def take_events(self) -> Sequence[Any]: ...

    def stats(self) -> Any: ...


def no_frame(trigger_id: int, why: str) -> str:
    return (
        f"no frame for trigger {trigger_id}: {why}" if why else f"no frame for trigger {trigger_id}"
    )


class TriggeredFeed:
    """One camera read per PLC trigger, on the caller's thread; parts carry their trigger_id."""

    def __init__(self, link: CameraLink, line: LineSide) -> None:
        self._link = link
        self._line = line
        self._manual = 0
        self._last_sequence = 0
        self._last_frame_id: int | None = None
        self._unanswered = 0  # reads since the last frame that got none (the frame may come)

    def demand(self, *, running: bool, parts: int) -> None:
        """Parts asked for by the operator (manual trigger): read without a PLC trigger."""
        self._manual += parts

    def next(self) -> tuple[list[Item], float]:
        self._line.pulse()
        dropped = self._line.take_dropped()
        if dropped:
            why = "trigger overflow: trigger {} dropped, the queue of waiting triggers was full"
            return [self._missing(t, why.format(t)) for t in dropped], 0.0
        items: list[Item] = []
        if not self._link.is_open:
            items, wait_s = self._link.acquire()  # opens the camera when a retry is due
            if items and wait_s == 0.0 and not self._link.is_open:  # "connecting": open now
                more, _ = self._link.acquire()
                items += more
            self._note_reopened(items)
        if self._manual > 0 and self._link.is_open:
            self._manual -= 1
            return items + self._read(None), 0.0
        trigger_id = self._line.take_trigger(0.0 if items else TRIGGER_POLL_S)
        if trigger_id is None:
            return items, 0.0
        if not self._link.is_open:  # a trigger is answered now, never held for the camera
            why = no_frame(trigger_id, "camera not connected")
            return [*items, self._missing(trigger_id, why)], 0.0
        return items + self._read(trigger_id), 0.0

    def ready(self) -> bool:
        """Never: a part is acquired only when its trigger comes (its result goes out now)."""
        return False

    def close(self) -> list[Item]:
        """Close the camera; triggers still waiting are answered (NO DECISION), not dropped."""
        self._manual = 0
        unanswered = [*self._line.take_dropped(), *self._line.take_waiting()]
        parts = [self._missing(t, no_frame(t, "inspection stopped")) for t in unanswered]
        return [*parts, *self._link.close()]

    def interrupt(self) -> None:
        self._link.interrupt()

    def shutdown(self) -> None:
        return None

    def _note_reopened(self, items: list[Item]) -> None:
        """A reopened camera restarts the frame counter pairing (its first frame was dropped)."""
        if any(not isinstance(i, Acquired) and i.status.info is not None for i in items):
            self._last_frame_id = None
            self._unanswered = 0

    def _missing(self, trigger_id: int, why: str) -> Acquired:
        self._last_sequence += 1
        return Acquired(
            self._last_sequence, time.perf_counter(), problem=why, trigger_id=trigger_id
        )

    def _read(self, trigger_id: int | None) -> list[Item]:
        items, _ = self._link.acquire()
        out: list[Item] = []
        for item in items:
            if isinstance(item, Acquired):
                item = self._tagged(item, trigger_id)
            out.append(item)
        if trigger_id is not None and not any(isinstance(i, Acquired) for i in items):
            # No frame (the read was cut short by a stop): the trigger is answered anyway.
            out.append(self._missing(trigger_id, no_frame(trigger_id, "inspection stopped")))
        return out

    def _tagged(self, part: Acquired, trigger_id: int | None) -> Acquired:
        """The part with its trigger; its problem said as the PLC's operator needs it."""
        self._last_sequence = max(self._last_sequence, part.sequence)
        problem = part.problem
        if part.frame is None:
            self._unanswered += 1
            if trigger_id is not None:
                problem = no_frame(trigger_id, problem)
        else:
            gap = self._gap(part.frame.meta.get("frame_id"))
            if gap and not problem:
                problem = f"lost part: camera frame ids {gap} missing before this frame"
        return Acquired(
            part.sequence,
            part.available_s,
            part.frame,
            problem,
            part.prepared,
            trigger_id=trigger_id,
        )

    def _gap(self, frame_id: object) -> str:
        """The camera's frame ids skipped before `frame_id` (beyond reads that got no frame)."""
        if not isinstance(frame_id, int):
            return ""
        last, self._last_frame_id = self._last_frame_id, frame_id
        expected = None if last is None else last + 1 + self._unanswered
        self._unanswered = 0
        if expected is None or frame_id <= expected:
            return ""
        missing = list(range(expected, frame_id))
        shown = ", ".join(str(i) for i in missing[:5]) + (" ..." if len(missing) > 5 else "")
        return shown
