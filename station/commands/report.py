"""`station report`: per-shift counts, yield, rejects by class, confirmed escapes/scrap."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from station.core.errors import StationError
from station.storage.paths import default_db_path
from station.storage.reports import (
    Report,
    Selection,
    iso,
    parse_time,
    report_to_json,
    shift_report,
    station_zone,
    write_csv,
)
from station.storage.schema import connect_reader


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="per-shift summary of the inspection log",
        description="Per-shift counts, yield, rejects by class, no-decisions, threshold changes "
        "and "
        "confirmed escape/scrap figures, computed from the log. Without a selection: every shift.",
    )
    p.add_argument(
        "--db", type=Path, help="the log (default: the station's log in the user data dir)"
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--shift", metavar="ID", help="one shift, e.g. 2026-03-29/night")
    which.add_argument(
        "--date", metavar="YYYY-MM-DD", help="the shifts starting on that local date"
    )
    which.add_argument(
        "--from", dest="start", metavar="T", help="inspections at or after T (ISO 8601; local time)"
    )
    p.add_argument(
        "--to", dest="end", metavar="T", help="inspections before T (with --from, or alone)"
    )
    p.add_argument("--csv", type=Path, metavar="FILE", help="also write one row per shift to FILE")
    p.add_argument("--json", action="store_true", help="print the stable JSON document")
    p.set_defaults(func=_main)


def _selection(args: argparse.Namespace, zone: str) -> Selection:
    if args.end is not None and (args.shift or args.date):
        raise StationError("--to: use it with --from (or alone), not with --shift or --date")
    day = None
    if args.date is not None:
        try:
            day = date.fromisoformat(args.date)
        except ValueError:
            raise StationError(f"--date: expected YYYY-MM-DD, got {args.date!r}") from None
    start = None if args.start is None else parse_time(args.start, zone, "--from")
    end = None if args.end is None else parse_time(args.end, zone, "--to")
    if start is not None and end is not None and end <= start:
        raise StationError(f"--to: {args.end} is not after --from {args.start}")
    return Selection(shift_id=args.shift, day=day, start_utc=start, end_utc=end)


def _main(args: argparse.Namespace) -> int:
    db = args.db or default_db_path()
    conn = connect_reader(db)
    try:
        zone = station_zone(conn)
    finally:
        conn.close()
    report = shift_report(db, _selection(args, zone))
    if args.csv is not None:
        write_csv(report, args.csv)
    if args.json:
        json.dump(report_to_json(report), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(render_text(report, db))
    if not report.shifts and args.shift:
        print(f"station report: no inspections logged in shift {args.shift!r}", file=sys.stderr)
    return 0


def render_text(report: Report, db: Path) -> str:
    """A table a supervisor can read in a terminal."""
    lines = [f"log: {db}  (times in {report.zone})"]
    header = f"{'shift':<24} {'start':<17} {'end':<17} {'parts':>7} {'pass':>7} {'reject':>7} "
    header += f"{'no-dec':>6} {'yield':>7}  top reject classes"
    lines.append(header)
    for s in report.shifts:
        top = ", ".join(f"{c} {n}" for c, n in list(s.rejects_by_class.items())[:3])
        y = "-" if s.yield_ is None else f"{100 * s.yield_:.2f}%"
        start = (iso(s.start_utc, s.zone) or "?")[:16].replace("T", " ")
        end = (iso(s.end_utc, s.zone) or "?")[:16].replace("T", " ")
        lines.append(
            f"{s.id:<24} {start:<17} {end:<17} {s.inspected:>7} {s.passed:>7} {s.rejected:>7} "
            f"{s.no_decision:>6} {y:>7}  {top}"
        )
        extras = []
        if s.confirmed.get("parts"):
            extras.append(
                f"confirmed {s.confirmed['parts']} parts: {s.confirmed['escapes']} escapes, "
                f"{s.confirmed['scrap']} scrapped good"
            )
        if s.threshold_changes:
            extras.append(f"{len(s.threshold_changes)} threshold change(s)")
        if s.no_decision_reasons:
            extras.append(
                "no decision: " + ", ".join(f"{w} {n}" for w, n in s.no_decision_reasons.items())
            )
        for e in extras:
            lines.append(f"{'':<24} {e}")
    t = report.totals
    y = f"{100 * t['passed'] / t['inspected']:.2f}%" if t["inspected"] else "-"
    lines.append(
        f"{'total':<24} {'':<17} {'':<17} {t['inspected']:>7} {t['passed']:>7} {t['rejected']:>7} "
        f"{t['no_decision']:>6} {y:>7}"
    )
    return "\n".join(lines)
