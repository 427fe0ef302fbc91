"""The composition root: a recipe becomes a running window, or one line naming what is wrong."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from onnx_graphs import write_yolov8_model
from PySide6.QtCore import QSettings

from station.app import compose
from station.app_gui import StationApp
from station.core.errors import StationError
from station.core.inspection import threshold_set_id

NAMES = ["crack", "scratch"]


def write_recipe(
    folder: Path,
    *,
    score: float = 0.9,
    classes: str = "crack = 0.6",
    autostart: bool = True,
    model: str = "model.onnx",
    extra: str = "",
) -> Path:
    """A recipe for a tiny real ONNX model (one crack at `score`) on the synthetic line."""
    folder.mkdir(parents=True, exist_ok=True)
    if model == "model.onnx":
        write_yolov8_model(folder / model, [(0, score, (16.0, 16.0, 40.0, 40.0))], NAMES)
    path = folder / "recipe.toml"
    path.write_text(
        f"""
[product]
name = "widget"
station_id = "line-7"

[model]
path = "{model}"
{extra}
[thresholds]
default = 0.5

[thresholds.classes]
{classes}

[camera]
kind = "synthetic"
seed = 1
width = 160
height = 120
parts_per_minute = 0.0

[station]
autostart = {"true" if autostart else "false"}
""",
        encoding="utf-8",
    )
    return path


def test_compose_builds_every_part_from_the_recipe(tmp_path: Path) -> None:
    parts = compose(write_recipe(tmp_path), tmp_path / "logs" / "db.sqlite3")
    try:
        assert parts.recipe.product == "widget"
        assert parts.detector.info.class_names == tuple(NAMES)
        assert parts.db_path == tmp_path / "logs" / "db.sqlite3"
    finally:
        parts.log.close()
    with sqlite3.connect(parts.db_path) as conn:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events")]
        sets = [i for (i,) in conn.execute("SELECT id FROM threshold_sets")]
    assert "model_loaded" in kinds
    assert sets == [threshold_set_id(parts.recipe.thresholds)]  # parts show every threshold


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "missing.onnx"}, "missing.onnx"),
        ({"classes": "crakc = 0.6"}, "'crakc' not a class of the model"),
        ({"classes": "crack = 1.6"}, "outside [0, 1]"),
        ({"extra": 'sha256 = "' + "0" * 64 + '"\n'}, "model.sha256: expected 000"),
    ],
)
def test_a_bad_recipe_or_missing_model_names_the_problem(
    tmp_path: Path, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(StationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        compose(write_recipe(tmp_path, **kwargs), tmp_path / "db.sqlite3")


def _station_app(
    tmp_path: Path, autostart: bool | None, load_tuning_sample_at_start: bool = False
) -> StationApp:
    """The station as `station run` builds it; the tuning sample is scored at start-up only
    where a test asks (it lands in `tmp_path / "cache"`)."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    return StationApp(
        db_path=tmp_path / "db.sqlite3",
        autostart=autostart,
        settings=settings,
        load_tuning_sample_at_start=load_tuning_sample_at_start,
        tuning_cache_dir=tmp_path / "cache",
    )


def test_recipe_autostart_starts_inspection(qtbot, tmp_path: Path) -> None:
    app = _station_app(tmp_path, autostart=None)
    window = app.open(write_recipe(tmp_path / "r", autostart=True))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.vm.counters.inspected >= 3, timeout=20000)
    assert window.vm.running
    assert window.banner.headline.text() == "REJECT"
    assert window.banner.detail.text() == "crack 0.90 ≥ 0.60"
    assert "recipe.toml" in window.status.thresholds.text()
    assert "thresholds need re-tuning" in window.status.thresholds.text()  # tuned on no model


def test_no_autostart_comes_up_stopped(qtbot, tmp_path: Path) -> None:
    app = _station_app(tmp_path, autostart=False)
    window = app.open(write_recipe(tmp_path / "r", autostart=True))
    qtbot.addWidget(window)
    qtbot.wait(300)
    assert not window.vm.running and window.vm.counters.inspected == 0
    assert window.banner.headline.text() == "STOPPED"


def test_open_recipe_from_the_menu_replaces_the_window(qtbot, tmp_path: Path) -> None:
    app = _station_app(tmp_path, autostart=None)
    first = app.open(write_recipe(tmp_path / "a", autostart=True))
    qtbot.addWidget(first)
    qtbot.waitUntil(lambda: first.vm.counters.inspected >= 1, timeout=20000)

    first.open_recipe_requested.emit(str(write_recipe(tmp_path / "bad", classes="nope = 0.5")))
    assert app.window is first and not first.vm.closed  # a bad recipe changes nothing

    first.open_recipe_requested.emit(str(write_recipe(tmp_path / "b", score=0.1)))
    second = app.window
    qtbot.addWidget(second)
    assert second is not first and first.vm.closed
    qtbot.waitUntil(lambda: second.vm.latest_part is not None, timeout=20000)
    assert second.banner.headline.text() == "PASS"


def _station(args: list[str], home: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "station", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_bad_recipe_is_one_line_and_exit_2(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, classes="crakc = 0.6")
    proc = _station(["run", "--recipe", str(recipe), "--db", str(tmp_path / "db")], tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("station run: error: ") and "'crakc'" in lines[0]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_closes_the_window_cleanly_and_logs_it(tmp_path: Path, sig: signal.Signals) -> None:
    db = tmp_path / "db.sqlite3"
    proc = _station(["--recipe", str(write_recipe(tmp_path)), "--db", str(db)], tmp_path)
    try:
        deadline = time.monotonic() + 60
        inspected = 0
        while inspected < 3:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "no parts inspected within 60 s"
            time.sleep(0.2)
            try:
                with sqlite3.connect(db) as conn:
                    inspected = conn.execute("SELECT count(*) FROM inspections").fetchone()[0]
            except sqlite3.OperationalError:  # not created yet
                continue
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    with sqlite3.connect(db) as conn:
        events = list(conn.execute("SELECT kind, message FROM events ORDER BY id"))
    assert events[-1] == ("station_stopped", f"station stopped: {sig.name}")
    assert ("inspection_stopped", f"inspection stopped: {sig.name}") in events


def test_shift_counters_carry_on_after_a_restart(qtbot, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path / "r")
    first = _station_app(tmp_path, autostart=None).open(recipe)
    qtbot.addWidget(first)
    qtbot.waitUntil(lambda: first.vm.counters.inspected >= 3, timeout=20000)
    first.close()
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        logged = conn.execute("SELECT count(*) FROM inspections").fetchone()[0]

    second = _station_app(tmp_path, autostart=False).open(recipe)
    qtbot.addWidget(second)
    counters = second.vm.counters
    assert counters.inspected == counters.rejected == logged
    assert second.counters.values["inspected"].text() == str(logged)


def test_tabs_and_reject_thumbnail_opens_the_logged_part(qtbot, tmp_path: Path) -> None:
    from PySide6.QtCore import Qt

    from station.ui.widgets.part_dialog import LoggedPartDialog

    window = _station_app(tmp_path, autostart=None).open(write_recipe(tmp_path / "r"))
    qtbot.addWidget(window)
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs == ["Inspection", "Shift", "Tuning"]
    qtbot.waitUntil(lambda: window.counters.thumbnails[0].isVisible(), timeout=20000)
    qtbot.mouseClick(window.counters.thumbnails[0], Qt.MouseButton.LeftButton)
    dialogs = window.findChildren(LoggedPartDialog)
    assert len(dialogs) == 1
    detail = dialogs[0].view.vm
    assert detail.part is not None and detail.part.row_id == window.vm.recent_rejects[0].row_id
    assert detail.part.outcome.value == "REJECT"
    dialogs[0].close()


def test_side_panel_apply_goes_through_the_supervisor_pin_and_the_recipe(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import Qt

    from station.ui.tuning import TuningView

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # the PIN file goes here
    recipe = write_recipe(tmp_path / "r")
    window = _station_app(tmp_path, autostart=None).open(recipe)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.vm.counters.rejected >= 2, timeout=20000)
    tuning = window.findChild(TuningView)
    asked: list[str] = []
    tuning.ask_apply = lambda summary, first_use: (
        asked.append(summary)
        or (
            "Sam Supervisor",
            "24680",
            "crack threshold raised in test",
        )
    )

    window.thresholds.set_value("crack", 0.95)
    qtbot.mouseClick(window.thresholds.apply_button, Qt.MouseButton.LeftButton)
    assert asked and "crack 0.60 → 0.95" in asked[0]
    qtbot.waitUntil(lambda: window.vm.thresholds.threshold_for("crack") == 0.95, timeout=10000)
    n = window.vm.counters.inspected
    qtbot.waitUntil(lambda: window.vm.counters.inspected >= n + 2, timeout=20000)
    assert window.vm.latest_part.outcome.value == "PASS"  # crack 0.90 < 0.95 from now on
    assert window.thresholds.values["crack"].text() == "0.95"
    assert "crack = 0.95" in recipe.read_text(encoding="utf-8")
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events")]
    assert "threshold_change" in kinds and "thresholds_changed" in kinds


def _open_first_reject(qtbot, window):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    from station.ui.widgets.part_dialog import LoggedPartDialog

    qtbot.waitUntil(lambda: window.counters.thumbnails[0].isVisible(), timeout=20000)
    qtbot.mouseClick(window.counters.thumbnails[0], Qt.MouseButton.LeftButton)
    (dialog,) = window.findChildren(LoggedPartDialog)
    return dialog


def test_confirming_a_part_counts_in_the_live_estimate_once(qtbot, tmp_path: Path) -> None:
    from station.ui.tuning import TuningView

    window = _station_app(tmp_path, autostart=None).open(write_recipe(tmp_path / "r"))
    qtbot.addWidget(window)
    tuning = window.findChild(TuningView)
    dialog = _open_first_reject(qtbot, window)
    view = dialog.view
    window.vm.stop()
    # Every class's threshold in force, not only the rejecting one's (registered by compose).
    table = {
        view.scores_table.item(r, 0).text(): view.scores_table.item(r, 2).text()
        for r in range(view.scores_table.rowCount())
    }
    assert table == {"crack": "0.60", "scratch": "0.50"}

    view.good_button.click()  # the station rejected it: a good part scrapped
    confirmed = tuning.vm.live.confirmed
    assert (confirmed.good, confirmed.scrap, confirmed.defective) == (1, 1, 0)
    assert "Operator-confirmed parts:" in tuning.live_label.text()
    assert "1 of 1 good parts scrapped" in tuning.live_label.text()
    view.class_combo.setCurrentText("crack")
    view.defective_button.click()  # changed their mind: the latest verdict counts, once
    assert (confirmed.good, confirmed.scrap) == (0, 0)
    assert (confirmed.defective, confirmed.escapes) == (1, 0)
    assert "0 of 1 defective parts escape" in tuning.live_label.text()
    dialog.close()


def test_score_drift_alarm_shows_in_the_status_line(qtbot, tmp_path: Path) -> None:
    import numpy as np

    from station.core.drift import MIN_LIVE_PARTS
    from station.ui.tuning import TuningView

    window = _station_app(tmp_path, autostart=False).open(write_recipe(tmp_path / "r"))
    qtbot.addWidget(window)
    vm = window.findChild(TuningView).vm
    # The tuning sample: crack scores around 0.2. The line: crack scores near 0.9.
    vm.monitor.set_reference(NAMES, np.tile(np.float32([[0.2, -np.inf]]), (300, 1)))
    assert not window.status.drift.isVisible()
    for _ in range(MIN_LIVE_PARTS - 1):
        vm.monitor.live_scores(np.float32([0.9, -np.inf]))
    assert window.status.drift.text() == ""  # too few parts to judge
    vm.monitor.live_scores(np.float32([0.9, -np.inf]))
    text = window.status.drift.text()
    assert window.status.drift.isVisible()
    assert "crack (PSI" in text and "thresholds may no longer mean what they meant" in text
    vm.drift.reset()  # a new shift, scores like the sample's again: the alarm goes
    for _ in range(MIN_LIVE_PARTS):
        vm.monitor.live_scores(np.float32([0.2, -np.inf]))
    assert not window.status.drift.isVisible()


def test_recipe_may_name_the_heuristic_detector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from station.cli import main
    from station.services.recipe_file import load_recipe
    from station.services.recipe_toml import recipe_toml
    from station.synthetic.dataset import write_yolo_sample

    recipe_path = write_recipe(
        tmp_path / "r", model="heuristic:dark-blobs", classes="dark_blob = 0.5"
    )
    recipe = load_recipe(recipe_path)
    assert str(recipe.model.path) == "heuristic:dark-blobs"  # not resolved against the folder
    assert 'path = "heuristic:dark-blobs"' in recipe_toml(recipe)  # and written back as such
    parts = compose(recipe_path, tmp_path / "db.sqlite3")
    parts.log.close()
    assert parts.detector.info.class_names == ("dark_blob",)

    sample = tmp_path / "sample"
    write_yolo_sample(sample, 6, seed=3)
    (sample / "data.yaml").write_text("names:\n  0: dark_blob\n")
    for lab in (sample / "labels").glob("*.txt"):  # the heuristic has one class
        rows = [ln.split(maxsplit=1) for ln in lab.read_text().splitlines() if ln.strip()]
        lab.write_text("".join(f"0 {rest}\n" for _, rest in rows))
    args = ["evaluate", "--recipe", str(recipe_path), "--data", str(sample), "--json"]
    code = main([*args, "--cache-dir", str(tmp_path / "cache")])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    problem = out["ranking_problem"]
    assert "constant score ranks nothing" in problem or "detected nothing" in problem
    assert set(out["recommended"]["min_cost"]) == {"reason"}


def _shipped_model_recipe(folder: Path) -> Path:
    """A recipe for the shipped model (models/defects.onnx) on a small synthetic line."""
    model = Path(__file__).resolve().parents[1] / "models" / "defects.onnx"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "recipe.toml"
    path.write_text(
        f"""
[product]
name = "widget"
station_id = "line-7"

[model]
path = "{model.as_posix()}"

[thresholds]
default = 0.5

[camera]
kind = "synthetic"
seed = 1
width = 160
height = 120
parts_per_minute = 0.0

[station]
autostart = false
""",
        encoding="utf-8",
    )
    return path


def test_drift_watch_has_its_reference_from_start_up_without_opening_tuning(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from station.synthetic.line import CLASS_NAMES
    from station.ui.tuning import TuningView

    monkeypatch.setattr("station.synthetic.dataset.DEFAULT_SAMPLE_PARTS", 6)  # a small sample
    recipe = _shipped_model_recipe(tmp_path / "r")
    app = _station_app(tmp_path, autostart=False, load_tuning_sample_at_start=True)
    window = app.open(recipe)
    qtbot.addWidget(window)
    tuning = window.findChild(TuningView)
    vm = tuning.vm
    assert window.tabs.currentWidget() is not tuning and not tuning.isVisible()
    qtbot.waitUntil(lambda: vm.drift is not None and not vm.runner.running, timeout=60000)
    assert not tuning.isVisible()  # the tab was never opened
    assert vm.loaded is not None and vm.loaded.sample.n_parts == 6
    assert vm.drift.class_names == tuple(CLASS_NAMES)
    assert vm.drift.reference.sum() == 6 * len(CLASS_NAMES)  # every part, every class
    scored = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache" / "scores").iterdir()}
    assert scored
    window.close()

    # The next start reads the sample's scores back from the cache: nothing is re-scored.
    again = _station_app(tmp_path, autostart=False, load_tuning_sample_at_start=True).open(recipe)
    qtbot.addWidget(again)
    vm = again.findChild(TuningView).vm
    qtbot.waitUntil(lambda: vm.drift is not None and not vm.runner.running, timeout=60000)
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "cache" / "scores").iterdir()} == scored


def test_closing_while_the_start_up_sample_is_scored_stops_it(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from station.ui.tuning import TuningView

    monkeypatch.setattr("station.synthetic.dataset.DEFAULT_SAMPLE_PARTS", 200)
    app = _station_app(tmp_path, autostart=False, load_tuning_sample_at_start=True)
    window = app.open(_shipped_model_recipe(tmp_path / "r"))
    qtbot.addWidget(window)
    vm = window.findChild(TuningView).vm
    assert vm.runner.running  # off the GUI thread: open() returned while it scores
    window.close()  # the conftest fails the test if the scoring thread is left running
    assert not vm.runner.running and vm.drift is None


def _events(db: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT id, kind, details FROM events ORDER BY id"))


def test_another_recipe_closes_the_old_log_before_opening_the_new(qtbot, tmp_path: Path) -> None:
    app = _station_app(tmp_path, autostart=None)
    first = app.open(write_recipe(tmp_path / "a", autostart=True))
    qtbot.addWidget(first)
    qtbot.waitUntil(lambda: first.vm.counters.inspected >= 1, timeout=20000)
    second_recipe = write_recipe(tmp_path / "b", score=0.1)
    first.open_recipe_requested.emit(str(second_recipe))
    second = app.window
    qtbot.addWidget(second)
    assert second is not first and first.vm.closed
    second.close_with_reason("test over")
    events = _events(tmp_path / "db.sqlite3")
    stopped = [i for i, kind, _ in events if kind == "station_stopped"]
    loaded_b = [i for i, kind, d in events if kind == "model_loaded" and str(second_recipe) in d]
    assert stopped and loaded_b
    assert stopped[0] < loaded_b[0]  # the first station logged its stop, then b opened the log


def test_a_camera_that_fails_to_open_brings_the_previous_recipe_back(qtbot, tmp_path: Path) -> None:
    app = _station_app(tmp_path, autostart=None)
    first_recipe = write_recipe(tmp_path / "a", autostart=True)
    first = app.open(first_recipe)
    qtbot.addWidget(first)
    broken = write_recipe(tmp_path / "b")
    (tmp_path / "b" / "empty").mkdir()
    text = broken.read_text(encoding="utf-8")
    broken.write_text(
        text.replace('kind = "synthetic"\nseed = 1', 'kind = "folder"\npath = "empty"'),
        encoding="utf-8",
    )
    with pytest.raises(StationError):
        app.open(broken)
    assert app.window is not None and app.window is not first and first.vm.closed
    qtbot.addWidget(app.window)
    assert app.window.vm.context.recipe_path == str(first_recipe)
    qtbot.waitUntil(lambda: app.window.vm.counters.inspected >= 1, timeout=20000)
