"""Large files written past the page cache (O_DIRECT), where the filesystem allows it.

Measured here (ext4): a buffered write of a 0.9 MB camera frame costs ~2 ms of CPU in the
kernel (page-cache pages allocated and accounted), an O_DIRECT write ~0.15 ms. On a line
running flat out the reject archive writes a frame every other part, and that CPU is taken
from inference (docs/benchmarks.md, `pipeline`). O_DIRECT needs aligned memory, offsets and
lengths: the bytes are copied into a page-aligned buffer, written padded to whole blocks and
the file cut back to their length. A filesystem that refuses O_DIRECT (EINVAL or EOPNOTSUPP:
some network mounts, older tmpfs and overlayfs; macOS has no flag) gets a plain buffered
write. Either way the file is fsynced before `write_synced` returns.
"""

from __future__ import annotations

import errno
import mmap
import os
import threading
from pathlib import Path

BLOCK = 4096
"""Alignment of memory, offsets and lengths: a multiple of every common logical block size."""
MIN_DIRECT = 64 * 1024
"""Smaller files are written buffered: the kernel's copy costs less than the aligned one."""
_O_DIRECT = getattr(os, "O_DIRECT", 0)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
_local = threading.local()
_REFUSALS = {errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP}
"""How a filesystem says it does not do O_DIRECT (or not at this alignment)."""
_refused: set[int] = set()  # devices (st_dev) whose filesystem refused O_DIRECT


def write_synced(path: Path, data: bytes | memoryview) -> None:
    """Create or replace `path` holding exactly `data`, fsynced (not its folder)."""
    view = memoryview(data).cast("B")
    if _O_DIRECT and view.nbytes >= MIN_DIRECT:
        device = os.stat(path.parent).st_dev
        if device not in _refused:
            try:
                _write_direct(path, view)
                return
            except OSError as exc:
                if exc.errno not in _REFUSALS:
                    raise
                _refused.add(device)
    _write_buffered(path, view)


def _write_buffered(path: Path, view: memoryview) -> None:
    fd = os.open(path, _CREATE, 0o644)
    try:
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_direct(path: Path, view: memoryview) -> None:
    n = view.nbytes
    padded = -(-n // BLOCK) * BLOCK
    buf = _aligned(padded)
    buf[:n] = view
    buf[n:padded] = bytes(padded - n)
    fd = os.open(path, _CREATE | _O_DIRECT, 0o644)
    try:
        out = memoryview(buf)[:padded]
        try:
            while out:
                out = out[os.write(fd, out) :]
        finally:
            out.release()
        os.ftruncate(fd, n)
        os.fsync(fd)
    finally:
        os.close(fd)


def _aligned(size: int) -> mmap.mmap:
    """This thread's page-aligned buffer of at least `size` bytes (kept for the next file)."""
    buf: mmap.mmap | None = getattr(_local, "buf", None)
    if buf is None or len(buf) < size:
        if buf is not None:
            buf.close()
        buf = _local.buf = mmap.mmap(-1, size)
    return buf
