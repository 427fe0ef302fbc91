"""Shifts from a recipe's schedule, in the station's local zone.

Shift starts are wall-clock times ("06:00", "14:00", "22:00"); a shift ends
where the next one starts, so a night shift crosses midnight and a
daylight-saving change makes a shift an hour shorter or longer, as the
clock on the wall says it is.

A start that the clock skips (02:30 on a spring-forward night) begins at the
instant the clock jumps; a start the clock shows twice (02:30 on a
fall-back night) begins the first time it is shown.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from station.core.errors import StationError


@dataclass(frozen=True, slots=True)
class ShiftSpan:
    """One concrete shift: `id` is "<local start date>/<name>", times are UTC epoch seconds.

    The span covers `start_utc <= t < end_utc` (start inclusive, end exclusive).
    """

    id: str
    name: str
    start_utc: float
    end_utc: float

    def holds(self, t_utc: float) -> bool:
        """`t_utc` falls in this shift."""
        return self.start_utc <= t_utc < self.end_utc

    @property
    def duration_h(self) -> float:
        return (self.end_utc - self.start_utc) / 3600.0

    def contains(self, t_utc: float) -> bool:
        return self.start_utc <= t_utc < self.end_utc


def _parse_hhmm(text: str) -> time:
    try:
        hh, mm = text.split(":")
        return time(int(hh), int(mm))
    except ValueError as exc:
        raise StationError(f"shifts.starts: expected HH:MM, got {text!r}") from exc


def local_to_utc(naive: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant a wall clock in `tz` first shows `naive`.

    Skipped wall times (spring forward) map to the instant of the jump;
    repeated ones (fall back) to their first occurrence.
    """
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return first
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return min(first, second)  # repeated wall time: its first occurrence
    # Skipped wall time: bisect (in whole seconds) for the jump between the two readings.
    lo, hi = int(min(first, second).timestamp()), int(max(first, second).timestamp())
    offset_lo = datetime.fromtimestamp(lo, tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == offset_lo:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


@dataclass(frozen=True, slots=True)
class ShiftSchedule:
    zone: str = "UTC"
    starts: tuple[str, ...] = ("06:00", "14:00", "22:00")
    names: tuple[str, ...] = ("early", "late", "night")

    def __post_init__(self) -> None:
        if not self.starts:
            raise StationError("shifts.starts: expected at least one HH:MM start time")
        if len(self.names) != len(self.starts):
            raise StationError(
                f"shifts.names: expected {len(self.starts)} names (one per start), "
                f"got {len(self.names)}"
            )
        if any(not n.strip() or "/" in n for n in self.names):
            raise StationError(
                f"shifts.names: expected non-empty names without '/' (a shift id is "
                f"<date>/<name>), got {list(self.names)}"
            )
        if len(set(self.names)) != len(self.names):
            raise StationError(f"shifts.names: expected distinct names, got {list(self.names)}")
        times = [_parse_hhmm(s) for s in self.starts]
        if times != sorted(times) or len(set(times)) != len(times):
            raise StationError(f"shifts.starts: expected increasing times, got {list(self.starts)}")
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise StationError(f"shifts.zone: unknown time zone {self.zone!r}") from exc

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def _starts_on(self, days: list[date]) -> list[tuple[datetime, str]]:
        tz = self.tz
        out = []
        for d in days:
            for text, name in zip(self.starts, self.names, strict=True):
                start = local_to_utc(datetime.combine(d, _parse_hhmm(text)), tz)
                out.append((start, f"{d.isoformat()}/{name}"))
        return sorted(out)

    def _starts_around(self, day: date) -> list[tuple[datetime, str]]:
        return self._starts_on([day + timedelta(days=k) for k in (-1, 0, 1)])

    def shift_at(self, t_utc: float) -> ShiftSpan:
        """The shift in force at `t_utc` (start inclusive, end exclusive)."""
        moment = datetime.fromtimestamp(t_utc, UTC)
        starts = self._starts_around(moment.astimezone(self.tz).date())
        for (start, sid), (end, _) in itertools.pairwise(starts):
            if start <= moment < end:
                name = sid.split("/", 1)[1]
                return ShiftSpan(sid, name, start.timestamp(), end.timestamp())
        raise AssertionError("a moment always falls between two shift starts")  # pragma: no cover

    def shifts_between(self, start_utc: float, end_utc: float) -> list[ShiftSpan]:
        """Every shift overlapping `[start_utc, end_utc)`, in order; contiguous, no gaps."""
        out: list[ShiftSpan] = []
        t = start_utc
        while t < end_utc:
            span = self.shift_at(t)
            out.append(span)
            t = span.end_utc
        return out

    def shifts_on(self, day: date) -> list[ShiftSpan]:
        """The shifts whose start falls on local date `day` (their id starts with it)."""
        first = self._starts_on([day])[0][0].timestamp()
        spans = self.shifts_between(first, first + 1)
        while True:
            nxt = self.shift_at(spans[-1].end_utc)
            if not nxt.id.startswith(day.isoformat()):
                return spans
            spans.append(nxt)

    def span_of(self, shift_id: str) -> ShiftSpan:
        """The span of a shift id "<YYYY-MM-DD>/<name>", or StationError if it is not one."""
        day_text, _, name = shift_id.partition("/")
        try:
            day = date.fromisoformat(day_text)
        except ValueError as exc:
            raise StationError(f"shift id: expected YYYY-MM-DD/NAME, got {shift_id!r}") from exc
        for span in self.shifts_on(day):
            if span.name == name:
                return span
        raise StationError(
            f"shift id {shift_id!r}: no shift named {name!r}; shifts are {list(self.names)}"
        )
