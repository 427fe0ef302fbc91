"""Why the log cannot be written, said so that the person at the line knows what to do.

The inspection worker turns `LogUnavailable` into an alarm and stops passing
parts: a part that cannot be logged is never passed.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from station.core.errors import StationError


class LogUnavailable(StationError):  # noqa: N818 (the name is the team's interface)
    """The inspection log cannot be written (full disk, read-only, locked, corrupt, too new).

    Nothing already committed is lost; rows of the failed batch were not committed.
    """


class SchemaTooNew(LogUnavailable):
    """The database was written by a newer station version; this one refuses to touch it."""


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


# Primary SQLite result codes (https://sqlite.org/rescode.html).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26


def _read_only(path: Path) -> bool:
    """True when the log's folder is on a read-only filesystem or not writable by us."""
    folder = path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    target = path if path.exists() else folder
    return not os.access(target, os.W_OK)


def explain(path: Path, exc: BaseException) -> LogUnavailable:
    """A `LogUnavailable` for `exc` (an sqlite3.Error or OSError) met on the log at `path`."""
    folder = path.parent
    code = _primary_code(exc) if isinstance(exc, sqlite3.Error) else None
    err_no = exc.errno if isinstance(exc, OSError) else None
    text = str(exc)
    if code in (_CANTOPEN, _IOERR, _READONLY) and _read_only(path):
        code = _READONLY
    if code == _FULL or err_no in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        msg = (
            f"the disk holding {folder} is full ({text}); free space there (or lower the reject "
            f"archive limit), then resume inspection"
        )
    elif code == _READONLY or err_no in (errno.EROFS, errno.EACCES, errno.EPERM):
        msg = (
            f"the log is read-only ({text}); give the station write access to {path} and its "
            f"folder, or point the recipe's db_path / --db at a writable place"
        )
    elif code in (_BUSY, _LOCKED):
        msg = (
            f"the log is locked by another program ({text}); close whatever holds {path} "
            f"(a database browser, a second station), then resume inspection"
        )
    elif code in (_CORRUPT, _NOTADB):
        msg = (
            f"the file is corrupt or not a station log ({text}); move {path} aside (keep it for "
            f"recovery) and restart the station to start a new log"
        )
    elif code == _CANTOPEN:
        msg = f"cannot open the log ({text}); check that {folder} exists and is writable"
    elif code == _IOERR or isinstance(exc, OSError):
        msg = f"disk error writing the log ({text}); check the disk holding {folder}"
    else:
        msg = f"the log cannot be written ({text})"
    return LogUnavailable(f"inspection log {path}: {msg}")
