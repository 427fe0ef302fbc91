"""The reject archive: frames of rejects and no-decisions, beside the database.

A frame is encoded, written and fsynced on the archiver's own thread after
its row committed, then attached to the row, so the inspection loop never
waits for image I/O and a committed row never names a missing file. The
size/age limit removes the oldest images and clears their path in the row
(recording when); rows are never deleted.

The evidence is lossless: every frame holds exactly the pixels the model saw.
Deflating costs as much CPU as a run of the shipped model (PNG level 1 without
filtering, ~10 ms, ~310 kB for a 640x480 BGR camera frame: the sensor noise defeats
PNG's filters, which only add time), so it is optional work: a deflater thread at
the lowest CPU priority takes a frame only while the line leaves CPU to spare (the
station used less than `BUSY_SHARE` of the machine over the last second or so,
fewer than `FAST_FROM` frames wait, and the deflater is free) and writes it as PNG.
Every other frame the archiver thread, at the station's own priority, stores
uncompressed as TIFF (~0.4 ms against ~1.1 ms for a PNG level 0 of the same
width x height x channels bytes; grey stays one channel; OpenCV, Qt and Ultralytics
read both): a stored frame never waits for a thread that inference starves. When the bounded
queue is full the committing thread writes the frame itself (stored): the line
slows, a frame is never dropped. JPEG files of older archives still open
(`station.storage.queries.load_image`), they are no longer written.
"""

from __future__ import annotations

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
from station.core.priority import ProcessLoad, lower_this_thread
from station.storage.direct_io import write_synced

FORMATS = {"png": ".png"}
FAST_FROM = 4
"""Frames waiting from which the archiver stores them undeflated, to catch up."""
BUSY_SHARE = 0.5
"""The station's share of the machine's CPUs (`ProcessLoad`) from which the archiver stores
frames undeflated: the line has no time to spare for zlib."""
_NO_FILTER = (  # OpenCV >= 4.11 takes the filter choice
    [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]
    if hasattr(cv2, "IMWRITE_PNG_FILTER")
    else []
)
_COMPACT = [cv2.IMWRITE_PNG_COMPRESSION, 1, *_NO_FILTER]
STORED_SUFFIX = ".tif"
_STORED = [cv2.IMWRITE_TIFF_COMPRESSION, 1]  # 1: none


def suffix(fmt: str, stored: bool) -> str:
    """The file suffix of a frame written deflated as `fmt`, or `stored`."""
    return STORED_SUFFIX if stored else FORMATS[fmt]


def encode(frame: npt.NDArray[np.uint8], fmt: str = "png", *, stored: bool = False) -> memoryview:
    """The frame (H, W) or (H, W, 3) BGR uint8, losslessly: deflated `fmt` (PNG level 1), or
    `stored` as uncompressed TIFF (25x cheaper, 3x larger on a camera frame). The encoder's
    own buffer, not a copy of it."""
    ext = suffix(fmt, stored)
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(frame), _STORED if stored else _COMPACT)
    if not ok:
        raise StationError(f"reject archive: cannot encode a frame of shape {frame.shape} as {ext}")
    return buf.data


def relative_path(row_id: int, day: str, outcome_tag: str, ext: str) -> str:
    """`<UTC day>/<row id>-<reject|nodecision><ext>`: unique because the row id is."""
    return f"{day}/{row_id:010d}-{outcome_tag}{ext}"


def write_durably(root: Path, files: list[tuple[str, bytes | memoryview]]) -> None:
    """Write each file, fsync it, then fsync the folders holding them."""
    folders: set[Path] = set()
    for rel, data in files:
        path = root / rel
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent.parent)
        folders.add(path.parent)
        write_synced(path, data)  # past the page cache where it can: ~2 ms of CPU less a frame
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

    Back-pressure, in order (no rule drops a frame): the deflater (nice 19) takes a
    frame only while the station leaves CPU to spare (`BUSY_SHARE`), fewer than
    `FAST_FROM` frames wait and it is free; the archiver thread stores every other
    frame undeflated; `max_pending` bounds the frames held in memory, and a `put`
    finding the queue full writes that frame on the caller's thread (stored), counted
    in `overflows`; `close` writes every queued frame.
    """

    def __init__(
        self,
        root: Path,
        fmt: str,
        attach: Callable[[PendingImage, str, int], None],
        failed: Callable[[PendingImage, BaseException], None],
        max_pending: int = 64,
        load: ProcessLoad | None = None,
    ) -> None:
        self.root = root
        self._load = load
        self.fmt = fmt
        self._attach = attach
        self._failed = failed
        self.overflows = 0  # frames the caller wrote itself: the queue was full
        self._stored_here = 0  # frames this thread stored undeflated to catch up
        self._queue: queue.Queue[PendingImage | None] = queue.Queue(maxsize=max_pending)
        self._to_deflate: queue.Queue[PendingImage | None] = queue.Queue(maxsize=1)
        self._lowered = threading.Event()
        self._deflater = threading.Thread(
            target=self._deflate_loop, name="RejectDeflater", daemon=True
        )
        self._deflater.start()
        self._lowered.wait()  # no frame is deflated before the thread stepped aside
        self._thread = threading.Thread(target=self._run, name="RejectArchiver", daemon=True)
        self._thread.start()

    def put(self, item: PendingImage) -> None:
        """Queue a frame; when the queue is full, write it here and now (never drop it)."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.overflows += 1
            self._archive(item, stored=True)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    @property
    def stored(self) -> int:
        """Frames written undeflated (to catch up, or by a caller finding the queue full)."""
        return self._stored_here + self.overflows

    def close(self) -> None:
        """Write every queued frame, then stop."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        load = self._load or ProcessLoad()
        while True:
            item = self._queue.get()
            if item is None:
                self._to_deflate.put(None)
                self._deflater.join()
                return
            backlog = self._queue.qsize() + 1 >= FAST_FROM  # this frame and those behind it
            if not backlog and load.share() < BUSY_SHARE:
                try:
                    self._to_deflate.put_nowait(item)
                    continue
                except queue.Full:  # still deflating the last one: this one is stored
                    pass
            self._stored_here += self._archive(item, stored=True)

    def _deflate_loop(self) -> None:
        lower_this_thread()  # inference wins the cores: deflating is what they leave over
        self._lowered.set()
        while (item := self._to_deflate.get()) is not None:
            self._archive(item, stored=False)

    def _archive(self, item: PendingImage, stored: bool) -> bool:
        """Write one frame and attach it; True when it was written `stored`."""
        day = datetime.fromtimestamp(item.time_utc, UTC).strftime("%Y-%m-%d")
        rel = relative_path(item.row_id, day, item.outcome_tag, suffix(self.fmt, stored))
        try:
            data = encode(item.frame, self.fmt, stored=stored)
            write_durably(self.root, [(rel, data)])
        except Exception as exc:  # a frame must never stop the archiver
            remove_quietly(self.root, [rel])
            self._failed(item, exc)
            return False
        self._attach(item, rel, data.nbytes)
        return stored
