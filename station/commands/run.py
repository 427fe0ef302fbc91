"""`station run`: the operator window (plain `station` runs it too)."""

from __future__ import annotations

import argparse
from pathlib import Path

from station.core.errors import StationError


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
    p.add_argument(
        "--headless",
        action="store_true",
        help="no window (and no Qt): inspect until SIGINT/SIGTERM, --duration or --parts; "
        "one status line per second on stderr, a summary on stdout",
    )
    p.add_argument(
        "--duration",
        type=_positive_float,
        metavar="S",
        help="with --headless: stop after S seconds",
    )
    p.add_argument(
        "--parts", type=_positive_int, metavar="N", help="with --headless: stop after N parts"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="with --headless: the summary as one JSON object {inspected, passed, rejected, "
        "no_decision, elapsed_s, parts_per_s, latency_ms: {p50, p99}} (with a [plc] table also "
        "plc: {clients, triggers, results, late})",
    )
    p.set_defaults(func=_main)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _main(args: argparse.Namespace) -> int:
    if args.headless:
        if args.no_autostart:  # a headless station has no Start button to press
            raise StationError(
                "--no-autostart: not with --headless (it inspects from the start; "
                "[station] autostart is for the window)"
            )
        from station.app_headless import run_headless

        return run_headless(
            args.recipe,
            args.db,
            duration_s=args.duration,
            max_parts=args.parts,
            as_json=args.json,
        )
    only_headless = [f for f in ("duration", "parts", "json") if getattr(args, f)]
    if only_headless:
        flags = ", ".join(f"--{f}" for f in only_headless)
        raise StationError(f"{flags}: only with --headless")
    from station.app_gui import run

    return run(args.recipe, args.db, False if args.no_autostart else None)
