"""`station report`: per-shift counts, yield, rejects by class, confirmed escapes/scrap."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from datetime import date
from pathlib import Path
from typing import Any

from station.core.errors import StationError
from station.core.selection import Selection
from station.core.shift_report import Report
from station.storage.errors import explain
from station.storage.integrity import LogCheck, verify_under
from station.storage.opening import connect_reader
from station.storage.paths import default_db_path
from station.storage.report_formats import report_to_json, write_csv
from station.storage.reports import iso, parse_time, shift_report, station_zone


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
    central = p.add_argument_group("the plant's central database (instead of --db)")
    central.add_argument(
        "--central", metavar="URL", help="report from postgresql://user@host:port/database"
    )
    central.add_argument(
        "--plant", action="store_true", help="one row per shift across stations (with --central)"
    )
    central.add_argument("--station", metavar="ID", help="one station only (with --central)")
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


SHIFTS_LISTED = 12


def _check_shift(conn: sqlite3.Connection, shift_id: str, db: Path) -> None:
    """Refuse a shift the log does not have, listing the ones it has (newest last)."""
    known = [
        str(sid)
        for (sid,) in conn.execute(
            "SELECT id FROM shifts WHERE id IN (SELECT DISTINCT shift_id FROM inspections) "
            "ORDER BY coalesce(start_utc, 0), id"
        )
    ]
    if shift_id in known:
        return
    if not known:
        raise StationError(f"--shift: no shift {shift_id!r} in {db}: nothing is logged in it yet")
    shown = ", ".join(known[-SHIFTS_LISTED:])
    earlier = len(known) - SHIFTS_LISTED
    more = f" (and {earlier} earlier)" if earlier > 0 else ""
    raise StationError(f"--shift: no shift {shift_id!r} in {db}; its shifts: {shown}{more}")


def _chain_json(check: LogCheck) -> dict[str, Any]:
    return {"intact": check.ok, "problems": [t.line() for t in check.broken]}


def _main(args: argparse.Namespace) -> int:
    if args.central is not None:
        from station.commands.report_central import report_central

        return report_central(args, _selection)
    if args.plant or args.station is not None:
        raise StationError(
            "--plant/--station: these report the central database; add --central URL"
        )
    db = args.db or default_db_path()
    conn = connect_reader(db)
    try:
        selection = _selection(args, station_zone(conn))
        if args.shift is not None:
            _check_shift(conn, args.shift, db)
        report = shift_report(db, selection)
        whole = report.selection == Selection()
        check = verify_under(conn, None if whole else [s.id for s in report.shifts])
    except sqlite3.Error as exc:
        raise explain(db, exc) from exc
    finally:
        conn.close()
    if args.csv is not None:
        write_csv(report, args.csv, "intact" if check.ok else f"BROKEN: {check.where()}")
    if args.json:
        doc = report_to_json(report)
        doc["chain"] = _chain_json(check)
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(render_text(report, db, check))
    for table in check.broken:
        print(f"station report: WARNING: {table.line()}", file=sys.stderr)
    if not check.ok:
        print(
            "station report: WARNING: the log under this report was edited after it was "
            f"written; its figures cannot be trusted (`station audit verify --db {db}`)",
            file=sys.stderr,
        )
    return 0


def render_text(report: Report, db: Path, check: LogCheck | None = None) -> str:
    """A table a supervisor can read in a terminal (headed by a warning if the chain broke)."""
    lines = [f"log: {db}  (times in {report.zone})"]
    if check is not None and not check.ok:
        lines.insert(
            0, f"WARNING: AUDIT CHAIN BROKEN ({check.where()}): these figures may be edited"
        )
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
            parts, esc = s.confirmed["parts"], s.confirmed["escapes"]
            extras.append(
                f"confirmed {parts} part{'s' if parts != 1 else ''}: "
                f"{esc} escape{'s' if esc != 1 else ''}, "
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
