"""`station promote`: switch a recipe to a qualified candidate model, or roll back one step.

    station promote --recipe R --candidate B.onnx --from-compare report.json [--who W] [--reason T]
    station promote --recipe R --rollback [--who W] [--reason T]

The supervisor PIN is asked for on the terminal (read from the first line of
standard input when that is not a terminal). Both steps are audited in the
station's log (`--db`, else the recipe's `[station] db`, else the default log).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from station.core.errors import StationError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "promote",
        help="switch a recipe to a candidate model qualified by `station compare` (or roll back)",
        description=(
            "Switch the recipe to the candidate model with the thresholds `station compare` "
            "re-derived for it. The compare report must be about this recipe's model and this "
            "candidate file (SHA-256) with a better or equivalent verdict. Supervisor PIN, "
            "audited; the previous recipe is kept beside it for a one-step --rollback, also "
            "audited."
        ),
    )
    p.add_argument("--recipe", type=Path, required=True, metavar="R", help="the recipe to change")
    p.add_argument("--candidate", type=Path, metavar="B.onnx", help="the model to promote")
    p.add_argument(
        "--from-compare",
        type=Path,
        metavar="report.json",
        help="`station compare --current <recipe's model> --candidate B.onnx --json` output",
    )
    p.add_argument(
        "--rollback", action="store_true", help="restore the recipe as it was before the promotion"
    )
    p.add_argument("--who", help="who promotes, for the audit trail (default: the login name)")
    p.add_argument(
        "--reason", help="why, for the audit trail (default: the compare verdict and its reason)"
    )
    p.add_argument("--db", type=Path, help="the station's log for the audit entry")
    p.add_argument("--pin-file", type=Path, help=argparse.SUPPRESS)  # tests: a PIN store path
    p.set_defaults(func=_main)


def _pin() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("supervisor PIN: ")
    return sys.stdin.readline().strip()


def _main(args: argparse.Namespace) -> int:
    from station.services.promotion import plan_promotion, promote, rollback
    from station.services.recipe_file import load_recipe
    from station.services.tuning_store import PinStore
    from station.storage.log import SqliteInspectionLog
    from station.storage.paths import default_db_path

    if args.rollback:
        if args.candidate is not None or args.from_compare is not None:
            raise StationError("--rollback: takes no --candidate or --from-compare")
        recipe = load_recipe(args.recipe)
        change = None
    else:
        missing = [f for f in ("candidate", "from_compare") if getattr(args, f) is None]
        if missing:
            raise StationError(f"--{missing[0].replace('_', '-')}: required to promote")
        change = plan_promotion(args.recipe, args.candidate, args.from_compare)
        recipe = change.recipe
    who = args.who or getpass.getuser()
    if change is None:
        reason = args.reason or "rollback with station promote --rollback"
    else:
        ev = change.evidence
        reason = args.reason or f"station compare verdict {ev.verdict}: {ev.reason}"
    pin = _pin()
    db = Path(args.db or recipe.db_path or default_db_path()).expanduser()
    pins = PinStore(args.pin_file) if args.pin_file else PinStore()
    with SqliteInspectionLog(db, schedule=recipe.shifts, archive=recipe.archive) as log:
        if change is None:
            restored = rollback(args.recipe, who, reason, pin, pins, log)
            print(f"rolled back {args.recipe}: model {restored.model.path} (audited in {db})")
        else:
            new = promote(change, who, reason, pin, pins, log)
            th = ", ".join(f"{k} {v:g}" for k, v in new.thresholds.class_thresholds.items())
            print(
                f"promoted {new.model.path} in {args.recipe} (verdict "
                f"{change.evidence.verdict}); thresholds {th}; audited in {db}; "
                "`station promote --rollback` restores the previous model"
            )
    return 0
