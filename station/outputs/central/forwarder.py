"""Store and forward: the journal's outbox to the central database, in order, acknowledged.

`Forwarding` moves one batch per `step()`; `station sync` drives it in the
foreground, `CentralForwarder` on a background thread while the line runs.
The high-water mark only moves on the server's commit, and after every
(re)connection it restarts from the server's own `last_sequence`: a batch
whose acknowledgement was lost is sent again and lands once (upserts keyed by
(station_id, sequence)). A slow or absent server only grows the backlog.

A batch the server refuses (a data or constraint error, not a lost
connection) is resent one row at a time to find the row; a row refused
`max_attempts` times is quarantined, locally and centrally, and skipped: it
stays in the journal, listed by `station sync`, never lost and never retried
forever.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Protocol

from station.core.errors import StationError
from station.core.outbox import OutboxBatch, OutboxEntry, QuarantinedRow
from station.outputs.central.connection import check_url, psycopg_module
from station.outputs.central.forward_status import ForwardStatus
from station.outputs.central.sender import CentralSession


class Outbox(Protocol):
    """The journal's side (station.storage.outbox.OutboxJournal)."""

    target: str

    @property
    def journal_id(self) -> str: ...
    def station_id(self, wanted: str | None = None) -> str: ...
    def zone(self) -> str: ...
    def acked(self) -> int: ...
    def backlog(self, after: int, now: float | None = None) -> tuple[int, float | None]: ...
    def pending(self, after: int, limit: int) -> OutboxBatch | None: ...
    def quarantined(self) -> list[QuarantinedRow]: ...
    def ack(self, sequence: int) -> None: ...
    def quarantine(self, entry: OutboxEntry, error: str, attempts: int) -> None: ...
    def close(self) -> None: ...


class Forwarding:
    """One journal's outbox forwarded to the server at `url`, a batch per `step()`.

    Takes ownership of `outbox` (closes it). Not thread-safe.
    """

    def __init__(
        self,
        outbox: Outbox,
        url: str,
        station_id: str | None = None,
        *,
        batch_rows: int = 2000,
        max_attempts: int = 3,
    ) -> None:
        self.url = url
        self.target = check_url(url)
        if outbox.target != self.target:
            outbox.close()
            raise StationError(f"outbox is for {outbox.target}, not {self.target}")
        self.journal = outbox
        try:
            self.station_id = self.journal.station_id(station_id)
        except BaseException:
            self.journal.close()
            raise
        self.batch_rows = batch_rows
        self.max_attempts = max_attempts
        self.session: CentralSession | None = None
        self.after = self.journal.acked()
        self.sent = 0
        self.last_error = ""
        self._narrow_until = 0  # after a refused batch: smaller batches up to here
        self._limit = batch_rows
        self._attempts: dict[int, int] = {}
        self.idle = False  # the last step found nothing to send

    def connect(self) -> CentralSession:
        if self.session is None or self.session.broken:
            self._drop_session()
            self.session = CentralSession(
                self.url, self.station_id, self.journal.journal_id, self.journal.zone()
            )
            # The server's commit is the truth: resend whatever it has not acknowledged.
            self.after = self.session.last_sequence
            self.journal.ack(self.after)
        return self.session

    def step(self) -> int:
        """Send the next batch; returns the rows acknowledged or quarantined (0: nothing to send).

        Raises StationError when the server cannot be reached (the batch stays queued).
        """
        psycopg = psycopg_module()
        session = self.connect()
        if self.after >= self._narrow_until:
            self._limit = self.batch_rows
        batch = self.journal.pending(self.after, self._limit)
        self.idle = batch is None
        if batch is None:
            return 0
        try:
            session.send(batch)
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            return self._refused(session, batch, exc)
        except psycopg.Error as exc:
            self._drop_session()
            raise StationError(f"central database {self.target}: {_first_line(exc)}") from None
        self._acked(batch.last, len(batch))
        return len(batch)

    def _refused(self, session: CentralSession, batch: OutboxBatch, exc: Exception) -> int:
        if len(batch) > 1:
            # Bisect towards the refused row; full batches again once past this one.
            self._narrow_until = max(self._narrow_until, batch.last)
            self._limit = max(1, len(batch) // 2)
            return 0
        entry = batch.entries[0]
        attempts = self._attempts.get(entry.sequence, 0) + 1
        self._attempts[entry.sequence] = attempts
        error = _first_line(exc)
        self.last_error = f"row {entry.sequence} ({entry.kind}) refused: {error}"
        if attempts < self.max_attempts:
            return 0
        self.journal.quarantine(entry, error, attempts)
        session.quarantine(entry, error)
        self._attempts.pop(entry.sequence, None)
        self._acked(entry.sequence, 1)
        return 1

    def _acked(self, sequence: int, n: int) -> None:
        self.after = sequence
        self.sent += n
        self.journal.ack(sequence)
        self.last_error = ""

    def status(self, connected: bool | None = None) -> ForwardStatus:
        behind, oldest = self.journal.backlog(self.after)
        return ForwardStatus(
            self.target,
            self.station_id,
            self.session is not None and not self.session.broken
            if connected is None
            else connected,
            behind,
            oldest,
            len(self.journal.quarantined()),
            self.sent,
            self.last_error,
            time.time(),
        )

    def _drop_session(self) -> None:
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.session.close()
            self.session = None

    def close(self) -> None:
        self._drop_session()
        self.journal.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class CentralForwarder:
    """Forwarding on a daemon thread: the line never waits for the network.

    `open_forwarding` builds the `Forwarding` on the thread (its SQLite
    connection belongs there). `status` is the latest snapshot (refreshed every
    `poll_s` while idle and after every batch); reconnection backs off from
    `poll_s` to `retry_max_s`.
    """

    def __init__(
        self,
        open_forwarding: Callable[[], Forwarding],
        url: str,
        station_id: str | None = None,
        *,
        poll_s: float = 0.2,
        retry_max_s: float = 10.0,
    ) -> None:
        self._open = open_forwarding
        self.poll_s = poll_s
        self.retry_max_s = retry_max_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.status = ForwardStatus(check_url(url), station_id or "")
        self._thread = threading.Thread(target=self._run, name="CentralForwarder", daemon=True)

    def start(self) -> CentralForwarder:
        self._thread.start()
        return self

    def wake(self) -> None:
        """New rows were logged: look now rather than at the next poll."""
        self._wake.set()

    def drain(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for everything logged so far to be acknowledged (True: it was)."""
        asked = time.time()
        end = time.monotonic() + timeout_s
        self.wake()
        while time.monotonic() < end and self._thread.is_alive():
            s = self.status
            if s.up_to_date and s.as_of_utc >= asked:
                return True
            time.sleep(0.05)
        return False

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop forwarding (what is not sent stays queued in the journal). Idempotent."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        fwd: Forwarding | None = None
        delay = self.poll_s
        try:
            while not self._stop.is_set():
                try:
                    if fwd is None:
                        fwd = self._open()
                    moved = fwd.step()
                    delay = self.poll_s
                    self.status = fwd.status()
                    if moved:
                        continue  # more may be waiting: no sleep between batches
                except Exception as exc:  # shown, retried with back-off; never kills the thread
                    if fwd is not None:
                        fwd.last_error = str(exc)
                        self.status = fwd.status(connected=False)
                    else:
                        self.status = ForwardStatus(
                            self.status.target, self.status.station_id, last_error=str(exc)
                        )
                    delay = min(self.retry_max_s, max(self.poll_s, delay * 2))
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            if fwd is not None:
                fwd.close()
