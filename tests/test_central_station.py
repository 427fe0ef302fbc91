"""A running station with `[central] url` forwards its log in the background, backlog shown.

The real window (offscreen) on the synthetic line, a real PostgreSQL: parts
appear centrally while the line runs, the status line says so, and a server
that is down only grows the backlog shown there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from central_support import assert_central_equals_local, new_database
from PySide6.QtCore import QSettings
from test_app import write_recipe

from station.app_gui import StationApp
from station.core.errors import StationError
from station.outputs.central.connection import connect
from station.services.recipe_file import load_recipe


def _recipe(folder: Path, url: str) -> Path:
    path = write_recipe(folder)
    path.write_text(path.read_text() + f'\n[central]\nurl = "{url}"\n', encoding="utf-8")
    return path


def _app(tmp_path: Path) -> StationApp:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    return StationApp(
        db_path=tmp_path / "db.sqlite3",
        autostart=True,
        settings=settings,
        load_tuning_sample_at_start=False,
        tuning_cache_dir=tmp_path / "cache",
    )


def _central_count(url: str) -> int:
    conn = connect(url)
    try:
        return int(conn.execute("SELECT count(*) FROM inspections").fetchone()[0])
    finally:
        conn.close()


def test_the_running_station_forwards_and_shows_its_backlog(qtbot, tmp_path, pg_server) -> None:
    url = new_database(pg_server)
    app = _app(tmp_path)
    window = app.open(_recipe(tmp_path / "r", url))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.vm.counters.inspected >= 5, timeout=20000)
    qtbot.waitUntil(lambda: _central_count(url) >= 5, timeout=20000)
    # The line runs flat out here: a few rows are always in flight, or none.
    shown = window.status.central
    qtbot.waitUntil(lambda: shown.text().startswith("Central: ") and "…" not in shown.text())
    assert shown.isVisible() and ("up to date" in shown.text() or "behind (oldest" in shown.text())
    assert "unreachable" not in shown.text()
    assert "line-7" in window.status.central.toolTip()
    window.grab().save(str(tmp_path / "station_central.png"))
    from station.services.tuning_samples import PLANT_LABEL
    from station.ui.tuning.tuning_vm import TuningViewModel

    (tuning_vm,) = window.findChildren(TuningViewModel)
    assert PLANT_LABEL in [e.label for e in tuning_vm.sample_entries()]
    app.close("test over")
    # What was not sent before the window closed goes with the next sync, once.
    from station.cli import main

    assert main(["sync", "--db", str(tmp_path / "db.sqlite3"), "--to", url]) == 0
    assert_central_equals_local(tmp_path / "db.sqlite3", url, "line-7")


def test_an_unreachable_server_only_grows_the_backlog(qtbot, tmp_path, pg_server) -> None:
    url = f"postgresql://qc@127.0.0.1:{pg_server.port}/no_such_database"
    app = _app(tmp_path)
    window = app.open(_recipe(tmp_path / "r", url))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.vm.counters.inspected >= 5, timeout=20000)
    qtbot.waitUntil(lambda: "rows behind" in window.status.central.text(), timeout=20000)
    assert "server unreachable" in window.status.central.text()
    assert "no_such_database" in window.status.central.toolTip()
    assert window.vm.running  # the line goes on
    app.close("test over")


@pytest.mark.parametrize(
    ("tail", "says"),
    [
        ('[central]\nurl = "postgresql://qc:pw@db/inspection"\n', "central.url: a password"),
        ('[central]\nuri = "postgresql://qc@db/inspection"\n', "central.uri: expected one of"),
        ('[station]\nid = "other"\n', "station.id: expected the same id as product.station_id"),
    ],
)
def test_recipe_central_keys_are_checked(tmp_path: Path, tail: str, says: str) -> None:
    path = write_recipe(tmp_path)
    text = path.read_text()
    if tail.startswith("[station]"):
        text = text.replace("[station]\n", tail)
    else:
        text += "\n" + tail
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StationError, match=says.replace("(", r"\(")) as err:
        load_recipe(path)
    assert "pw" not in str(err.value).replace(str(path), "")


def test_station_id_defaults_to_the_hostname(tmp_path: Path) -> None:
    import socket

    path = write_recipe(tmp_path)
    path.write_text(path.read_text().replace('station_id = "line-7"\n', ""), encoding="utf-8")
    assert load_recipe(path).station_id == socket.gethostname()
    path.write_text(
        path.read_text().replace("[station]\n", '[station]\nid = "press-4"\n'), encoding="utf-8"
    )
    assert load_recipe(path).station_id == "press-4"


def test_headless_run_forwards_and_says_so_in_its_status_line(tmp_path, pg_server) -> None:
    from test_headless import FAST_LINE, station

    from tests.fast_line_support import line_recipe

    url = new_database(pg_server)
    recipe = line_recipe(tmp_path, FAST_LINE)
    text = recipe.read_text().replace('station_id = "station-1"', 'station_id = "cabinet-3"')
    assert "cabinet-3" in text
    recipe.write_text(text + f'\n[central]\nurl = "{url}"\n', encoding="utf-8")
    db = tmp_path / "db.sqlite3"
    done = station("--recipe", str(recipe), "--db", str(db), "--duration", "2.5")
    assert done.returncode == 0, done.stderr
    assert "· Central: " in done.stderr  # the status line carries the backlog
    # The run drained before it ended: every row is central, once.
    counts = assert_central_equals_local(db, url, "cabinet-3")
    assert counts["inspections"] > 0
