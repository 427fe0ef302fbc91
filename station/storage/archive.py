"""The reject archive: frames of rejects and no-decisions, beside the database.

Images are encoded by the caller's thread (OpenCV releases the GIL) and
written and fsynced by the log's writer before the row naming them commits,
so a committed row never names a missing file. The size/age limit removes
the oldest images and clears their path in the row; rows are never deleted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from station.core.errors import StationError

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
        fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a folder; the file itself is synced
    finally:
        os.close(fd)


def remove_quietly(root: Path, rels: list[str]) -> int:
    """Delete files (already missing is fine); returns how many existed."""
    removed = 0
    for rel in rels:
        try:
            (root / rel).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
