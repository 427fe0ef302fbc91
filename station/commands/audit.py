"""`station audit verify|upgrade`: check the log's chains; upgrade an older log's schema."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from station.storage.errors import explain
from station.storage.integrity import verify_log
from station.storage.opening import connect, connect_reader, identify
from station.storage.paths import default_db_path

EXIT_BROKEN = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="check the log's audit trail")
    verbs = p.add_subparsers(dest="audit_command", metavar="VERB", required=True)
    v = verbs.add_parser(
        "verify",
        help="verify the hash chains of the inspections, confirmations and events",
        description="Read-only. Exit 0 when every chain (inspections, confirmations, events) "
        "is intact; exit 1 naming, on stderr, each broken chain's table, row id and first "
        "broken link (a row edited, deleted, added outside the station, or cut off the end); "
        "exit 2 when the file is not a current station log.",
    )
    _db_option(v)
    v.set_defaults(func=_verify)
    u = verbs.add_parser(
        "upgrade",
        help="upgrade an older log's schema in place (sealing its rows into the chain)",
        description="Brings a log written by an older station to this station's schema in one "
        "transaction; rows logged before the chain existed are sealed, and an event says how "
        "many. A log that is already current is left as it is.",
    )
    _db_option(u)
    u.set_defaults(func=_upgrade)


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db", type=Path, help="the log (default: the station's log in the user data dir)"
    )


def _verify(args: argparse.Namespace) -> int:
    db = args.db or default_db_path()
    conn = connect_reader(db)
    try:
        check = verify_log(conn)
    except sqlite3.Error as exc:
        raise explain(db, exc) from exc
    finally:
        conn.close()
    if check.ok:
        print(f"audit trail intact: {check.counts()} in {db}")
        return 0
    for table in check.broken:
        print(table.line(), file=sys.stderr)
    return EXIT_BROKEN


def _upgrade(args: argparse.Namespace) -> int:
    db = args.db or default_db_path()
    if identify(db).new:
        return _refuse_new(db)
    conn, (old, new) = connect(db)
    conn.close()
    if old == new:
        print(f"{db}: already at schema {new}; nothing to do")
    else:
        print(f"{db}: upgraded from schema {old} to {new}")
    return 0


def _refuse_new(db: Path) -> int:
    what = "no such file" if not db.exists() else "empty: nothing has been logged in it"
    print(f"station audit: error: inspection log {db}: {what}", file=sys.stderr)
    return 2
