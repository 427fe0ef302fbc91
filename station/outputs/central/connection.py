"""The central database's URL and connections: never a password in a URL.

The password comes from libpq's own sources (PGPASSWORD, a .pgpass file or
PGPASSFILE), so a recipe can be copied, printed and committed safely.
psycopg is the optional extra `central`; without it the station runs and
says what to install when a central URL is used.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from station.core.errors import StationError

SCHEMES = ("postgresql", "postgres")
CONNECT_TIMEOUT_S = 5


def check_url(url: str, field: str = "url") -> str:
    """Validate a central URL; returns its target name (user@host:port/db), the ack key.

    Refuses another scheme, a missing database name and any password.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise StationError(f"{field}: not a valid URL ({exc})") from None
    if parts.scheme not in SCHEMES:
        raise StationError(
            f"{field}: expected a postgresql://user@host:port/database URL, got {url!r}"
        )
    if parts.password is not None:
        raise StationError(
            f"{field}: a password in the URL is refused; set PGPASSWORD or use a .pgpass file"
        )
    db = parts.path.lstrip("/")
    if not db:
        raise StationError(f"{field}: the URL names no database (postgresql://user@host/DATABASE)")
    user = f"{parts.username}@" if parts.username else ""
    return f"{user}{parts.hostname or 'localhost'}:{port or 5432}/{db}"


def psycopg_module() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StationError(
            "the central database needs psycopg: pip install 'inspection-station[central]'"
        ) from None
    return psycopg


def connect(url: str, *, application_name: str = "station") -> Any:
    """An autocommit psycopg connection (`with conn.transaction()` makes a transaction).

    StationError naming the target if it fails.
    """
    target = check_url(url)
    psycopg = psycopg_module()
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name=application_name,
            # A server that vanished without closing the socket is noticed within ~20 s.
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=2,
        )
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StationError(f"central database {target}: cannot connect ({first})") from None
