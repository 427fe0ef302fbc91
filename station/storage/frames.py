"""Reject frames between the writer and the archive: handed over after commit, attached after.

A frame goes to the archiver only once its row committed (the loop never waits
for image I/O); the archiver's thread reports back, and the frame's path joins
its row in a later group commit, or an `archive_error` event says why it could
not be written (the row stays).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from station.storage import archive as arch
from station.storage.audit import canonical_details
from station.storage.errors import LogUnavailable, explain
from station.storage.inspections import TIME, archive_tag
from station.storage.writer import GroupCommitWriter, Item, Kind


class FrameFeed:
    """Owns the archiver thread; `committed()` runs on the writer thread after each commit."""

    def __init__(
        self, writer: GroupCommitWriter, folder: Path, image_format: str, db_path: Path
    ) -> None:
        self._writer, self._folder, self._db_path = writer, folder, db_path
        self.failures = 0
        self._archiver = arch.Archiver(folder, image_format, self._attach, self._failed)

    def committed(self, items: list[Item]) -> None:
        """Hand the frames of committed rejects, no-decisions and shadow disagreements to the
        archiver."""
        for it in items:
            if it.kind is Kind.INSPECTION and it.frame is not None:
                image = arch.PendingImage(it.row_id, it.payload[TIME], archive_tag(it), it.frame)
                self._archiver.put(image)
            elif it.kind is Kind.SHADOW and it.frame is not None:  # a disagreement's frame
                row_id, time_utc = it.payload[0], it.payload[1]
                self._archiver.put(arch.PendingImage(row_id, time_utc, "shadow", it.frame))

    @property
    def archiver(self) -> arch.Archiver:
        return self._archiver

    def close(self) -> None:
        """Write every pending frame (their ATTACH items are queued when this returns)."""
        self._archiver.close()

    def _attach(self, image: arch.PendingImage, rel: str, nbytes: int) -> None:
        """Archiver thread: the frame is on disk; name it in its row."""
        try:
            payload = (image.row_id, rel, nbytes, image.time_utc)
            self._writer.enqueue(Item(Kind.ATTACH, payload), internal=True, lazy=True)
        except LogUnavailable:
            arch.remove_quietly(self._folder, [rel])

    def _failed(self, image: arch.PendingImage, exc: BaseException) -> None:
        """Archiver thread: the frame could not be written; the row stays, the event says so."""
        row_id = image.row_id
        self.failures += 1
        why = explain(self._db_path, exc) if isinstance(exc, OSError) else exc
        payload = (
            time.time(),
            "archive_error",
            f"reject archive: frame of part {row_id} not saved: {why}",
            canonical_details({"row_id": row_id, "error": str(exc)}),
        )
        with contextlib.suppress(LogUnavailable):
            self._writer.enqueue(Item(Kind.EVENT, payload), internal=True)
