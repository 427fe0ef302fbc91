"""Exporter metadata and sidecar labels files."""

from __future__ import annotations

import pytest

from station.core.errors import StationError
from station.detectors.labels import read_labels
from station.detectors.metadata import parse_metadata


def test_ultralytics_metadata_is_parsed():
    meta = parse_metadata(
        {
            "names": "{0: 'scratch', 1: 'pit', 2: 'crack'}",
            "imgsz": "[480, 640]",
            "stride": "32",
            "task": "detect",
            "end2end": "True",
            "conf": "0.25",
            "author": "Ultralytics",
        },
        "m.onnx",
    )
    assert meta.names == ("scratch", "pit", "crack")
    assert meta.imgsz == (480, 640)
    assert (meta.stride, meta.task, meta.end2end, meta.conf) == (32, "detect", True, 0.25)
    assert meta.raw["author"] == "Ultralytics"


@pytest.mark.parametrize(
    ("props", "field", "value"),
    [
        ({"names": "['a', 'b']"}, "names", ("a", "b")),
        ({"names": "{1: 'b', 0: 'a'}"}, "names", ("a", "b")),
        ({"imgsz": "640"}, "imgsz", (640, 640)),
        ({"end2end": "False"}, "end2end", False),
        ({"stride": "[8, 16, 32]"}, "stride", 32),
        ({"conf": "high"}, "conf", None),
        ({}, "names", None),
    ],
)
def test_metadata_fields(props, field, value):
    assert getattr(parse_metadata(props, "m.onnx"), field) == value


@pytest.mark.parametrize(
    "names",
    [
        "__import__('os').system('echo pwned')",  # literal_eval, never eval
        "{0: 'a', 2: 'c'}",  # ids must be 0..n-1
        "'just a string'",
        "{0: 'a'",
    ],
)
def test_bad_names_are_refused_with_the_field_named(names):
    with pytest.raises(StationError, match=r"m\.onnx: metadata 'names'"):
        parse_metadata({"names": names}, "m.onnx")


def test_bad_imgsz_is_refused():
    with pytest.raises(StationError, match="imgsz"):
        parse_metadata({"imgsz": "[1, 2, 3]"}, "m.onnx")


def test_labels_file_one_name_per_line(tmp_path):
    p = tmp_path / "labels.txt"
    p.write_text("scratch\n  pit \ncrack\n\n\n", encoding="utf-8")
    assert read_labels(p) == ("scratch", "pit", "crack")


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("a\n\nb\n", "line 2 is blank"), ("a\nb\na\n", "appears twice")],
)
def test_bad_labels_files(tmp_path, text, message):
    p = tmp_path / "labels.txt"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(StationError, match=message):
        read_labels(p)


def test_missing_labels_file(tmp_path):
    with pytest.raises(StationError, match="labels file not found"):
        read_labels(tmp_path / "nope.txt")
