"""One shift's report and a report of several: the shape `station report` prints.

Built from the station's journal (`storage.reports`) and from the plant's
central database (`services.plant_report`) alike, by `one_shift` from the
outcome counts. Counts are parts: yield = passed / inspected (a NO DECISION
is not a pass). `rejects_by_class` counts each rejected part once per class
that rejected it, so its values can sum to more than `rejected`; confirmed
escapes and scrap are `station.core.outcomes`' tallies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from station.core.outcomes import Tally, yield_of
from station.core.selection import Selection
from station.core.shadow import ShadowCounts


@dataclass(frozen=True, slots=True)
class ShiftReport:
    id: str
    name: str
    start_utc: float | None
    end_utc: float | None
    zone: str
    inspected: int = 0
    passed: int = 0
    rejected: int = 0
    no_decision: int = 0
    rejects_by_class: dict[str, int] = field(default_factory=dict)
    no_decision_reasons: dict[str, int] = field(default_factory=dict)
    threshold_changes: list[dict[str, Any]] = field(default_factory=list)
    confirmed: dict[str, int] = field(default_factory=dict)
    truth: dict[str, int] = field(default_factory=dict)
    shadow: dict[str, int] = field(default_factory=lambda: ShadowCounts().as_dict())

    @property
    def yield_(self) -> float | None:
        """passed / inspected, None for an empty shift."""
        return yield_of(self.passed, self.inspected)


Span = tuple[str, float | None, float | None, str]
"""A shift's name, start and end (UTC seconds, None when unknown) and time zone."""


def one_shift(
    shift_id: str,
    span: Span,
    outcomes: dict[str, int],
    changes: list[tuple[float, dict[str, Any]]],
    *,
    rejects_by_class: dict[str, int],
    no_decision_reasons: dict[str, int],
    confirmed: Tally | None,
    truth: Tally | None,
    shadow: ShadowCounts | None = None,
) -> ShiftReport:
    """One shift's report from its outcome counts: the journal's and the plant's alike.

    `changes` are (time, change) pairs; those inside the shift's span are kept.
    """
    name, start, end, zone = span
    return ShiftReport(
        id=shift_id,
        name=name,
        start_utc=start,
        end_utc=end,
        zone=zone,
        inspected=sum(outcomes.values()),
        passed=outcomes.get("PASS", 0),
        rejected=outcomes.get("REJECT", 0),
        no_decision=outcomes.get("NO DECISION", 0),
        rejects_by_class=rejects_by_class,
        no_decision_reasons=no_decision_reasons,
        threshold_changes=[
            ch for t, ch in changes if start is not None and end is not None and start <= t < end
        ],
        confirmed=(confirmed or Tally()).as_dict(),
        truth=(truth or Tally()).as_dict(),
        shadow=(shadow or ShadowCounts()).as_dict(),
    )


@dataclass(frozen=True, slots=True)
class Report:
    shifts: list[ShiftReport]
    zone: str
    selection: Selection

    @property
    def totals(self) -> dict[str, int]:
        keys = ("inspected", "passed", "rejected", "no_decision")
        return {k: sum(getattr(s, k) for s in self.shifts) for k in keys}
