"""`station report --central URL [--plant] [--station ID]`: the shift report over every station."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path

from station.core.errors import StationError
from station.core.selection import Selection
from station.core.shift_report import Report
from station.services.plant_report import PlantReport, plant_report, plant_report_to_json
from station.storage.report_formats import write_csv
from station.storage.reports import iso


def report_central(
    args: argparse.Namespace, selection: Callable[[argparse.Namespace, str], Selection]
) -> int:
    if args.db is not None:
        raise StationError("--db: report either one log (--db) or the central database (--central)")
    # Times without an offset are read in UTC: the plant's stations may keep different zones.
    pr = plant_report(
        args.central, selection(args, "UTC"), station_id=args.station, plant=args.plant
    )
    if args.station is not None and not pr.stations:
        raise StationError(f"--station: the central database has no station {args.station!r}")
    if args.csv is not None:
        write_csv(_labelled(pr), args.csv)
    if args.json:
        json.dump(plant_report_to_json(pr), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(render_plant(pr))
    return 0


def _labelled(pr: PlantReport) -> Report:
    """Shift rows named "station shift" unless they are plant-wide."""
    shifts = [
        dataclasses.replace(s, id=f"{station} {s.id}") if station else s
        for s, station in zip(pr.report.shifts, pr.shift_stations, strict=True)
    ]
    return Report(shifts, pr.report.zone, pr.report.selection)


def render_plant(pr: PlantReport) -> str:
    from station.commands.report import render_text

    lines = render_text(_labelled(pr), Path(pr.target)).splitlines()
    lines[0] = f"central: {pr.target}  (times in {pr.report.zone})"
    lines += ["", f"{'station':<24} {'parts':>9} {'pass':>9} {'reject':>7} {'no-dec':>6} "
              f"{'yield':>7}  last seen"]  # fmt: skip
    for s in pr.stations:
        y = "-" if s.yield_ is None else f"{100 * s.yield_:.2f}%"
        seen = (iso(s.last_seen_utc, pr.report.zone) or "-")[:19].replace("T", " ")
        lines.append(
            f"{s.station_id:<24} {s.inspected:>9} {s.passed:>9} {s.rejected:>7} "
            f"{s.no_decision:>6} {y:>7}  {seen}"
        )
    return "\n".join(lines)
