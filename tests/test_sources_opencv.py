"""OpenCvCamera on real VideoCapture backends: a video file and an image sequence."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from station.core.errors import StationError
from station.core.ports import CameraLost, SourceExhausted
from station.sources.opencv import OpenCvCamera


def write_video(path: Path, n_frames: int) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
    assert writer.isOpened()
    for i in range(n_frames):
        writer.write(np.full((48, 64, 3), 20 * i, np.uint8))
    writer.release()
    return path


def test_video_file_replays_once(tmp_path: Path) -> None:
    camera = OpenCvCamera(uri=str(write_video(tmp_path / "clip.avi", 4)), loop=False)
    info = camera.open()
    assert (info.width, info.height) == (64, 48)
    frames = [camera.read() for _ in range(4)]
    assert [f.sequence for f in frames] == [0, 1, 2, 3]
    assert all(f.image.shape == (48, 64, 3) and not f.image.flags.writeable for f in frames)
    assert [round(int(f.image.mean()) / 20) for f in frames] == [0, 1, 2, 3]
    with pytest.raises(SourceExhausted):
        camera.read()
    camera.close()


def test_video_file_loops(tmp_path: Path) -> None:
    camera = OpenCvCamera(uri=str(write_video(tmp_path / "clip.avi", 3)), loop=True)
    camera.open()
    levels = [round(int(camera.read().image.mean()) / 20) for _ in range(5)]
    assert levels == [0, 1, 2, 0, 1]
    camera.close()


def test_live_stream_that_ends_is_camera_lost(tmp_path: Path) -> None:
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"f{i:03d}.png"), np.full((8, 8, 3), i, np.uint8))
    # An image-sequence pattern is not a file: OpenCV treats it as a live stream.
    camera = OpenCvCamera(uri=str(tmp_path / "f%03d.png"), backend="images")
    camera.open()
    camera.read()
    camera.read()
    with pytest.raises(CameraLost):
        camera.read()
    with pytest.raises(CameraLost, match="not open"):
        camera.read()


def test_missing_device_is_camera_lost() -> None:
    with pytest.raises(CameraLost, match="cannot open device 63"):
        OpenCvCamera(device=63, backend="v4l2").open()


def test_a_file_that_is_not_a_video_is_a_station_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.avi"
    bogus.write_text("not a video")
    with pytest.raises(StationError, match="not a video OpenCV can read"):
        OpenCvCamera(uri=str(bogus)).open()
