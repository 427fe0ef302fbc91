"""Replacing a file whole: a crash or a full disk leaves the old file or the new one, never half.

One permission rule for every file the station writes: a new file gets the mode the
umask gives (as any program's would), a replaced file keeps the mode it had, and a secret
(the supervisor PIN's hash) is readable by its owner only. A path that is a symbolic link
is written through to its target, so the link stays a link.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

_NEW_FILE = 0o666
_SECRET_FILE = 0o600


def atomic_write_bytes(path: Path | str, data: bytes, *, secret: bool = False) -> None:
    """Write `data` to a temporary file beside the target, fsync it, rename it over the target.

    Raises OSError (the caller names what it was writing); the temporary file is removed.
    """
    target = Path(os.path.realpath(path))
    try:
        old_mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        old_mode = None
    fd, tmp = _create_beside(target, _SECRET_FILE if secret else _NEW_FILE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if old_mode is not None and not secret:
            os.chmod(tmp, old_mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_folder(target.parent)


def atomic_write_text(path: Path | str, text: str, *, secret: bool = False) -> None:
    """`atomic_write_bytes` of UTF-8 text with "\\n" line ends on every platform."""
    atomic_write_bytes(path, text.encode("utf-8"), secret=secret)


def _create_beside(target: Path, mode: int) -> tuple[int, str]:
    """A new hidden file in the target's folder, created with `mode` less the umask.

    Not tempfile.mkstemp: it creates 0600 files, and undoing that needs the umask, which a
    process can only read by changing it (a race with every other thread creating files).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = str(target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{target.parent}: no free temporary file name")


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new file's entry durable (POSIX); a no-op where folders cannot be
    opened or synced (the file itself is synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
