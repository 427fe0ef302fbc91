"""`station model-info` and `station detect`: outputs, threshold semantics, every bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_graphs import (
    constant_output_model,
    end2end_output,
    ultralytics_metadata,
    write_yolov8_model,
)

from station.cli import main
from station.detectors import sha256_file

NAMES = ("scratch", "pit", "crack")
ROWS = [
    (0, 0.9, (10, 18, 30, 38)),  # scratch, frame box (10, 10, 30, 30) in a 64x48 image
    (1, 0.7, (40, 18, 50, 28)),  # pit at exactly 0.7 in float32
    (2, 0.2, (0, 8, 64, 56)),  # crack below the default 0.25
]


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_yolov8_model(tmp_path / "model.onnx", ROWS, NAMES)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "part.png"
    cv2.imwrite(str(path), np.zeros((48, 64, 3), np.uint8))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- model-info ---------------------------------------------------------------------------


def test_model_info_json(capsys, model):
    code, out, _ = run(capsys, "model-info", str(model), "--json")
    assert code == 0
    info = json.loads(out)
    assert info["family"] == "yolov8"
    assert info["class_names"] == list(NAMES)
    assert info["input_name"] == "images"
    assert info["input_shape"] == [1, 3, 64, 64]
    assert info["input_layout"] == "NCHW"
    assert info["output_shape"] == [1, 7, 64]
    assert info["sha256"] == sha256_file(model)
    assert info["scores_rank"] is True
    assert info["confidence_floor"] is None


def test_model_info_text(capsys, model):
    code, out, _ = run(capsys, "model-info", str(model))
    assert code == 0
    assert "family:           yolov8" in out
    assert "0 scratch, 1 pit, 2 crack" in out
    assert sha256_file(model) in out
    assert "scores rank:      yes" in out


def test_model_info_end2end_floor(capsys, tmp_path):
    meta = ultralytics_metadata(NAMES, end2end="True", conf="0.3")
    path = constant_output_model(tmp_path / "e.onnx", end2end_output([]), metadata=meta)
    info = json.loads(run(capsys, "model-info", str(path), "--json")[1])
    assert (info["family"], info["confidence_floor"]) == ("end2end", 0.3)
    meta.pop("conf")
    path = constant_output_model(tmp_path / "u.onnx", end2end_output([]), metadata=meta)
    assert "confidence floor: unknown" in run(capsys, "model-info", str(path))[1]


def test_model_info_heuristic_cannot_rank(capsys):
    code, out, _ = run(capsys, "model-info", "heuristic:dark-blobs", "--json")
    assert code == 0
    assert json.loads(out)["scores_rank"] is False


def test_model_info_labels_and_family_override(capsys, tmp_path):
    path = write_yolov8_model(tmp_path / "m.onnx", [], NAMES, with_metadata=False)
    labels = tmp_path / "names.txt"
    labels.write_text("a\nb\nc\n", encoding="utf-8")
    info = json.loads(
        run(
            capsys, "model-info", str(path), "--labels", str(labels), "--family", "yolo11", "--json"
        )[1]
    )
    assert info["class_names"] == ["a", "b", "c"]
    assert "family yolov8 chosen by override" in info["notes"]


# ---- detect -------------------------------------------------------------------------------


def test_detect_json_default_threshold(capsys, model, image):
    code, out, _ = run(capsys, "detect", str(model), str(image), "--json")
    assert code == 0
    assert json.loads(out) == [
        {
            "image": str(image),
            "detections": [
                {
                    "class_name": "scratch",
                    "class_id": 0,
                    "confidence": float(np.float32(0.9)),
                    "box_xyxy": [10.0, 10.0, 30.0, 30.0],
                },
                {
                    "class_name": "pit",
                    "class_id": 1,
                    "confidence": float(np.float32(0.7)),
                    "box_xyxy": [40.0, 10.0, 50.0, 20.0],
                },
            ],
        }
    ]


def classes_kept(out: str) -> list[list[str]]:
    return [[d["class_name"] for d in r["detections"]] for r in json.loads(out)]


@pytest.mark.parametrize(
    ("flags", "kept"),
    [
        ([], ["scratch", "pit"]),
        (["--thresholds", '{"pit": 0.7}'], ["scratch", "pit"]),  # float32 tie: kept
        (["--thresholds", '{"pit": 0.70001}'], ["scratch"]),
        (["--thresholds", '{"crack": 0.2}'], ["scratch", "pit", "crack"]),
        (["--default-threshold", "0.95"], []),
        (
            ["--default-threshold", "0.95", "--thresholds", '{"pit": 0.5}'],
            ["pit"],
        ),  # unlisted: default
        (["--default-threshold", "0"], ["scratch", "pit", "crack"]),
        (
            ["--thresholds", '{"class_thresholds": {"scratch": 1.0}, "default_threshold": 0.1}'],
            ["pit", "crack"],
        ),
    ],
)
def test_detect_thresholds(capsys, model, image, flags, kept):
    code, out, _ = run(capsys, "detect", str(model), str(image), "--json", *flags)
    assert code == 0
    assert classes_kept(out) == [kept]


def test_detect_thresholds_from_a_file(capsys, tmp_path, model, image):
    path = tmp_path / "t.json"
    path.write_text('{"scratch": 0.95}', encoding="utf-8")
    code, out, _ = run(
        capsys, "detect", str(model), str(image), "--thresholds", str(path), "--json"
    )
    assert code == 0
    assert classes_kept(out) == [["pit"]]


def test_detect_several_images_and_text_output(capsys, tmp_path, model, image):
    other = tmp_path / "other.jpg"
    cv2.imwrite(str(other), np.zeros((24, 32), np.uint8))  # grayscale, half size
    code, out, _ = run(capsys, "detect", str(model), str(image), str(other), "--json")
    result = json.loads(out)
    assert [r["image"] for r in result] == [str(image), str(other)]
    assert result[1]["detections"][0]["box_xyxy"] == [5.0, 5.0, 15.0, 15.0]
    code, out, _ = run(capsys, "detect", str(model), str(image))
    assert code == 0
    assert f"{image}: 2 kept of 3 candidates" in out
    assert "scratch" in out and "0.9000" in out


# ---- bad input: exit 2, one line, no traceback --------------------------------------------


def bad(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_missing_model(capsys, tmp_path, image):
    msg = bad(capsys, "detect", str(tmp_path / "absent.onnx"), str(image))
    assert msg == f"station detect: error: {tmp_path / 'absent.onnx'}: model file not found"
    assert "model file not found" in bad(capsys, "model-info", str(tmp_path / "absent.onnx"))


def test_not_an_onnx_file(capsys, tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\x01 definitely not protobuf \xff")
    assert "not an ONNX model" in bad(capsys, "model-info", str(junk))


def test_output_of_no_family(capsys, tmp_path):
    path = constant_output_model(tmp_path / "m.onnx", np.zeros((1, 2, 3, 4), np.float32))
    assert "matches no known family" in bad(capsys, "model-info", str(path))


def test_dynamic_input_without_size(capsys, tmp_path):
    path = constant_output_model(
        tmp_path / "m.onnx", np.zeros((1, 7, 64), np.float32), input_shape=(1, 3, "h", "w")
    )
    assert "dynamic size" in bad(capsys, "model-info", str(path))


def test_unreadable_image(capsys, tmp_path, model):
    junk = tmp_path / "junk.png"
    junk.write_text("not an image", encoding="utf-8")
    msg = bad(capsys, "detect", str(model), str(junk))
    assert "not a PNG, JPEG, BMP, TIFF or WebP image" in msg
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert "not an image" in bad(capsys, "detect", str(model), str(empty))
    assert "image file not found" in bad(capsys, "detect", str(model), str(tmp_path / "no.png"))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--thresholds", '{"crak": 0.5}'],
            "'crak' not a class of the model; the model's classes are: scratch, pit, crack",
        ),
        (["--thresholds", '{"pit": 1.5}'], "outside [0, 1]"),
        (["--thresholds", '{"pit": "high"}'], "expected a number in [0, 1]"),
        (["--thresholds", '{"pit": 0.5'], "not valid JSON"),
        (["--thresholds", "[0.5]"], "neither a JSON object nor a file"),
        (["--default-threshold", "-0.1"], "outside [0, 1]"),
        (["--default-threshold", "nan"], "NaN"),
        (["--default-threshold", "abc"], "--default-threshold: expected a number"),
    ],
)
def test_bad_thresholds(capsys, model, image, flags, message):
    assert message in bad(capsys, "detect", str(model), str(image), *flags)


def test_missing_labels_file(capsys, tmp_path, model):
    assert "labels file not found" in bad(
        capsys, "model-info", str(model), "--labels", str(tmp_path / "x")
    )


def test_real_process_prints_one_line_and_no_traceback(tmp_path, image):
    """The installed entry point, in a fresh interpreter, exactly as a user runs it."""
    junk = tmp_path / "junk.onnx"
    junk.write_text("hello", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "station", "detect", str(junk), str(image)],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == f"station detect: error: {junk}: not an ONNX model (protobuf parsing failed)"
    )
    assert "Traceback" not in proc.stderr


def test_model_info_reports_the_session_options(capsys, model):
    """Threads from this machine (affinity-aware) shared by the live line's lanes, spinning per
    mode, in text and JSON."""
    import os

    cpus = len(os.sched_getaffinity(0))
    lanes = min(2, cpus)
    per_lane = cpus // lanes
    shared = f" shared by {lanes} lanes" if lanes > 1 else ""
    window = json.loads(run(capsys, "model-info", str(model), "--json")[1])["session_options"]
    headless = json.loads(run(capsys, "model-info", str(model), "--json", "--headless")[1])
    from station.detectors.session_options import SPIN_BY_MODE, RunMode

    assert window == {
        "intra_op_threads": per_lane,
        "inter_op_threads": 1,
        "allow_spinning": SPIN_BY_MODE[RunMode.WINDOW],
        "mode": "window",
        "threads_from": f"{cpus} usable CPU{'' if cpus == 1 else 's'}{shared}",
        "lanes": lanes,
    }
    assert headless["session_options"]["mode"] == "headless"
    assert headless["session_options"]["allow_spinning"] is SPIN_BY_MODE[RunMode.HEADLESS]
    text = run(capsys, "model-info", str(model))[1]
    assert f"session:          {per_lane} intra-op threads" in text
    assert f"{lanes} part{'s' if lanes > 1 else ''} inferred at once" in text


def test_session_options_follow_affinity_and_reach_onnxruntime(model):
    """A process pinned to one CPU gets one intra-op thread; a recipe count wins."""
    import subprocess
    import sys

    code = (
        "import os; os.sched_setaffinity(0, {0})\n"
        "from station.detectors.session_options import SessionOptions, RunMode\n"
        "o = SessionOptions.choose(RunMode.HEADLESS)\n"
        "r = SessionOptions.choose(RunMode.WINDOW, 3)\n"
        "print(o.intra_op_threads, o.threads_from, '|', r.intra_op_threads, r.threads_from)\n"
        "print(r.to_ort().intra_op_num_threads, r.to_ort().inter_op_num_threads)\n"
        "os.sched_setaffinity(0, set(range(os.cpu_count())))\n"
        "live = SessionOptions.choose(RunMode.HEADLESS, lanes=None)\n"
        "print(SessionOptions.choose(RunMode.HEADLESS, None, 1).lanes, live.lanes, "
        "live.intra_op_threads * live.lanes <= max(os.cpu_count(), 1))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    cpus = os.cpu_count() or 1
    assert out.stdout.splitlines() == [
        "1 1 usable CPU | 3 recipe [model] intra_op_threads",
        "3 1",
        f"1 {min(2, cpus)} True",
    ]
