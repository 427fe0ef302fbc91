"""The server's side of forwarding: one station's session with the central database.

A batch goes in one transaction: each kind is COPYed into a temporary staging
table, then `INSERT ... SELECT ... ON CONFLICT DO NOTHING` into its table, and
the station's `last_sequence` moves to the batch's last sequence. The commit
is the acknowledgement: a batch resent after a lost reply (or a killed
station) inserts nothing twice, so at-least-once delivery lands exactly once.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from station.core.errors import StationError
from station.core.outbox import OutboxBatch, OutboxEntry
from station.outputs.central import schema
from station.outputs.central.connection import check_url, connect
from station.outputs.central.tables import KINDS, KindSpec


class CentralSession:
    """An open connection for `station_id`, whose journal is `journal_id`.

    Refuses a station id the server already knows from another journal (two
    stations configured with one id, or a replaced journal), which would
    otherwise collide on (station_id, sequence) and lose rows silently.
    """

    def __init__(self, url: str, station_id: str, journal_id: str, zone: str = "UTC") -> None:
        self.target = check_url(url)
        self.station_id = station_id
        self._conn = connect(url, application_name=f"station-forwarder {station_id}")
        try:
            schema.require_current(self._conn, f"central database {self.target}")
            self.last_sequence = self._register(journal_id, zone)
        except BaseException:
            self._conn.close()
            raise

    def _register(self, journal_id: str, zone: str) -> int:
        with self._conn.transaction():
            self._conn.execute(
                "INSERT INTO stations (station_id, journal_id, hostname, zone) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (station_id) DO NOTHING",
                (self.station_id, journal_id, socket.gethostname(), zone),
            )
            known, last = self._conn.execute(
                "SELECT journal_id, last_sequence FROM stations WHERE station_id = %s FOR UPDATE",
                (self.station_id,),
            ).fetchone()
            if known != journal_id:
                raise StationError(
                    f"central database {self.target}: station {self.station_id!r} is already "
                    f"forwarded from another journal ({known[:8]}…, this one is "
                    f"{journal_id[:8]}…); give this station its own [station] id"
                )
            self._conn.execute(
                "UPDATE stations SET last_seen = now(), zone = %s WHERE station_id = %s",
                (zone, self.station_id),
            )
        return int(last)

    def send(self, batch: OutboxBatch) -> None:
        """Store a batch and acknowledge it (commit). psycopg errors propagate."""
        with self._conn.transaction():
            for kind, rows in batch.rows.items():
                if rows:
                    self._store(KINDS[kind], rows)
            self._conn.execute(
                "UPDATE stations SET last_sequence = greatest(last_sequence, %s), "
                "last_seen = now() WHERE station_id = %s",
                (batch.last, self.station_id),
            )
        self.last_sequence = max(self.last_sequence, batch.last)

    def _store(self, spec: KindSpec, rows: list[tuple[Any, ...]]) -> None:
        stage = f"stage_{spec.table}"
        columns = ", ".join(("station_id", "sequence", *spec.columns))
        # Created in this transaction if need be (a rolled-back batch takes it with it).
        self._conn.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS "
            f"AS SELECT {columns} FROM {spec.table} WITH NO DATA"
        )
        sid = self.station_id
        with self._conn.cursor().copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
            for row in rows:  # each row starts with its sequence
                copy.write_row((sid, *row))
        self._conn.execute(
            f"INSERT INTO {spec.table} ({columns}) SELECT {columns} FROM {stage} "
            "ON CONFLICT DO NOTHING"
        )

    def quarantine(self, entry: OutboxEntry, error: str) -> None:
        """Record a refused row centrally and move past it (the journal keeps the row)."""
        with self._conn.transaction():
            self._conn.execute(
                "INSERT INTO quarantine (station_id, sequence, kind, row_id, error, time_utc) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (self.station_id, entry.sequence, entry.kind, entry.row_id, error, time.time()),
            )
            self._conn.execute(
                "UPDATE stations SET last_sequence = greatest(last_sequence, %s), "
                "last_seen = now() WHERE station_id = %s",
                (entry.sequence, self.station_id),
            )
        self.last_sequence = max(self.last_sequence, entry.sequence)

    def close(self) -> None:
        self._conn.close()

    @property
    def broken(self) -> bool:
        return bool(self._conn.broken or self._conn.closed)
