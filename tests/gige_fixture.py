"""A real GigE Vision camera on loopback: Aravis' `arv-fake-gv-camera-0.8` as a process.

Import the fixture explicitly (`from tests.gige_fixture import fake_gige_camera`) in
a test module. The process can be killed mid-run (a pulled cable) and started again.

Only one fake camera can own 127.0.0.1:3956 (GVCP), so a file lock serialises the
fixture across pytest processes that run at the same time.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

FAKE_CAMERA = "arv-fake-gv-camera-0.8"
ADDRESS = "127.0.0.1"
GVCP_PORT = 3956


def gige_skip_reason() -> str | None:
    """Why the GigE tests cannot run here, or None when they can."""
    if shutil.which(FAKE_CAMERA) is None:
        return f"{FAKE_CAMERA} not found: install Debian's aravis-tools (scripts/setup.sh test)"
    try:
        import gi

        gi.require_version("Aravis", "0.8")
        from gi.repository import Aravis  # noqa: F401
    except (ImportError, ValueError) as exc:
        return f"Aravis introspection unavailable (gir1.2-aravis-0.8 + PyGObject): {exc}"
    return None


def _port_free() -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((ADDRESS, GVCP_PORT))
        except OSError:
            return False
    return True


class FakeGigECamera:
    """One fake camera process with serial `serial`, listening on 127.0.0.1."""

    def __init__(self, serial: str) -> None:
        self.serial = serial
        self.camera_id = f"Aravis-Fake-{serial}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        """Starts the process and waits until it answers discovery."""
        deadline = time.monotonic() + timeout_s
        while not _port_free():  # the previous process' socket may linger briefly
            if time.monotonic() > deadline:
                raise RuntimeError(f"{ADDRESS}:{GVCP_PORT} is taken by another GigE device")
            time.sleep(0.05)
        self.process = subprocess.Popen(
            [FAKE_CAMERA, "-i", ADDRESS, "-s", self.serial],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while _port_free():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"{FAKE_CAMERA} did not start listening on {ADDRESS}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL, as a pulled cable: no goodbye on the wire."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture
def fake_gige_camera() -> Iterator[FakeGigECamera]:
    """A started fake GigE camera, killed at teardown; skips where Aravis is missing."""
    reason = gige_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    lock_path = Path(tempfile.gettempdir()) / "station-fake-gige.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        camera = FakeGigECamera(serial=f"ST{os.getpid() % 100000}")
        camera.start()
        try:
            yield camera
        finally:
            camera.kill()
