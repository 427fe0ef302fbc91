"""Argument parsing only: each subcommand lives in `station.commands` and calls the core."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from station.commands import COMMANDS
from station.core.errors import StationError


class OneLineParser(argparse.ArgumentParser):
    """Refuses a bad flag in one line on stderr, exit 2, like any other bad input
    (argparse would print the whole usage first). Subcommands' parsers are of this class."""

    commands: dict[str, argparse.ArgumentParser]

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="station",
        description="Quality-control inspection station. With no command: the operator window.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    parser.commands = dict(sub.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "run")
    args, unknown = parser.parse_known_args(args_list)
    if unknown:  # named by the subcommand that was given them, not by `station`
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args.func(args) or 0)
    except StationError as exc:
        print(f"station {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
