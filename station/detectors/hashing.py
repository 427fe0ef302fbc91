"""The SHA-256 of a model file: thresholds belong to the exact file they were tuned on."""

from __future__ import annotations

import hashlib
from pathlib import Path

from station.core.errors import StationError


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of the file's bytes; StationError if it cannot be read."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except FileNotFoundError:
        raise StationError(f"{p}: file not found") from None
    except IsADirectoryError:
        raise StationError(f"{p}: is a directory, expected a model file") from None
    except OSError as exc:
        raise StationError(f"{p}: cannot read ({exc.strerror or exc})") from None
