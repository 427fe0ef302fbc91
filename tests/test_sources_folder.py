"""FolderCamera: replay of an image folder or a YOLO sample (labels become truth)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from station.core.errors import StationError
from station.core.ports import BadLabelFile, CorruptFrame, FrameSource, SourceExhausted
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


def test_a_sample_with_data_yaml_names_its_truth_and_refuses_an_unnamed_class(
    tmp_path: Path,
) -> None:
    write_images(tmp_path / "images", 2)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "img00.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    (tmp_path / "labels" / "img01.txt").write_text("2 0.5 0.5 0.5 0.5\n")
    (tmp_path / "data.yaml").write_text("nc: 2\nnames: [dent, stain]\n")
    camera = FolderCamera(tmp_path, loop=False)
    camera.open()
    first = camera.read()
    assert first.truth is not None and first.truth.labels() == ("stain",)
    with pytest.raises(BadLabelFile, match=r"img01.txt:1: class 2: data.yaml names 2 classes"):
        camera.read()


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


def test_malformed_label_is_a_bad_label_file_naming_the_line(tmp_path: Path) -> None:
    write_images(tmp_path / "images", 1)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "img00.txt").write_text("0 0.5 0.5\n")
    camera = FolderCamera(tmp_path, loop=False)
    camera.open()
    with pytest.raises(BadLabelFile, match=r"img00.txt:1: expected `class cx cy w h`"):
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


def test_a_folder_of_files_that_are_not_images_is_refused_at_open(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"frame{i}.png").write_text("not an image")
    with pytest.raises(StationError, match=r"none of its 5 image files can be read \(first: "):
        FolderCamera(tmp_path).open()


def test_an_unreadable_file_is_reported_once_then_left_out_of_the_loop(tmp_path: Path) -> None:
    paths = write_images(tmp_path, 3)
    paths[1].write_text("not an image")
    camera = FolderCamera(tmp_path, loop=True)
    camera.open()
    failures, frames = [], []
    for _ in range(10):
        try:
            frames.append(camera.read())
        except CorruptFrame as exc:
            failures.append(str(exc))
    assert len(failures) == 1 and "img01.png" in failures[0]
    assert "left out of the replay" in failures[0]
    assert len(frames) == 9
    assert {f.meta["path"] for f in frames} == {str(paths[0]), str(paths[2])}


def test_unreadable_files_before_the_first_image_are_left_out_at_open(tmp_path: Path) -> None:
    paths = write_images(tmp_path, 2)
    paths[0].write_text("not an image")
    camera = FolderCamera(tmp_path, loop=True)
    info = camera.open()
    assert (info.width, info.height) == (40, 30) and "(1 images)" in info.name
    assert [camera.read().meta["path"] for _ in range(3)] == [str(paths[1])] * 3


def test_a_frame_above_the_pixel_limit_is_one_corrupt_frame(tmp_path: Path) -> None:
    write_images(tmp_path, 1)
    cv2.imwrite(str(tmp_path / "img01.png"), np.zeros((40, 60, 3), np.uint8))  # 2400 pixels
    camera = FolderCamera.from_options({"path": str(tmp_path), "max_image_pixels": 2000})
    camera.open()
    camera.read()
    with pytest.raises(CorruptFrame, match=r"image too large .*img01.png: 60 x 40 = 2,400 pixels"):
        camera.read()
    assert camera.read().meta["path"].endswith("img00.png")


def test_a_label_box_off_the_image_is_a_corrupt_frame_naming_the_line(tmp_path: Path) -> None:
    write_images(tmp_path / "images", 1)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "img00.txt").write_text("0 0.5 0.5 0.1 0.1\n0 1.2 0.5 0.1 0.1\n")
    camera = FolderCamera(tmp_path, loop=False)
    camera.open()
    with pytest.raises(CorruptFrame, match=r"img00.txt:2: cx = 1.2: expected a fraction"):
        camera.read()
