"""No command adopts a file that is not a station log; readers never write.

`station report` and `station audit verify` on an empty file, another
program's SQLite database (rollback journal or WAL), a text file or a
directory: refused in one line (exit 2), the file byte-identical and nothing
created beside it. `station run --db` (through `compose`, what it opens)
refuses the same, except an empty file, which becomes a new log.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from storage_support import make_inspection

from station.cli import main
from station.storage.errors import LogUnavailable
from station.storage.log import SqliteInspectionLog
from station.storage.opening import connect_reader


def _customers(path: Path, wal: bool = False) -> None:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.executemany("INSERT INTO customers (name) VALUES (?)", [("ada",), ("bob",)])
    conn.commit()
    conn.close()


def _version_0_with_tables_named_like_ours(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE inspections (x)")
    conn.execute("CREATE TABLE events (x)")
    conn.commit()
    conn.close()


FOREIGN: dict[str, Callable[[Path], None]] = {
    "customers": _customers,
    "customers-wal": lambda p: _customers(p, wal=True),
    "look-alike": _version_0_with_tables_named_like_ours,
    "text": lambda p: p.write_text("name,phone\nada,123\n" * 50),
}


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.mark.parametrize("command", [["report"], ["report", "--json"], ["audit", "verify"]])
@pytest.mark.parametrize("kind", [*FOREIGN, "empty"])
def test_readers_refuse_and_leave_the_file_byte_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], kind: str
) -> None:
    db = tmp_path / "data.sqlite3"
    if kind == "empty":
        db.touch()
    else:
        FOREIGN[kind](db)
    before = _snapshot(tmp_path)
    assert main([*command, "--db", str(db)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.splitlines()
    expected = {
        "empty": "empty: nothing has been logged in it yet",
        "text": "not an SQLite database",
        "customers": "another program's SQLite database (tables: customers)",
        "customers-wal": "another program's SQLite database (tables: customers)",
        "look-alike": "not a station log",
    }[kind]
    assert expected in line and str(db) in line
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("kind", list(FOREIGN))
def test_the_writer_refuses_a_foreign_file_untouched(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "data.sqlite3"
    FOREIGN[kind](db)
    before = _snapshot(tmp_path)
    with pytest.raises(LogUnavailable, match="not a station log"):
        SqliteInspectionLog(db)
    assert _snapshot(tmp_path) == before


def test_station_run_refuses_a_foreign_db_and_adopts_an_empty_file(tmp_path: Path) -> None:
    from station.app import compose

    foreign = tmp_path / "customers.sqlite3"
    _customers(foreign)
    before = _snapshot(tmp_path)
    with pytest.raises(LogUnavailable, match="another program's SQLite database"):
        compose(None, foreign)
    assert _snapshot(tmp_path) == before
    empty = tmp_path / "new.sqlite3"
    empty.touch()
    parts = compose(None, empty)
    parts.log.close()
    with sqlite3.connect(empty) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] >= 1


@pytest.mark.parametrize("command", [["report"], ["audit", "verify"], ["audit", "upgrade"]])
def test_a_directory_is_named_as_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    assert main([*command, "--db", str(tmp_path)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert f"{tmp_path}: is a directory; pass the log file's path" in line


def test_the_writer_names_a_directory(tmp_path: Path) -> None:
    with pytest.raises(LogUnavailable, match="is a directory"):
        SqliteInspectionLog(tmp_path)


def test_a_reader_opens_read_only_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    with SqliteInspectionLog(db) as log:
        log.record(make_inspection(1, 1_780_000_000.0))
    before = db.read_bytes()
    conn = connect_reader(db)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM inspections")
    finally:
        conn.close()
    assert main(["report", "--db", str(db)]) == 0
    assert main(["audit", "verify", "--db", str(db)]) == 0
    assert db.read_bytes() == before


def test_upgrade_refuses_an_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "empty.sqlite3"
    db.touch()
    assert main(["audit", "upgrade", "--db", str(db)]) == 2
    assert "empty" in capsys.readouterr().err
    assert db.read_bytes() == b""


_READ_ONLY_MEDIA = """
import subprocess, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from storage_support import make_inspection
from station.cli import main
from station.storage.log import SqliteInspectionLog
mount = Path({mount!r})
mount.mkdir(parents=True, exist_ok=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
db = mount / "log.sqlite3"
with SqliteInspectionLog(db) as log:
    log.record(make_inspection(1, 1_780_000_000.0, scores={{"crack": 0.9}}))
subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
codes = [main(["report", "--db", str(db), "--json"]), main(["audit", "verify", "--db", str(db)])]
print("CODES", codes)
"""


def test_a_log_on_read_only_media_is_reported_and_verified(tmp_path: Path) -> None:
    """A cleanly closed log copied to read-only media: readers still read it."""
    from test_storage_failures import _namespace_cmd

    ns = _namespace_cmd()
    if ns is None:
        pytest.skip("needs `unshare --map-root-user --mount` (user namespaces) for a ro mount")
    import subprocess
    import sys

    script = _READ_ONLY_MEDIA.format(tests=str(Path(__file__).parent), mount=str(tmp_path / "m"))
    result = subprocess.run(
        [*ns, sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "CODES [0, 0]" in result.stdout, result.stderr[-3000:]


@pytest.mark.parametrize("kind", ["customers", "directory", "empty"])
def test_headless_run_on_a_foreign_db_directory_or_empty_file(tmp_path: Path, kind: str) -> None:
    """The real CLI in a subprocess: refused in one line (exit 2), or an empty file adopted."""
    import subprocess
    import sys

    db = tmp_path / "data.sqlite3"
    if kind == "customers":
        _customers(db)
    elif kind == "directory":
        db.mkdir()
    else:
        db.touch()
    before = _snapshot(tmp_path) if kind != "directory" else {}
    done = subprocess.run(
        [sys.executable, "-m", "station", "run", "--headless", "--db", str(db), "--parts", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if kind == "empty":
        assert done.returncode == 0, done.stderr[-2000:]
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM inspections").fetchone() == (2,)
        return
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    says = "is a directory" if kind == "directory" else "another program's SQLite database"
    assert line.startswith("station run: error: inspection log") and says in line
    if before:
        assert _snapshot(tmp_path) == before
