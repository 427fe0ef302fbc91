"""The reject archive: frames of rejects and no-decisions, beside the database.

A frame is encoded, written and fsynced on the archiver's own thread after
its row committed, then attached to the row, so the inspection loop never
waits for image I/O and a committed row never names a missing file. The
size/age limit removes the oldest images and clears their path in the row
(recording when); rows are never deleted.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from station.core.errors import StationError
from station.core.files import fsync_folder

FORMATS = {"png": ".png", "jpeg": ".jpg", "jpg": ".jpg"}


@dataclass(frozen=True, slots=True)
class ArchiveLimit:
    """Keep at most `max_mb` megabytes (10^6 bytes) and images younger than `max_age_days`.

    None disables that limit. When the size limit is exceeded, the oldest images
    are removed until the archive is at 90% of the limit (so pruning is not
    repeated for every new reject).
    """

    max_mb: float | None = 1000.0
    max_age_days: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_mb", "max_age_days"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise StationError(
                    f"archive limit {name}: expected a positive number or None, got {value!r}"
                )

    @property
    def max_bytes(self) -> int | None:
        return None if self.max_mb is None else int(self.max_mb * 1_000_000)


def encode(frame: npt.NDArray[np.uint8], fmt: str) -> bytes:
    """The frame (H, W) or (H, W, 3) BGR uint8 as PNG or JPEG (quality 95) bytes."""
    ext = FORMATS[fmt]
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 1]
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(frame), params)
    if not ok:
        raise StationError(f"reject archive: cannot encode a frame of shape {frame.shape} as {fmt}")
    return bytes(buf)


def relative_path(row_id: int, day: str, outcome_tag: str, fmt: str) -> str:
    """`<UTC day>/<row id>-<reject|nodecision>.<ext>`: unique because the row id is."""
    return f"{day}/{row_id:010d}-{outcome_tag}{FORMATS[fmt]}"


def write_durably(root: Path, files: list[tuple[str, bytes]]) -> None:
    """Write each file, fsync it, then fsync the folders holding them."""
    folders: set[Path] = set()
    for rel, data in files:
        path = root / rel
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent.parent)
        folders.add(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    for folder in folders:
        fsync_folder(folder)


def remove_quietly(root: Path, rels: list[str]) -> int:
    """Delete files (already missing is fine); returns how many existed."""
    removed = 0
    for rel in rels:
        try:
            (root / rel).unlink()
            removed += 1
        except OSError:  # already gone, or the folder itself is unusable
            pass
    return removed


@dataclass(frozen=True, slots=True)
class PendingImage:
    """A committed row's frame waiting to be archived."""

    row_id: int
    time_utc: float
    outcome_tag: str
    frame: npt.NDArray[np.uint8]


class Archiver:
    """Encodes and writes reject frames on its own thread, off the inspection loop's path.

    A row is committed first (that is the guarantee the loop waits for); its
    frame is written and fsynced afterwards and only then attached to the row
    by `attach(image, relative_path, n_bytes)`. A crash in between leaves a
    row without an image, never a row naming a missing file. `failed(image,
    exc)` reports a frame that could not be written (the row stays).
    `max_pending` bounds the memory held by frames waiting: a caller blocks
    when that many are queued.
    """

    def __init__(
        self,
        root: Path,
        fmt: str,
        attach: Callable[[PendingImage, str, int], None],
        failed: Callable[[PendingImage, BaseException], None],
        max_pending: int = 64,
    ) -> None:
        self.root = root
        self.fmt = fmt
        self._attach = attach
        self._failed = failed
        self._queue: queue.Queue[PendingImage | None] = queue.Queue(maxsize=max_pending)
        self._thread = threading.Thread(target=self._run, name="RejectArchiver", daemon=True)
        self._thread.start()

    def put(self, item: PendingImage) -> None:
        self._queue.put(item)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """Write every queued frame, then stop."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            day = datetime.fromtimestamp(item.time_utc, UTC).strftime("%Y-%m-%d")
            rel = relative_path(item.row_id, day, item.outcome_tag, self.fmt)
            try:
                data = encode(item.frame, self.fmt)
                write_durably(self.root, [(rel, data)])
            except Exception as exc:  # a frame must never stop the archiver
                remove_quietly(self.root, [rel])
                self._failed(item, exc)
                continue
            self._attach(item, rel, len(data))
