"""`station audit verify`: walk the hash-chained event trail of the log."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from station.storage.audit import verify_chain
from station.storage.errors import explain
from station.storage.paths import default_db_path
from station.storage.schema import connect_reader

EXIT_BROKEN = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="check the log's audit trail")
    verbs = p.add_subparsers(dest="audit_command", metavar="VERB", required=True)
    v = verbs.add_parser(
        "verify",
        help="verify the hash chain of the event trail",
        description="Exit 0 when every entry's SHA-256 chain is intact; exit 1 naming the first "
        "entry that was edited, or follows a deleted one.",
    )
    v.add_argument(
        "--db", type=Path, help="the log (default: the station's log in the user data dir)"
    )
    v.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    db = args.db or default_db_path()
    conn = connect_reader(db)
    try:
        check = verify_chain(conn)
    except sqlite3.Error as exc:
        raise explain(db, exc) from exc
    finally:
        conn.close()
    if check.ok:
        print(f"audit trail intact: {check.entries} entries in {db}")
        return 0
    print(f"audit trail BROKEN at entry {check.first_bad_id}: {check.problem}")
    return EXIT_BROKEN
