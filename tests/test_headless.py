"""`station run --headless`: the real CLI in a real subprocess, real model, real SQLite log.

The JSON summary on stdout is a contract (keys exactly); the log must hold every
part the summary counts and the same events as a windowed run; SIGINT/SIGTERM stop
it cleanly; a bad recipe is one line and exit 2; Qt is never imported.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from storage_support import archived_frames

from station.storage.paths import archive_dir
from tests.fast_line_support import fast_line, line_recipe

ROOT = Path(__file__).resolve().parent.parent
STATION = [sys.executable, "-m", "station"]
SUMMARY_KEYS = [
    "inspected",
    "passed",
    "rejected",
    "no_decision",
    "elapsed_s",
    "parts_per_s",
    "latency_ms",
]


FAST_LINE = fast_line(seed=1)


def station(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STATION, "run", "--headless", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        **kwargs,  # type: ignore[call-overload]
    )


def db_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


def test_parts_run_prints_the_json_contract_and_logs_every_part(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    done = station(
        "--recipe",
        str(line_recipe(tmp_path, FAST_LINE)),
        "--db",
        str(db),
        "--parts",
        "12",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # exactly one JSON object, nothing else
    assert list(summary) == SUMMARY_KEYS
    assert list(summary["latency_ms"]) == ["p50", "p99"]
    assert summary["inspected"] == 12
    assert summary["passed"] + summary["rejected"] + summary["no_decision"] == 12
    assert 0 < summary["latency_ms"]["p50"] <= summary["latency_ms"]["p99"]
    assert summary["parts_per_s"] > 0 and summary["elapsed_s"] > 0
    counts = dict(db_rows(db, "SELECT outcome, count(*) FROM inspections GROUP BY outcome"))
    assert counts.get("PASS", 0) == summary["passed"]
    assert counts.get("REJECT", 0) == summary["rejected"]
    assert sum(counts.values()) == 12
    kinds = [k for (k,) in db_rows(db, "SELECT kind FROM events ORDER BY id")]
    assert kinds[-5:] == [
        "model_loaded",
        "station_started",
        "inspection_started",
        "inspection_stopped",
        "station_stopped",
    ]
    status = [line for line in done.stderr.splitlines() if line.startswith("station: inspected")]
    assert status, done.stderr
    assert "inspected 12 · " in status[-1] and "parts/s · camera" in status[-1]


def test_without_json_the_summary_is_one_line(tmp_path: Path) -> None:
    done = station(
        "--recipe",
        str(line_recipe(tmp_path, FAST_LINE)),
        "--db",
        str(tmp_path / "l.sqlite3"),
        "--parts",
        "2",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("inspected 2, ") and done.stdout.count("\n") == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_with_everything_committed(tmp_path: Path, sig: signal.Signals) -> None:
    db = tmp_path / "log.sqlite3"
    recipe = line_recipe(tmp_path, FAST_LINE.replace("0.0", "600.0"))  # 10 parts/s
    proc = subprocess.Popen(
        [*STATION, "run", "--headless", "--recipe", str(recipe), "--db", str(db), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stderr is not None
    try:
        for line in proc.stderr:  # wait for the first status line: the station is running
            if line.startswith("station: inspected") and " 0 · " not in line.split("passed")[0]:
                break
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["inspected"] >= 1
    (n,) = db_rows(db, "SELECT count(*) FROM inspections")[0]
    assert n == summary["inspected"]
    stops = db_rows(db, "SELECT message FROM events WHERE kind = 'station_stopped'")
    assert stops == [(f"station stopped: {sig.name}",)]


def test_duration_stops_it(tmp_path: Path) -> None:
    recipe = line_recipe(tmp_path, FAST_LINE.replace("0.0", "1200.0"))
    t0 = time.monotonic()
    done = station(
        "--recipe", str(recipe), "--db", str(tmp_path / "l.sqlite3"), "--duration", "2", "--json"
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert 2.0 <= summary["elapsed_s"] < 4.0
    assert summary["inspected"] >= 5
    assert time.monotonic() - t0 < 60


def test_a_stop_does_not_wait_for_the_next_part_of_a_slow_line(tmp_path: Path) -> None:
    """At 6 parts/min the second part is due 10 s in: the stop at 1 s cuts that wait short
    instead of acquiring (and inspecting) a part after it."""
    recipe = line_recipe(tmp_path, FAST_LINE.replace("0.0", "6.0"))
    done = station(
        "--recipe", str(recipe), "--db", str(tmp_path / "l.sqlite3"), "--duration", "1", "--json"
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["inspected"] == 1
    assert summary["elapsed_s"] < 5.0


def test_bad_recipe_is_one_line_and_exit_2(tmp_path: Path) -> None:
    recipe = line_recipe(tmp_path, FAST_LINE).read_text().replace("default = 0.5", "default = 7")
    bad = tmp_path / "bad.toml"
    bad.write_text(recipe)
    db = tmp_path / "never.sqlite3"
    done = station("--recipe", str(bad), "--db", str(db), "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("station run: error: ")
    assert "default" in lines[0]
    assert not db.exists()


def test_a_camera_that_refuses_its_configuration_stops_with_a_fault(tmp_path: Path) -> None:
    """Not retried: the operator sees the camera's refusal, the log says why it stopped."""
    db = tmp_path / "log.sqlite3"
    camera = f'kind = "folder"\npath = "{tmp_path / "no-such-folder"}"'
    done = station(
        "--recipe",
        str(line_recipe(tmp_path, camera)),
        "--db",
        str(db),
        "--duration",
        "30",
        "--json",
    )
    assert done.returncode == 2
    assert json.loads(done.stdout)["inspected"] == 0
    assert "camera configuration: [camera] path" in done.stderr.splitlines()[-1]
    assert done.stderr.splitlines()[-2].endswith("· camera fault")  # the last status line
    events = db_rows(db, "SELECT kind, message FROM events ORDER BY id")
    assert (
        "camera_fault",
        f"camera configuration: [camera] path = '{tmp_path}/no-such-folder': not a folder",
    ) in events
    assert [k for k, _ in events][-2:] == ["inspection_stopped", "station_stopped"]


def test_end_of_a_replay_is_a_clean_stop(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    frames = tmp_path / "frames"
    frames.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        cv2.imwrite(str(frames / f"f{i}.png"), rng.integers(0, 255, (120, 160, 3), np.uint8))
    (frames / "f4.png").write_bytes(b"not a png")  # a corrupt frame: NO DECISION, logged
    camera = f'kind = "folder"\npath = "{frames}"\nloop = false'
    db = tmp_path / "log.sqlite3"
    done = station("--recipe", str(line_recipe(tmp_path, camera)), "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["inspected"] == 5 and summary["no_decision"] == 1
    rows = db_rows(db, "SELECT why, max_scores FROM inspections WHERE outcome = 'NO DECISION'")
    assert len(rows) == 1 and str(rows[0][0]).startswith("corrupt frame: ")
    assert "station: replay finished: folder" in done.stderr and "fault" not in done.stderr


def test_headless_never_imports_qt(tmp_path: Path) -> None:
    recipe = line_recipe(tmp_path, FAST_LINE)
    code = (
        "import sys\n"
        "from station.cli import main\n"
        f"rc = main(['run', '--headless', '--recipe', {str(recipe)!r}, "
        f"'--db', {str(tmp_path / 'l.sqlite3')!r}, '--parts', '2', '--json'])\n"
        "qt = sorted(m for m in sys.modules\n"
        "            if m.startswith(('PySide6', 'pyqtgraph', 'shiboken')))\n"
        "print('QT', qt, file=sys.stderr)\n"
        "sys.exit(rc)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.pop("DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "QT []" in done.stderr.splitlines(), done.stderr
    assert json.loads(done.stdout)["inspected"] == 2


def test_the_recipes_archive_limit_holds_on_the_line(tmp_path: Path) -> None:
    """`[station] archive_limit_mb` reaches the log: the archive is pruned to it, audited."""
    recipe = line_recipe(tmp_path, FAST_LINE)
    text = recipe.read_text().replace("[station]\n", "[station]\narchive_limit_mb = 0.5\n", 1)
    recipe.write_text(text)
    db = tmp_path / "log.sqlite3"
    done = station("--recipe", str(recipe), "--db", str(db), "--parts", "40", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rejected"] >= 4  # more frames than 0.5 MB hold
    opened = db_rows(db, "SELECT details FROM events WHERE kind = 'log_opened'")
    assert json.loads(str(opened[0][0]))["archive_limit_mb"] == 0.5
    assert db_rows(db, "SELECT count(*) FROM events WHERE kind = 'archive_pruned'")[0][0] >= 1
    kept = sum(p.stat().st_size for p in archived_frames(archive_dir(db)))
    assert 0 < kept <= 500_000


def test_a_lost_camera_is_said_once_without_repeating_its_cause() -> None:
    from station.pipeline.headless import _Tally
    from station.pipeline.results import CameraState, CameraStatus

    said: list[str] = []
    tally = _Tally(said.append)
    lost = CameraStatus(CameraState.LOST, message="camera lost: cannot open device 7")
    tally.camera_changed(lost)
    tally.camera_changed(lost)  # still lost: nothing new to say
    tally.camera_changed(CameraStatus(CameraState.CONNECTED))
    tally.camera_changed(CameraStatus(CameraState.LOST, message="no frame for 2 s"))
    assert said == [
        "camera lost: cannot open device 7; reconnecting",
        "camera lost: no frame for 2 s; reconnecting",
    ]


def test_no_autostart_is_refused_headless(capsys: pytest.CaptureFixture[str]) -> None:
    from station.cli import main

    assert main(["run", "--headless", "--no-autostart", "--parts", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--no-autostart: not with --headless" in err
