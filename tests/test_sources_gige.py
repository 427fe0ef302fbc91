"""GigECamera against a real GigE Vision device on loopback (Aravis' fake camera).

The camera-loss test kills the camera process mid-run, as a pulled cable would, and
starts it again: the source must raise CameraLost, fail to reopen while the camera is
gone, and deliver frames again once the pipeline's CameraLink reopens it with backoff.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from gige_fixture import FakeGigECamera, fake_gige_camera

from station.core.errors import StationError
from station.core.ports import CameraLost, CorruptFrame, FrameSource
from station.pipeline.acquisition import BackoffPolicy, CameraChange, CameraLink
from station.pipeline.results import CameraState
from station.sources import open_source
from station.sources.gige import GigECamera, list_cameras
from station.sources.gige_host import rmem_max, socket_buffer_note, stream_buffer_bytes

__all__ = ["fake_gige_camera"]  # the fixture, imported for pytest

pytestmark = pytest.mark.gige
REGION = (0, 0, 160, 120)


class Config:
    def __init__(self, **options: object) -> None:
        self.kind = "gige"
        self.options = options


@pytest.fixture
def camera(fake_gige_camera: FakeGigECamera) -> Iterator[GigECamera]:
    source = GigECamera(camera_id=fake_gige_camera.camera_id, region=REGION, frame_rate=50.0)
    yield source
    source.close()


def test_fake_camera_is_discovered(fake_gige_camera: FakeGigECamera) -> None:
    assert fake_gige_camera.camera_id in list_cameras()


def test_frames_are_read_only_copies_with_sequence_and_time(camera: GigECamera) -> None:
    info = camera.open()
    assert (info.kind, info.width, info.height) == ("gige", 160, 120)
    assert info.fps == pytest.approx(50.0)
    frames = [camera.read(timeout_s=2.0) for _ in range(5)]
    assert [f.sequence for f in frames] == [0, 1, 2, 3, 4]
    assert all(f.image.shape == (120, 160) and f.image.dtype == np.uint8 for f in frames)
    assert not any(f.image.flags.writeable for f in frames)
    times = [f.timestamp_s for f in frames]
    assert times == sorted(times) and times[0] > 1.6e9  # seconds since the epoch
    frame_ids = [f.meta["frame_id"] for f in frames]
    assert frame_ids == sorted(frame_ids)


def test_open_on_an_open_camera_restarts_it(camera: GigECamera) -> None:
    camera.open()
    camera.read(timeout_s=2.0)
    camera.open()  # releases the camera's control channel first, or this would time out
    assert camera.read(timeout_s=2.0).sequence == 1


@pytest.mark.parametrize(
    ("pixel_format", "shape"),
    [("Mono8", (48, 64)), ("Mono16", (48, 64)), ("RGB8", (48, 64, 3)), ("BayerRG8", (48, 64, 3))],
)
def test_pixel_formats_convert_to_gray_or_bgr_uint8(
    fake_gige_camera: FakeGigECamera, pixel_format: str, shape: tuple[int, ...]
) -> None:
    source = open_source(
        Config(
            camera_id=fake_gige_camera.camera_id, pixel_format=pixel_format, region=[0, 0, 64, 48]
        )
    )
    try:
        source.open()
        frame = source.read(timeout_s=2.0)
    finally:
        source.close()
    assert frame.image.shape == shape and frame.image.dtype == np.uint8
    assert frame.meta["pixel_format"] == pixel_format
    assert frame.image.any()  # the fake camera draws a pattern, not zeros


def test_software_trigger_fires_one_frame_per_read(fake_gige_camera: FakeGigECamera) -> None:
    source = GigECamera(
        camera_id=fake_gige_camera.camera_id, trigger="software", region=REGION, exposure_us=1000
    )
    try:
        assert source.open().fps == 0.0
        ids = [source.read(timeout_s=2.0).meta["frame_id"] for _ in range(3)]
    finally:
        source.close()
    assert ids == list(range(ids[0], ids[0] + 3))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pixel_format": "YUV422_8"}, "pixel_format = 'YUV422_8'"),
        ({"region": [2000, 0, 100, 100]}, "outside the 2048x2048 sensor"),
        ({"exposure_us": 1.0}, "exposure_us = 1.0"),
        ({"gain_db": 99.0}, "gain_db = 99.0"),
    ],
)
def test_options_the_camera_cannot_take_are_refused_by_name(
    fake_gige_camera: FakeGigECamera, options: dict[str, object], message: str
) -> None:
    with pytest.raises(StationError, match=message):
        source = open_source(Config(camera_id=fake_gige_camera.camera_id, **options))
        try:
            source.open()
        finally:
            source.close()


def test_unknown_camera_id_is_camera_lost(fake_gige_camera: FakeGigECamera) -> None:
    source = GigECamera(camera_id="Aravis-Fake-NOSUCH")
    with pytest.raises(CameraLost, match="NOSUCH"):
        source.open()


def test_killed_camera_is_lost_and_comes_back(
    fake_gige_camera: FakeGigECamera, camera: GigECamera
) -> None:
    assert isinstance(camera, FrameSource)
    camera.open()
    before = [camera.read(timeout_s=2.0).sequence for _ in range(3)]

    fake_gige_camera.kill()  # the cable is pulled mid-run
    with pytest.raises(CameraLost):
        for _ in range(20):  # frames already in flight may still arrive
            camera.read(timeout_s=0.5)
    with pytest.raises(CameraLost):
        camera.read(timeout_s=0.5)  # stays lost until reopened
    with pytest.raises(CameraLost):
        camera.open()  # the camera is gone: reopening fails

    fake_gige_camera.start()  # plugged back in
    link = CameraLink(camera, backoff=BackoffPolicy(first_s=0.05, max_s=0.2))
    states: list[CameraState] = []
    for _ in range(200):
        items, wait_s = link.acquire()
        states += [i.status.state for i in items if isinstance(i, CameraChange)]
        if link.is_open:
            break
        time.sleep(wait_s)
    assert states[-1] is CameraState.CONNECTED
    info = next(i.status.info for i in items if isinstance(i, CameraChange))
    assert info is not None and (info.width, info.height) == (160, 120)
    after = [camera.read(timeout_s=2.0) for _ in range(3)]
    assert after[0].sequence > before[-1]  # numbering continues across the loss
    assert [f.sequence for f in after] == list(range(after[0].sequence, after[0].sequence + 3))
    assert all(f.image.shape == (120, 160) for f in after)


# ---- at the camera's defaults: the stream's socket buffer -----------------------------------

FULL_FRAME_READS = 200
"""8 s of the fake camera's default 25 fps, 512 x 512 Mono8 (262,144 bytes a frame)."""


def test_full_default_frame_arrives_complete(fake_gige_camera: FakeGigECamera) -> None:
    """A recipe with only the camera and Mono8, as a new user writes it: >= 99% complete
    frames (with Aravis' default socket buffer about half of every frame was lost)."""
    source = open_source(Config(camera_id=fake_gige_camera.camera_id, pixel_format="Mono8"))
    complete = corrupt = 0
    try:
        info = source.open()
        assert (info.width, info.height) == (512, 512)
        for _ in range(FULL_FRAME_READS):
            try:
                frame = source.read(timeout_s=2.0)
            except CorruptFrame:
                corrupt += 1
            else:
                assert frame.image.shape == (512, 512)
                complete += 1
    finally:
        source.close()
    assert complete / FULL_FRAME_READS >= 0.99, f"{corrupt} of {FULL_FRAME_READS} frames corrupt"


def test_buffer_size_is_two_frames_at_least_one_mib() -> None:
    assert stream_buffer_bytes(262_144) == 1 << 20
    assert stream_buffer_bytes(2048 * 2048) == 2 * 2048 * 2048
    assert stream_buffer_bytes(262_144, override=300_000) == 300_000
    assert socket_buffer_note("cam", 1 << 20, cap=4 << 20) is None
    note = socket_buffer_note("cam", 8 << 20, cap=212_992)
    assert note is not None and "net.core.rmem_max = 212992" in note and "8388608" in note


def test_a_capped_socket_buffer_is_said_once(fake_gige_camera: FakeGigECamera) -> None:
    cap = rmem_max()
    if cap is None:
        pytest.skip("/proc/sys/net/core/rmem_max unreadable")
    source = GigECamera(
        camera_id=fake_gige_camera.camera_id, region=REGION, socket_buffer_bytes=cap + 4096
    )
    try:
        first = source.open()
        again = source.open()  # a reconnect: the operator was told already
    finally:
        source.close()
    assert len(first.notes) == 1 and f"net.core.rmem_max = {cap}" in first.notes[0]
    assert again.notes == ()


def test_socket_buffer_option_is_checked() -> None:
    with pytest.raises(StationError, match=r"\[camera\] socket_buffer_bytes = 1000"):
        open_source(Config(socket_buffer_bytes=1000))
