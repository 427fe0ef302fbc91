"""plc: trigger written → new result_id visible to the PLC, over loopback Modbus TCP.

`station run --headless` runs the shipped model with `[camera] trigger = "plc"` and a
`[plc]` table on 127.0.0.1. The camera is a folder of 50 synthetic-line frames (640x480
PNG, rendered once): a file read stands in for a camera's frame transfer, where
rendering a synthetic part (~20 ms) would not. A pymodbus client plays
the PLC at 10 parts/s: it writes each trigger_id and polls result_id (every 1 ms) until
it shows that id. The time in between is everything the line waits for: Modbus write,
trigger queue, frame, inference, decision, log commit, registers, Modbus read.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import Figure, Skip

ROOT = Path(__file__).resolve().parent.parent
RATE_PPS = 10.0
PARTS = 200
WARMUP = 10
TARGET_P99_MS = 50.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _frames(folder: Path, n: int = 50) -> None:
    import cv2

    from station.sources.synthetic import SyntheticCamera

    (folder / "frames").mkdir()
    camera = SyntheticCamera(parts_per_minute=0.0)
    camera.open()
    for i in range(n):
        cv2.imwrite(str(folder / "frames" / f"part_{i:03d}.png"), camera.read().image)
    camera.close()


def _recipe(folder: Path, port: int) -> Path:
    _frames(folder)
    path = folder / "recipe.toml"
    path.write_text(
        f"""
[product]
name = "bench"

[model]
path = "{ROOT / "models" / "defects.onnx"}"

[camera]
kind = "folder"
path = "frames"
trigger = "plc"

[station]
db = "log.sqlite3"

[plc]
kind = "modbus-tcp"
host = "127.0.0.1"
port = {port}
"""
    )
    return path


def run() -> list[Figure]:
    try:
        from pymodbus.client import ModbusTcpClient
    except ImportError as exc:
        raise Skip(f"pymodbus missing (the plc extra): {exc}") from None
    if not (ROOT / "models" / "defects.onnx").exists():
        raise Skip("models/defects.onnx not found")
    folder = Path(tempfile.mkdtemp(prefix="bench-plc-"))
    port = _free_port()
    recipe = _recipe(folder, port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "run", "--headless", "--json", "--recipe", str(recipe)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=2)
    try:
        deadline = time.monotonic() + 120
        while not (client.connect() and _ready(client)):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise Skip("the station did not come up")
            time.sleep(0.2)
        load = os.getloadavg()[0]
        latencies, missing, no_decision = _conveyor(client)
        load = max(load, os.getloadavg()[0])
    finally:
        client.close()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    inside = json.loads(out)["latency_ms"]
    ms = np.asarray(latencies[WARMUP:])
    p99 = float(np.percentile(ms, 99))
    print(f"plc: {len(ms)} parts at {RATE_PPS:g}/s, {missing} without result", file=sys.stderr)
    return [
        Figure("plc trigger->result p50", float(np.median(ms)), "ms"),
        Figure("plc trigger->result p99", p99, "ms", f"<= {TARGET_P99_MS:g}", p99 <= TARGET_P99_MS),
        Figure("plc trigger->result max", float(ms.max()), "ms"),
        Figure("plc results missing", float(missing), "parts", "0", missing == 0),
        Figure("plc NO DECISION results", float(no_decision), "parts"),
        Figure("plc station frame->committed p50", float(inside["p50"] or 0.0), "ms"),
        Figure("plc station frame->committed p99", float(inside["p99"] or 0.0), "ms"),
        Figure("plc load average (1 min, highest seen)", load, ""),
    ]


def _ready(client: object) -> bool:
    reply = client.read_holding_registers(0, count=2, device_id=1)  # type: ignore[attr-defined]
    return not reply.isError() and reply.registers[1] == 1


def _conveyor(client: object) -> tuple[list[float], int, int]:
    latencies: list[float] = []
    missing = no_decision = 0
    start = time.perf_counter()
    for i in range(PARTS + WARMUP):
        trigger_id = i + 1
        slot = start + i / RATE_PPS
        time.sleep(max(0.0, slot - time.perf_counter()))
        t0 = time.perf_counter()
        client.write_register(20, trigger_id, device_id=1)  # type: ignore[attr-defined]
        while True:
            regs = client.read_holding_registers(0, count=4, device_id=1).registers  # type: ignore[attr-defined]
            if regs[2] == trigger_id:
                latencies.append((time.perf_counter() - t0) * 1e3)
                no_decision += int(regs[3] == 3)
                break
            if time.perf_counter() - t0 > 2.0:
                missing += 1
                break
            time.sleep(0.001)
    return latencies, missing, no_decision
