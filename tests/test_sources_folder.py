"""FolderCamera: replay of an image folder or a YOLO sample (labels become truth)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from station.core.errors import StationError
from station.core.ports import FrameSource
from station.sources.errors import CorruptFrame, SourceExhausted
from station.sources.folder import FolderCamera, label_path
from station.synthetic.dataset import write_yolo_sample
from station.synthetic.line import PartGenerator


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    write_yolo_sample(root, n_parts=12, seed=4, width=320, height=240)
    return root


def write_images(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"img{i:02d}.png"
        cv2.imwrite(str(path), np.full((30, 40, 3), i * 10, np.uint8))
        paths.append(path)
    return paths


def test_yolo_sample_replays_with_truth_in_frame_pixels(sample: Path) -> None:
    camera = FolderCamera(sample, loop=False)
    assert isinstance(camera, FrameSource)
    info = camera.open()
    assert (info.width, info.height) == (320, 240)
    generator = PartGenerator(4, width=320, height=240)
    for index in range(12):
        frame = camera.read()
        part = generator.part(index)
        assert frame.sequence == index
        assert not frame.image.flags.writeable and frame.image.shape == (240, 320, 3)
        assert frame.truth is not None
        np.testing.assert_array_equal(frame.truth.class_id, part.class_ids)
        np.testing.assert_allclose(frame.truth.xyxy, part.boxes_xyxy, atol=0.01)
    with pytest.raises(SourceExhausted):
        camera.read()


def test_plain_folder_has_unknown_truth_and_loops(tmp_path: Path) -> None:
    write_images(tmp_path / "shots", 3)
    camera = FolderCamera(tmp_path / "shots", loop=True)
    camera.open()
    frames = [camera.read() for _ in range(7)]
    assert [f.sequence for f in frames] == list(range(7))
    assert all(f.truth is None for f in frames)
    assert [int(f.image[0, 0, 0]) for f in frames] == [0, 10, 20, 0, 10, 20, 0]
    assert frames[4].meta["path"].endswith("img01.png")


def test_missing_label_file_means_a_good_part(tmp_path: Path) -> None:
    write_images(tmp_path / "images", 2)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "img00.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    camera = FolderCamera(tmp_path, loop=False)
    camera.open()
    first, second = camera.read(), camera.read()
    assert first.truth is not None and first.truth.defective
    np.testing.assert_allclose(first.truth.xyxy, [[10, 7.5, 30, 22.5]])
    assert second.truth is not None and not second.truth.defective


def test_corrupt_image_is_one_corrupt_frame_then_the_replay_goes_on(tmp_path: Path) -> None:
    paths = write_images(tmp_path, 3)
    paths[1].write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    camera = FolderCamera(tmp_path, loop=False)
    camera.open()
    assert camera.read().sequence == 0
    with pytest.raises(CorruptFrame, match=r"img01\.png") as caught:
        camera.read()
    assert caught.value.sequence == 1
    assert camera.read().sequence == 2


def test_malformed_label_is_a_corrupt_frame_naming_the_line(tmp_path: Path) -> None:
    write_images(tmp_path / "images", 1)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "img00.txt").write_text("0 0.5 0.5\n")
    camera = FolderCamera(tmp_path, loop=False)
    camera.open()
    with pytest.raises(CorruptFrame, match=r"img00.txt:1: expected 'class cx cy w h'"):
        camera.read()


@pytest.mark.parametrize(("make", "message"), [("missing", "not a folder"), ("empty", "no images")])
def test_bad_folder_is_a_station_error(tmp_path: Path, make: str, message: str) -> None:
    path = tmp_path / "nothing"
    if make == "empty":
        path.mkdir()
    with pytest.raises(StationError, match=message):
        FolderCamera(path).open()


def test_label_path_follows_the_yolo_convention() -> None:
    assert label_path(Path("/d/images/val/a.png")) == Path("/d/labels/val/a.txt")
    assert label_path(Path("/d/shots/a.png")) is None


def test_fps_paces_the_replay(tmp_path: Path) -> None:
    write_images(tmp_path, 2)
    now = [0.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    camera = FolderCamera(tmp_path, fps=4, clock=lambda: now[0], sleep=sleep)
    camera.open()
    for _ in range(3):
        camera.read()
    assert sleeps == [0.25, 0.25]
