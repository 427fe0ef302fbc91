"""The station on a line: `station run --headless` with a PLC (scripts/plc_sim.py, or a
pymodbus client) on 127.0.0.1. Every trigger gets exactly its result; the outcomes are
the log's; the counters are `station report`'s; the heartbeat stops with the station."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from gige_fixture import FakeGigECamera, fake_gige_camera
from plc_support import UNIT, plc_client, read_all

from station.outputs.plc import register_map as rm

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "defects.onnx"
HEARTBEAT_MS = 100
__all__ = ["fake_gige_camera"]  # the fixture, imported for pytest
WORDS = {"PASS": "pass", "REJECT": "reject", "NO DECISION": "no_decision"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def recipe(tmp_path: Path, port: int, camera: str = "", station: str = "") -> Path:
    path = tmp_path / "recipe.toml"
    path.write_text(
        f"""
[product]
name = "bracket"

[model]
path = "{MODEL}"

[camera]
{camera or 'kind = "synthetic"'}
trigger = "plc"

[station]
db = "log.sqlite3"
{station}

[plc]
kind = "modbus-tcp"
host = "127.0.0.1"
port = {port}
heartbeat_ms = {HEARTBEAT_MS}
"""
    )
    return path


def start_station(recipe_path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "station",
            "run",
            "--headless",
            "--json",
            "--recipe",
            str(recipe_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return proc


def wait_listening(port: int, proc: subprocess.Popen[str], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            with plc_client(port) as plc:
                if read_all(plc)[rm.STATE] == rm.PlcState.READY:
                    return
        except AssertionError:
            pass
        time.sleep(0.2)
    raise AssertionError("the station did not come up")


def plc_sim(port: int, parts: int, db: Path) -> dict[str, object]:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "plc_sim.py"),
            "--port",
            str(port),
            "--rate",
            "10",
            "--parts",
            str(parts),
            "--heartbeat-ms",
            str(HEARTBEAT_MS),
            "--db",
            str(db),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    summary: dict[str, object] = json.loads(out.stdout)
    return summary


def assert_heartbeat_moves(plc: object, values: int = 3, timeout_s: float = 5.0) -> None:
    seen: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while len(seen) < values:
        assert time.monotonic() < deadline, f"heartbeat stuck at {seen}"
        seen.add(read_all(plc)[rm.HEARTBEAT])  # type: ignore[arg-type]
        time.sleep(0.01)


def whys(tmp_path: Path) -> list[str]:
    with sqlite3.connect(f"file:{tmp_path / 'log.sqlite3'}?mode=ro", uri=True) as conn:
        return [w for (w,) in conn.execute("SELECT why FROM inspections ORDER BY id")]


def logged_outcomes(db: Path) -> dict[int, str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT outcome, extra FROM inspections ORDER BY id").fetchall()
    return {int(json.loads(extra)["trigger_id"]): WORDS[outcome] for outcome, extra in rows}


def test_every_trigger_gets_its_result_and_the_heartbeat_stops_at_sigterm(tmp_path: Path) -> None:
    port = free_port()
    # A deadline no loaded machine misses: this test is about every trigger's answer.
    proc = start_station(recipe(tmp_path, port, station="decision_deadline_ms = 30000"))
    try:
        wait_listening(port, proc)
        first = plc_sim(port, 15, tmp_path / "log.sqlite3")
        # the PLC disconnected; a new connection carries on with the next trigger ids
        second = plc_sim(port, 15, tmp_path / "log.sqlite3")
        with plc_client(port) as plc:
            assert_heartbeat_moves(plc)
            sigterm_at = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            last, last_change = read_all(plc)[rm.HEARTBEAT], time.monotonic()
            while True:
                try:
                    beat = read_all(plc)[rm.HEARTBEAT]
                except Exception:  # the server has closed: the station is gone
                    break
                if beat != last:
                    last, last_change = beat, time.monotonic()
                time.sleep(0.005)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert last_change - sigterm_at <= 2 * HEARTBEAT_MS / 1000.0
    for run in (first, second):
        assert run["triggers"] == run["results"] == 15
        assert run["match"] is True  # the station's counters are station report's
        assert run["heartbeat_stalls"] == 0
    by_id = {int(i): word for i, word in [*first["by_id"], *second["by_id"]]}  # type: ignore[misc]
    assert sorted(by_id) == list(range(1, 31))
    assert logged_outcomes(tmp_path / "log.sqlite3") == by_id
    summary = json.loads(out)
    assert summary["plc"] == {"clients": 0, "triggers": 30, "results": 30, "late": 0}
    assert summary["inspected"] == 30
    assert "PLC" in err and "connected" in err


def trigger_and_wait(plc: Any, trigger_id: int, timeout_s: float = 10.0) -> list[int]:
    plc.write_register(rm.TRIGGER_ID, trigger_id, device_id=UNIT)
    deadline = time.monotonic() + timeout_s
    while (regs := read_all(plc))[rm.RESULT_ID] != trigger_id:
        assert time.monotonic() < deadline, f"no result for trigger {trigger_id}"
        time.sleep(0.01)
    return regs


def wait_state(plc: Any, state: rm.PlcState, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while read_all(plc)[rm.STATE] != state:
        assert time.monotonic() < deadline, f"state {read_all(plc)[rm.STATE]}, not {state}"
        time.sleep(0.05)


@pytest.mark.gige
def test_state_is_fault_while_the_gige_camera_is_gone(
    tmp_path: Path, fake_gige_camera: FakeGigECamera
) -> None:
    port = free_port()
    camera = (
        f'kind = "gige"\ncamera_id = "{fake_gige_camera.camera_id}"\n'
        'pixel_format = "Mono8"\ntimeout_s = 0.5'
    )
    proc = start_station(recipe(tmp_path, port, camera=camera))
    try:
        wait_listening(port, proc)
        with plc_client(port) as plc:
            before = [trigger_and_wait(plc, t)[rm.RESULT] for t in (1, 2, 3)]
            assert rm.PlcResult.NO_DECISION not in before, whys(tmp_path)  # real decisions
            assert_heartbeat_moves(plc)
            fake_gige_camera.kill()
            lost = trigger_and_wait(plc, 4)
            assert lost[rm.RESULT] == rm.PlcResult.NO_DECISION
            wait_state(plc, rm.PlcState.FAULT)
            frozen = read_all(plc)[rm.HEARTBEAT]
            time.sleep(3 * HEARTBEAT_MS / 1000.0)
            assert read_all(plc)[rm.HEARTBEAT] == frozen  # no heartbeat without a camera
            fake_gige_camera.start()
            wait_state(plc, rm.PlcState.READY)
            assert_heartbeat_moves(plc)
            after = trigger_and_wait(plc, 5)
            assert after[rm.RESULT] in (rm.PlcResult.PASS, rm.PlcResult.REJECT), whys(tmp_path)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    rows = logged_outcomes(tmp_path / "log.sqlite3")
    assert sorted(rows) == [1, 2, 3, 4, 5] and rows[4] == "no_decision"
