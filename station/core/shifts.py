"""Shifts from a recipe's schedule, in the station's local zone.

Shift starts are wall-clock times ("06:00", "14:00", "22:00"); a shift ends
where the next one starts, so a night shift crosses midnight and a
daylight-saving change makes a shift an hour shorter or longer, as the
clock on the wall says it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from station.core.errors import StationError


@dataclass(frozen=True, slots=True)
class ShiftSpan:
    """One concrete shift: `id` is "<local start date>/<name>", times are UTC epoch seconds."""

    id: str
    name: str
    start_utc: float
    end_utc: float


def _parse_hhmm(text: str) -> time:
    try:
        hh, mm = text.split(":")
        return time(int(hh), int(mm))
    except ValueError as exc:
        raise StationError(f"shifts.starts: expected HH:MM, got {text!r}") from exc


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
                f"shifts.names: expected {len(self.starts)} names (one per start), got {len(self.names)}"
            )
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

    def _starts_around(self, day: date) -> list[tuple[datetime, str]]:
        tz = self.tz
        out = []
        for offset in (-1, 0, 1):
            d = day + timedelta(days=offset)
            for text, name in zip(self.starts, self.names, strict=True):
                local = datetime.combine(d, _parse_hhmm(text), tzinfo=tz)
                out.append((local.astimezone(UTC), f"{d.isoformat()}/{name}"))
        return sorted(out)

    def shift_at(self, t_utc: float) -> ShiftSpan:
        """The shift in force at `t_utc` (start inclusive, end exclusive)."""
        moment = datetime.fromtimestamp(t_utc, UTC)
        starts = self._starts_around(moment.astimezone(self.tz).date())
        for (start, sid), (end, _) in zip(starts, starts[1:], strict=False):
            if start <= moment < end:
                name = sid.split("/", 1)[1]
                return ShiftSpan(sid, name, start.timestamp(), end.timestamp())
        raise AssertionError("a moment always falls between two shift starts")  # pragma: no cover
