"""Shift boundaries: midnight crossing and daylight-saving changes in a European zone."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from station.core.errors import StationError
from station.core.shifts import ShiftSchedule

BERLIN = ShiftSchedule("Europe/Berlin", ("06:00", "14:00", "22:00"), ("early", "late", "night"))


def _utc(local: str, zone: str = "Europe/Berlin") -> float:
    """Epoch seconds of an unambiguous local wall time."""
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).timestamp()


def _hours(span_start: float, span_end: float) -> float:
    return (span_end - span_start) / 3600


@pytest.mark.parametrize(
    ("local", "shift_id"),
    [
        ("2026-06-10T05:59:59", "2026-06-09/night"),  # night shift continues past midnight
        ("2026-06-10T06:00:00", "2026-06-10/early"),  # start is inclusive
        ("2026-06-10T13:59:59", "2026-06-10/early"),
        ("2026-06-10T14:00:00", "2026-06-10/late"),
        ("2026-06-10T22:00:00", "2026-06-10/night"),
        ("2026-06-10T23:59:59", "2026-06-10/night"),
        ("2026-06-11T00:00:00", "2026-06-10/night"),  # midnight: still yesterday's night shift
        ("2026-06-11T00:30:00", "2026-06-10/night"),
    ],
)
def test_shift_at_midnight_crossing(local: str, shift_id: str) -> None:
    assert BERLIN.shift_at(_utc(local)).id == shift_id


def test_night_shift_spans_midnight_in_local_time() -> None:
    span = BERLIN.shift_at(_utc("2026-06-11T01:00:00"))
    tz = ZoneInfo("Europe/Berlin")
    assert datetime.fromtimestamp(span.start_utc, tz).isoformat() == "2026-06-10T22:00:00+02:00"
    assert datetime.fromtimestamp(span.end_utc, tz).isoformat() == "2026-06-11T06:00:00+02:00"
    assert span.duration_h == 8


def test_spring_forward_night_shift_is_seven_hours() -> None:
    # 2026-03-29 02:00 CET -> 03:00 CEST: the night of 28 -> 29 March is an hour short.
    span = BERLIN.shift_at(_utc("2026-03-29T04:00:00"))
    assert span.id == "2026-03-28/night"
    assert span.duration_h == 7
    assert datetime.fromtimestamp(span.end_utc, UTC) == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)
    assert BERLIN.shift_at(span.end_utc).id == "2026-03-29/early"


def test_fall_back_night_shift_is_nine_hours() -> None:
    # 2026-10-25 03:00 CEST -> 02:00 CET: the night of 24 -> 25 October is an hour long.
    span = BERLIN.shift_at(_utc("2026-10-24T23:00:00"))
    assert span.id == "2026-10-24/night"
    assert span.duration_h == 9
    # both readings of the repeated 02:30 belong to the same night shift
    first_0230 = datetime(2026, 10, 25, 0, 30, tzinfo=UTC).timestamp()
    second_0230 = datetime(2026, 10, 25, 1, 30, tzinfo=UTC).timestamp()
    assert BERLIN.shift_at(first_0230) == BERLIN.shift_at(second_0230) == span


def test_start_in_the_skipped_hour_begins_at_the_jump() -> None:
    sched = ShiftSchedule("Europe/Berlin", ("02:30", "12:00"), ("a", "b"))
    a = sched.span_of("2026-03-29/a")
    assert datetime.fromtimestamp(a.start_utc, UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert _hours(a.start_utc, a.end_utc) == 9  # 03:00 CEST .. 12:00 CEST


def test_start_in_the_repeated_hour_begins_at_its_first_showing() -> None:
    sched = ShiftSchedule("Europe/Berlin", ("02:30", "12:00"), ("a", "b"))
    a = sched.span_of("2026-10-25/a")
    assert datetime.fromtimestamp(a.start_utc, UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert _hours(a.start_utc, a.end_utc) == 10.5  # 02:30 CEST .. 12:00 CET


@pytest.mark.parametrize(
    "day", [date(2026, 3, 28), date(2026, 3, 29), date(2026, 10, 24), date(2026, 10, 25)]
)
def test_shifts_tile_the_timeline_across_dst(day: date) -> None:
    spans = BERLIN.shifts_on(day)
    assert [s.name for s in spans] == ["early", "late", "night"]
    assert all(s.id.startswith(day.isoformat()) for s in spans)
    assert all(a.end_utc == b.start_utc for a, b in itertools.pairwise(spans))
    following = BERLIN.shift_at(spans[-1].end_utc)
    assert following.name == "early" and following.start_utc == spans[-1].end_utc
    # every minute of the day lands in exactly the shift that contains it
    t = spans[0].start_utc
    while t < spans[-1].end_utc:
        span = BERLIN.shift_at(t)
        assert span.contains(t)
        t += 60.0


def test_shifts_between_is_contiguous() -> None:
    spans = BERLIN.shifts_between(_utc("2026-10-23T12:00:00"), _utc("2026-10-26T12:00:00"))
    assert spans[0].id == "2026-10-23/early" and spans[-1].id == "2026-10-26/early"
    assert sum(s.duration_h for s in spans) == 3 * 24 + 1 + 8  # one repeated hour, and the 8 h edge
    assert all(a.end_utc == b.start_utc for a, b in itertools.pairwise(spans))


def test_span_of_round_trips() -> None:
    span = BERLIN.shift_at(_utc("2026-03-29T02:30:00", "UTC"))
    assert BERLIN.span_of(span.id) == span


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"starts": ("06:00", "6am"), "names": ("a", "b")}, "shifts.starts"),
        ({"starts": ("14:00", "06:00"), "names": ("a", "b")}, "shifts.starts"),
        ({"names": ("a",)}, "shifts.names"),
        ({"names": ("a", "a", "b")}, "shifts.names"),
        ({"zone": "Mars/Olympus"}, "shifts.zone"),
    ],
)
def test_bad_schedules_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(StationError, match=field):
        ShiftSchedule(**kwargs)  # type: ignore[arg-type]


def test_span_of_refuses_garbage() -> None:
    with pytest.raises(StationError, match="shift id"):
        BERLIN.span_of("yesterday/early")
    with pytest.raises(StationError, match="no shift named"):
        BERLIN.span_of("2026-01-01/brunch")
