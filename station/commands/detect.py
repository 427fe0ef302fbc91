"""`station detect` (not built yet)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("detect", help="(not built yet)")
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    print("station detect: not built yet")
    return 1
