"""A report as files: the stable `station report --json` document and the CSV export.

The same for the station's journal and the plant's central database: both
build a `Report` (`storage.reports`); here it is only written out. Times
are ISO 8601 in the shift's zone.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from station.core.errors import StationError
from station.core.outcomes import yield_of
from station.core.shadow import KEYS as SHADOW_KEYS
from station.core.shift_report import Report
from station.storage.reports import iso


def report_to_json(report: Report) -> dict[str, Any]:
    """The stable `station report --json` document (keys are only ever added)."""
    shifts = []
    for s in report.shifts:
        shifts.append(
            {
                "id": s.id,
                "name": s.name,
                "start": iso(s.start_utc, s.zone),
                "end": iso(s.end_utc, s.zone),
                "inspected": s.inspected,
                "passed": s.passed,
                "rejected": s.rejected,
                "no_decision": s.no_decision,
                "yield": None if s.yield_ is None else round(s.yield_, 6),
                "rejects_by_class": dict(s.rejects_by_class),
                "no_decision_reasons": dict(s.no_decision_reasons),
                "threshold_changes": list(s.threshold_changes),
                "confirmed": dict(s.confirmed),
                "truth": dict(s.truth),
                "shadow": dict(s.shadow),
            }
        )
    totals: dict[str, Any] = dict(report.totals)
    y = yield_of(totals["passed"], totals["inspected"])
    totals["yield"] = None if y is None else round(y, 6)
    shadow = {k: sum(s.shadow[k] for s in report.shifts) for k in SHADOW_KEYS}
    return {"zone": report.zone, "totals": totals, "shadow": shadow, "shifts": shifts}


CSV_COLUMNS = (
    "id",
    "name",
    "start",
    "end",
    "inspected",
    "passed",
    "rejected",
    "no_decision",
    "yield",
    "confirmed_parts",
    "confirmed_escapes",
    "confirmed_scrap",
    "threshold_changes",
)


def write_csv(report: Report, path: Path, chain: str = "") -> None:
    """One row per shift; one `rejected_<class>` column per class seen in the report, then
    `audit_chain` (last, so that columns read by position keep their place).
    `chain`: `intact`, or where the audit chain under the report broke (a file read without
    the terminal's warning must still say so); "" where no chain was checked (`--central`)."""
    classes = sorted({c for s in report.shifts for c in s.rejects_by_class})
    doc = report_to_json(report)
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow([*CSV_COLUMNS, *(f"rejected_{c}" for c in classes), "audit_chain"])
            for s, js in zip(report.shifts, doc["shifts"], strict=True):
                w.writerow(
                    [
                        js["id"],
                        js["name"],
                        js["start"],
                        js["end"],
                        s.inspected,
                        s.passed,
                        s.rejected,
                        s.no_decision,
                        "" if js["yield"] is None else js["yield"],
                        s.confirmed["parts"],
                        s.confirmed["escapes"],
                        s.confirmed["scrap"],
                        len(s.threshold_changes),
                        *(s.rejects_by_class.get(c, 0) for c in classes),
                        chain,
                    ]
                )
    except OSError as exc:
        raise StationError(f"--csv {path}: cannot write ({exc.strerror})") from exc
