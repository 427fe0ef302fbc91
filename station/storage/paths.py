"""Where the log and its reject archive live.

The log defaults to the user's data directory (platformdirs), so the station
runs without configuration; a recipe's `db_path` or `--db` overrides it. The
reject archive is a folder beside the database, named after it, so moving
the database folder moves both.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

from station import APP_NAME


def default_db_path() -> Path:
    """`<user data dir>/inspection-station/inspections.sqlite3` (folder created on use)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "inspections.sqlite3"


def archive_dir(db_path: Path) -> Path:
    """The reject archive beside `db_path`: `<db folder>/<db stem>-rejects/`."""
    db_path = Path(db_path)
    return db_path.parent / f"{db_path.stem}-rejects"
