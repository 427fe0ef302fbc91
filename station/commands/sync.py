"""`station sync --db D --to URL [--json]`: forward the journal to the central database now."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from station.core.errors import StationError
from station.outputs.central.forwarder import Forwarding
from station.services.forwarding import open_forwarding
from station.storage.paths import default_db_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sync",
        help="forward the log to the central database now",
        description="Send every journal row the central database has not acknowledged, in "
        "order, then print what was sent, what remains and any quarantined rows (refused by "
        "the server, kept in the log). Exit 1 when rows remain (the server was lost mid-way), "
        "2 when nothing could be sent (unreachable server, no schema, a refused station id).",
    )
    p.add_argument(
        "--db", type=Path, help="the log (default: the station's log in the user data dir)"
    )
    p.add_argument(
        "--to", required=True, metavar="URL", help="postgresql://user@host:port/database"
    )
    p.add_argument("--json", action="store_true", help="print a JSON document")
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    fwd = open_forwarding(args.db or default_db_path(), args.to)
    error = ""
    try:
        try:
            while True:
                fwd.step()
                if fwd.idle:
                    break
        except StationError as exc:
            if not fwd.sent:
                raise  # nothing sent: a one-line refusal (exit 2)
            error = str(exc)
        doc = _summary(fwd, error)
    finally:
        fwd.close()
    if args.json:
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(_text(doc))
    if error:
        print(f"station sync: error: {error}", file=sys.stderr)
    return 1 if doc["remaining"] else 0


def _summary(fwd: Forwarding, error: str) -> dict[str, Any]:
    status = fwd.status(connected=not error)
    return {
        "station_id": status.station_id,
        "target": status.target,
        "sent": status.sent,
        "remaining": status.rows_behind,
        "oldest_remaining_age_s": status.to_json()["oldest_age_s"],
        "acknowledged_sequence": fwd.after,
        "quarantined": [
            {
                "sequence": q.sequence,
                "kind": q.kind,
                "row_id": q.row_id,
                "error": q.error,
                "attempts": q.attempts,
            }
            for q in fwd.journal.quarantined()
        ],
        "error": error or None,
    }


def _text(doc: dict[str, Any]) -> str:
    lines = [
        f"station {doc['station_id']} -> {doc['target']}: sent {doc['sent']:,} rows, "
        f"{doc['remaining']:,} remaining (acknowledged up to sequence "
        f"{doc['acknowledged_sequence']})"
    ]
    for q in doc["quarantined"]:
        lines.append(
            f"quarantined: sequence {q['sequence']} ({q['kind']} row {q['row_id']}), refused "
            f"{q['attempts']} times: {q['error']} (kept in the log)"
        )
    return "\n".join(lines)
