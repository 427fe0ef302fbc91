"""PylonCamera against pylon's camera emulation (`PYLON_CAMEMU`), where pypylon installs."""

from __future__ import annotations

import os

import numpy as np
import pytest

# The emulated camera must be announced before pylon's transport layer first loads.
os.environ.setdefault("PYLON_CAMEMU", "1")
pytest.importorskip("pypylon", reason="pypylon not installed (the station's 'pylon' extra)")

from station.core.errors import StationError
from station.core.ports import CameraLost
from station.sources.pylon import PylonCamera


def test_emulated_camera_frames() -> None:
    camera = PylonCamera(region=(0, 0, 128, 96), frame_rate=50.0)
    info = camera.open()
    try:
        assert (info.kind, info.width, info.height) == ("pylon", 128, 96)
        assert "Emulation" in info.name
        frames = [camera.read(timeout_s=2.0) for _ in range(3)]
    finally:
        camera.close()
    assert [f.sequence for f in frames] == [0, 1, 2]
    assert all(f.image.shape == (96, 128) and f.image.dtype == np.uint8 for f in frames)
    assert not any(f.image.flags.writeable for f in frames)


@pytest.mark.parametrize(
    ("pixel_format", "shape"), [("Mono12", (48, 64)), ("RGB8Packed", (48, 64, 3))]
)
def test_emulated_pixel_formats(pixel_format: str, shape: tuple[int, ...]) -> None:
    camera = PylonCamera(pixel_format=pixel_format, region=(0, 0, 64, 48), trigger="software")
    camera.open()
    try:
        frame = camera.read(timeout_s=2.0)
    finally:
        camera.close()
    assert frame.image.shape == shape and frame.image.dtype == np.uint8


def test_a_stream_that_stops_is_camera_lost_until_reopened() -> None:
    camera = PylonCamera(trigger="software", timeout_s=0.2)
    camera.open()
    camera.read()
    # The emulator cannot be unplugged; stop its stream under the source instead.
    camera._camera.StopGrabbing()
    with pytest.raises(CameraLost, match="no frame"):
        camera.read()
    camera.open()  # reconnects
    assert camera.read().sequence == 1
    camera.close()


def test_unknown_serial_is_camera_lost_and_bad_gain_a_station_error() -> None:
    with pytest.raises(CameraLost, match="not found"):
        PylonCamera(camera_id="0000-NOPE").open()
    camera = PylonCamera(gain_db=500.0)
    with pytest.raises(StationError, match=r"gain_db = 500\.0"):
        camera.open()
    camera.close()
