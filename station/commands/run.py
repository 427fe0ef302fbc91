"""`station run`: the operator window (plain `station` runs it too)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="open the operator window and inspect parts live (the default command)",
        description=(
            "Open the operator window: live view, PASS/REJECT/NO DECISION banner, shift counters, "
            "thresholds. Without --recipe it runs the shipped default recipe (synthetic line, "
            "shipped model, log in the user data directory)."
        ),
    )
    p.add_argument(
        "--recipe", type=Path, metavar="FILE", help="recipe TOML (default: the shipped one)"
    )
    p.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="SQLite log file (default: the recipe's db_path, else the user data directory)",
    )
    p.add_argument(
        "--no-autostart",
        action="store_true",
        help="come up stopped even when the recipe says autostart = true (press F5 to start)",
    )
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from station.app import run

    return run(args.recipe, args.db, False if args.no_autostart else None)
