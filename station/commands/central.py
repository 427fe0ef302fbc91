"""`station central init --url URL`: create or upgrade the central database's schema."""

from __future__ import annotations

import argparse

from station.outputs.central import schema
from station.outputs.central.connection import check_url, connect


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("central", help="the plant's central PostgreSQL database")
    verbs = p.add_subparsers(dest="central_command", metavar="VERB", required=True)
    init = verbs.add_parser(
        "init",
        help="create or upgrade the central schema",
        description="Create the tables and indexes stations forward into, or upgrade them to "
        "this station's schema version (idempotent; safe while stations forward). The password "
        "comes from PGPASSWORD or a .pgpass file, never from the URL.",
    )
    init.add_argument(
        "--url", required=True, metavar="URL", help="postgresql://user@host:port/database"
    )
    init.set_defaults(func=_init)


def _init(args: argparse.Namespace) -> int:
    target = check_url(args.url, "--url")
    conn = connect(args.url, application_name="station central init")
    try:
        old, new = schema.init(conn)
    finally:
        conn.close()
    if old == new:
        print(f"central schema of {target} is current (version {new})")
    elif old == 0:
        print(f"central schema created in {target} (version {new})")
    else:
        print(f"central schema of {target} upgraded from version {old} to {new}")
    return 0
