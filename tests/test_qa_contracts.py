"""Contracts checked end to end by QA: a user error is one line on stderr, exit 2, no traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_graphs import channel_mean_model, write_yolov8_model

from station.app import compose
from station.cli import main
from station.core.errors import StationError
from station.services.recipe_file import load_recipe
from station.services.recipe_write import write_recipe


def _sample(root: Path) -> Path:
    """Four flat-colour parts, two labeled `red` (defective): enough for a recommendation."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for i, r in enumerate((230, 200, 60, 90)):
        img = np.zeros((16, 16, 3), np.uint8)
        img[:] = (100, 100, r)
        cv2.imwrite(str(root / "images" / f"{i}.png"), img)
        (root / "labels" / f"{i}.txt").write_text("0 0.5 0.5 0.2 0.2\n" if i < 2 else "")
    (root / "data.yaml").write_text("names: [red, green, blue]\n")
    return root


def test_write_recipe_where_no_file_can_be_created_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = channel_mean_model(tmp_path / "m.onnx", names=repr({0: "red", 1: "green", 2: "blue"}))
    # The folder exists, but no temporary file can be created beside this name (too long).
    out = tmp_path / ("r" * 250 + ".toml")
    code = main(
        [
            "evaluate",
            "--model",
            str(model),
            "--data",
            str(_sample(tmp_path / "s")),
            "--cost-escape",
            "10",
            "--cost-scrap",
            "1",
            "--no-cache",
            "--write-recipe",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.startswith("station evaluate: error:")]
    assert len(lines) == 1 and "cannot write the recipe" in lines[0]
    assert "Traceback" not in err
    assert not out.exists()


def _folder_recipe(folder: Path, camera: str) -> Path:
    write_yolov8_model(folder / "model.onnx", [(0, 0.9, (16.0, 16.0, 40.0, 40.0))], ["crack"])
    recipe = folder / "recipe.toml"
    recipe.write_text(
        f'[product]\nname = "w"\n[model]\npath = "model.onnx"\n[camera]\n{camera}\n',
        encoding="utf-8",
    )
    return recipe


def test_a_relative_folder_camera_path_is_read_from_the_recipe_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = tmp_path / "line2"
    (line / "frames").mkdir(parents=True)
    cv2.imwrite(str(line / "frames" / "a.png"), np.full((24, 32, 3), 90, np.uint8))
    recipe = _folder_recipe(line, 'kind = "folder"\npath = "frames"\nloop = false')
    monkeypatch.chdir(tmp_path)  # not the recipe's folder
    parts = compose(recipe, tmp_path / "db.sqlite3")
    try:
        info = parts.source.open()
        assert (info.width, info.height) == (32, 24)
        assert parts.source.read(1.0).image.shape[:2] == (24, 32)
        parts.source.close()
    finally:
        parts.log.close()


def test_a_bad_camera_table_names_the_recipe_file(tmp_path: Path) -> None:
    recipe = _folder_recipe(tmp_path, 'kind = "bogus"')
    with pytest.raises(StationError, match=r"recipe\.toml: \[camera\] kind = 'bogus'"):
        compose(recipe, tmp_path / "db.sqlite3")


@pytest.mark.parametrize("command", ["run", "model-info", "detect", "evaluate", "sample", "report"])
def test_help_shows_no_doubled_percent_signs(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0 and "%%" not in out


def test_sample_refuses_a_folder_holding_files_it_would_not_write(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "s"
    assert main(["sample", str(out), "--parts", "3", "--seed", "5"]) == 0
    assert main(["sample", str(out), "--parts", "3", "--seed", "5"]) == 0  # same sample again
    capsys.readouterr()
    assert main(["sample", str(out), "--parts", "2", "--seed", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("station sample: error:") and "images/00002.png" in err
    assert len(err.splitlines()) == 1
    assert len(list((out / "images").glob("*.png"))) == 3  # nothing touched


def test_an_unreadable_image_is_not_called_a_nan_score(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = channel_mean_model(tmp_path / "m.onnx", names=repr({0: "red", 1: "green", 2: "blue"}))
    sample = _sample(tmp_path / "s")
    (sample / "images" / "3.png").write_bytes(b"not an image")
    code = main(["evaluate", "--model", str(model), "--data", str(sample), "--no-cache"])
    out = capsys.readouterr().out
    assert code == 0
    assert "4 parts: 2 defective, 2 good, 1 without a decision (1 unreadable)" in out
    assert "NaN" not in out


_SIGNAL_DURING_OPEN = """
import os, signal, sys
from pathlib import Path
from station import app_gui as app

opened = app.StationApp.open

def open_then_signal(self, recipe_path):
    window = opened(self, recipe_path)  # log open, worker running, events written
    os.kill(os.getpid(), signal.SIGTERM)  # before the Qt loop runs
    return window

app.StationApp.open = open_then_signal
sys.exit(app.run(Path(sys.argv[1]), Path(sys.argv[2]), None))
"""


def test_sigterm_while_the_station_opens_still_closes_it_cleanly(tmp_path: Path) -> None:
    camera = 'kind = "synthetic"\nwidth = 160\nheight = 120\nparts_per_minute = 0.0'
    recipe = _folder_recipe(tmp_path, camera)
    db = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", _SIGNAL_DURING_OPEN, str(recipe), str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(db) as conn:
        events = [kind for (kind,) in conn.execute("SELECT kind FROM events ORDER BY id")]
    assert events[-1] == "station_stopped"


@pytest.mark.parametrize("command", ["detect", "evaluate"])
def test_a_misspelt_key_in_the_threshold_set_form_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    model = channel_mean_model(tmp_path / "m.onnx", names=repr({0: "red", 1: "green", 2: "blue"}))
    sample = _sample(tmp_path / "s")
    if command == "evaluate":
        argv = ["evaluate", "--model", str(model), "--data", str(sample), "--no-cache"]
    else:
        argv = ["detect", str(model), str(sample / "images" / "0.png")]
    typo = '{"class_thresholds": {"red": 0.5}, "default_treshold": 0.9}'
    code = main([*argv, "--thresholds", typo])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "'default_treshold' is not a key of a threshold set" in err


def test_write_recipe_elsewhere_keeps_a_relative_camera_folder_pointing_at_the_same_frames(
    tmp_path: Path,
) -> None:
    line = tmp_path / "line2"
    (line / "frames").mkdir(parents=True)
    recipe = load_recipe(_folder_recipe(line, 'kind = "folder"\npath = "frames"'))
    (tmp_path / "tuned").mkdir()
    out = write_recipe(recipe, tmp_path / "tuned" / "r.toml")
    assert out.camera.options["path"] == "../line2/frames"
    assert (out.path.parent / out.camera.options["path"]).resolve() == (line / "frames").resolve()
