"""Reading YOLO samples and the score cache (real files in tmp dirs)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from station.core.errors import StationError
from station.core.sample import ScoredSample
from station.evaluation import ScoreCache, cache_key, parse_data_yaml_names, read_yolo_sample

MODEL = ("scratch", "pit", "stain")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("names: [scratch, pit, stain]\n", ("scratch", "pit", "stain")),
        ("names: ['scratch', \"pit\"]\n", ("scratch", "pit")),
        ("nc: 2\nnames:\n  - pit\n  - scratch\n", ("pit", "scratch")),
        ("path: x\nnames:\n  0: stain  # comment\n  1: pit\ntrain: images\n", ("stain", "pit")),
        ("names:\n  1: pit\n  0: 'scratch'\n", ("scratch", "pit")),
        ("names: {0: a, 1: b}\n", ("a", "b")),
        ("train: images\n", None),
    ],
)
def test_data_yaml_names(text: str, names: tuple[str, ...] | None) -> None:
    assert parse_data_yaml_names(text, Path("data.yaml")) == names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("names: [a, b\n", "one-line list"),
        ("names:\n  0: a\n  2: b\n", "expected ids 0..1"),
        ("names:\n  x: a\n", "`id: name`"),
    ],
)
def test_bad_data_yaml(text: str, message: str) -> None:
    with pytest.raises(StationError, match=message):
        parse_data_yaml_names(text, Path("data.yaml"))


def make(root: Path, labels: dict[str, str | None], data_yaml: str | None) -> Path:
    for rel, text in labels.items():
        img = root / "images" / rel
        img.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(img), np.full((8, 8, 3), 128, np.uint8))
        if text is not None:
            lab = (root / "labels" / rel).with_suffix(".txt")
            lab.parent.mkdir(parents=True, exist_ok=True)
            lab.write_text(text)
    if data_yaml is not None:
        (root / "data.yaml").write_text(data_yaml)
    return root


def test_truth_maps_label_names_onto_the_models_classes(tmp_path: Path) -> None:
    root = make(
        tmp_path,
        {
            "a.png": "0 0.5 0.5 0.1 0.1\n1 0.2 0.2 0.1 0.1\n",  # stain, scratch (by name)
            "b.png": "",  # empty label: good
            "c.png": None,  # missing label: good
            "sub/d.png": "1 0.5 0.5 0.2 0.2\n",
        },
        "names: [stain, scratch]\n",
    )
    s = read_yolo_sample(root, MODEL)
    assert s.part_ids == ("a.png", "b.png", "c.png", "sub/d.png")
    assert s.truth.tolist() == [
        [True, False, True],
        [False, False, False],
        [False, False, False],
        [True, False, False],
    ]
    assert s.label_paths[2] is None and s.label_paths[3] == root / "labels" / "sub" / "d.txt"


def test_without_data_yaml_ids_are_the_models(tmp_path: Path) -> None:
    s = read_yolo_sample(make(tmp_path, {"a.png": "2 0.5 0.5 0.1 0.1\n"}, None), MODEL)
    assert s.truth.tolist() == [[False, False, True]]


@pytest.mark.parametrize(
    ("label", "data_yaml", "message"),
    [
        ("5 0.5 0.5 0.1 0.1\n", None, "a.txt:1: class 5 is outside the model's classes"),
        ("x 0.5 0.5 0.1 0.1\n", None, "a.txt:1: expected `class cx cy w h`"),
        ("0 0.5\n", None, "a.txt:1: expected"),
        ("\n1 0.5 0.5 0.1 0.1\n", "names: [scratch, dent]\n", "a.txt:2: class 1 ('dent'"),
    ],
)
def test_bad_labels_are_named_with_file_and_line(
    tmp_path: Path, label: str, data_yaml: str | None, message: str
) -> None:
    root = make(tmp_path, {"a.png": label}, data_yaml)
    with pytest.raises(StationError, match=message.replace("(", r"\(")):
        read_yolo_sample(root, MODEL)


def test_not_a_sample(tmp_path: Path) -> None:
    with pytest.raises(StationError, match="images/ folder"):
        read_yolo_sample(tmp_path, MODEL)
    (tmp_path / "images").mkdir()
    with pytest.raises(StationError, match="no images"):
        read_yolo_sample(tmp_path, MODEL)


def test_content_hash_follows_every_file(tmp_path: Path) -> None:
    root = make(tmp_path, {"a.png": "0 0.5 0.5 0.1 0.1\n", "b.png": ""}, "names: [scratch]\n")
    first = read_yolo_sample(root, MODEL).content_sha256
    assert read_yolo_sample(root, MODEL).content_sha256 == first
    (root / "labels" / "b.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    second = read_yolo_sample(root, MODEL).content_sha256
    assert second != first
    cv2.imwrite(str(root / "images" / "a.png"), np.full((8, 8, 3), 7, np.uint8))
    assert read_yolo_sample(root, MODEL).content_sha256 not in (first, second)


def scored() -> ScoredSample:
    return ScoredSample(
        MODEL,
        np.array([[0.5, -np.inf, np.nan], [0.1, 0.2, 0.3]], np.float32),
        np.array([[True, False, False], [False, False, False]]),
        ("a.png", "b.png"),
        "f" * 64,
    )


def test_cache_round_trip_and_damage(tmp_path: Path) -> None:
    cache = ScoreCache(tmp_path / "c")
    key = cache_key("f" * 64, "e" * 64, MODEL, "yolov8")
    assert cache.load(key) is None
    path = cache.store(key, scored(), np.array([False, True]))
    assert path is not None and path.parent == tmp_path / "c"
    hit = cache.load(key)
    assert hit is not None
    sample, unreadable = hit
    assert np.array_equal(sample.scores, scored().scores, equal_nan=True)
    assert sample.truth.tolist() == scored().truth.tolist()
    assert sample.part_ids == ("a.png", "b.png") and sample.model_sha256 == "f" * 64
    assert unreadable.tolist() == [False, True]
    assert cache_key("f" * 64, "e" * 64, ("a", "b", "c"), "yolov8") != key
    path.write_bytes(b"damaged")
    assert cache.load(key) is None  # the model simply re-runs


def test_cache_in_an_unwritable_place_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ScoreCache(blocker / "sub")
    assert cache.store("k" * 64, scored(), np.zeros(2, bool)) is None


def test_default_cache_dir_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from station.evaluation import default_cache_dir

    monkeypatch.setenv("STATION_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("STATION_CACHE_DIR")
    assert default_cache_dir().name == "scores"
