"""Fail closed on every bad input (issue 10): one line on stderr naming the file or field and
what to do, exit code 2, and nothing on disk changes. docs/bad-input.md lists them all."""

from __future__ import annotations

import resource
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_graphs import channel_mean_model

from station.cli import main
from station.services.recipe_file import load_recipe

NAMES = repr({0: "red", 1: "green", 2: "blue"})


def _png(path: Path, h: int = 16, w: int = 16, red: int = 200) -> Path:
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (100, 100, red)
    cv2.imwrite(str(path), img)
    return path


def _huge_png(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A real PNG of width x height black pixels: 400 megapixels in a few hundred KB."""
    z = zlib.compressobj(9)
    row = b"\0" * (1 + width)  # a filter byte, then one grey byte a pixel
    raw = b"".join(z.compress(row) for _ in range(height)) + z.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    )
    return path


def _sample(root: Path, labels: bool = True) -> Path:
    """Four parts, two labeled `red` (defective)."""
    (root / "images").mkdir(parents=True)
    if labels:
        (root / "labels").mkdir()
    for i, r in enumerate((230, 200, 60, 90)):
        _png(root / "images" / f"{i}.png", red=r)
        if labels:
            (root / "labels" / f"{i}.txt").write_text("0 0.5 0.5 0.2 0.2\n" if i < 2 else "")
    (root / "data.yaml").write_text("names: [red, green, blue]\n")
    return root


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"", p.stat().st_mode)
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return channel_mean_model(tmp_path / "m.onnx", names=NAMES)


RECIPE = """\
[product]
name = "widget"

[model]
path = "m.onnx"

[thresholds]
default = 0.5
{thresholds}
[camera]
kind = "synthetic"
{camera}
[shifts]
zone = "UTC"
{shifts}
"""


def _recipe(tmp_path: Path, thresholds: str = "", camera: str = "", shifts: str = "") -> Path:
    path = tmp_path / "recipe.toml"
    path.write_text(RECIPE.format(thresholds=thresholds, camera=camera, shifts=shifts))
    return path


def refused(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> str:
    """Runs the command; asserts exit 2, one line on stderr, nothing printed, nothing changed."""
    before = _snapshot(root)
    code = main(list(argv))
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, err
    assert out == "" and len(lines) == 1, err
    assert _snapshot(root) == before
    return lines[0]


# -- recipes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--headless", "--parts", "0"],
        ["run", "--headless", "--duration", "nan"],
        ["report", "--no-such-flag"],
    ],
)
def test_a_bad_flag_is_refused_in_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    _, err = capsys.readouterr()
    assert stop.value.code == 2
    assert len(err.strip().splitlines()) == 1 and "usage" not in err
    assert err.startswith(f"station {argv[0]}: error: ")  # named by the command given it


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"thresholds": "reject_classes = []\n"},
            "thresholds.reject_classes: expected at least one class that rejects a part",
        ),
        ({"shifts": 'starts = []\nnames = ["a"]\n'}, "shifts.starts: expected at least one"),
        ({"shifts": "starts = []\nnames = []\n"}, "shifts.starts: expected at least one"),
        ({"shifts": "starts = []\n"}, "shifts.starts: expected at least one"),
        (
            {"shifts": 'starts = ["06:00", "18:00"]\nnames = ["day", ""]\n'},
            "shifts.names: expected non-empty names",
        ),
        (
            {"thresholds": "[thresholds.classes]\nred = 0.1\nred = 0.99\n"},
            "a key or table is given twice (line",
        ),
        ({"camera": "max_image_pixels = 0\n"}, "camera.max_image_pixels: expected a whole"),
        ({"camera": 'max_image_pixels = "lots"\n'}, "camera.max_image_pixels: expected a whole"),
    ],
    ids=[
        "empty-reject-classes",
        "empty-starts",
        "empty-starts-and-names",
        "empty-starts-no-names",
        "empty-shift-name",
        "duplicate-toml-key",
        "zero-pixel-limit",
        "text-pixel-limit",
    ],
)
def test_a_bad_recipe_is_refused_naming_the_file_and_field(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    model: Path,
    fields: dict[str, str],
    expected: str,
) -> None:
    recipe = _recipe(tmp_path, **fields)
    data = _sample(tmp_path / "s")
    msg = refused(
        capsys, tmp_path, "evaluate", "--recipe", str(recipe), "--data", str(data), "--no-cache"
    )
    assert msg.startswith(f"station evaluate: error: {recipe}: ")
    assert expected in msg


@pytest.mark.parametrize(
    ("written", "empty", "field"),
    [
        ('kind = "synthetic"', 'kind = ""', "camera.kind"),
        ('zone = "UTC"', 'zone = " "', "shifts.zone"),
        ('path = "m.onnx"', 'path = "m.onnx"\nfamily = ""', "model.family"),
    ],
)
def test_an_empty_string_is_refused_not_read_as_the_default(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    model: Path,
    written: str,
    empty: str,
    field: str,
) -> None:
    recipe = _recipe(tmp_path)
    recipe.write_text(recipe.read_text().replace(written, empty))
    data = _sample(tmp_path / "s")
    msg = refused(
        capsys, tmp_path, "evaluate", "--recipe", str(recipe), "--data", str(data), "--no-cache"
    )
    assert msg == (
        f"station evaluate: error: {recipe}: {field}: expected a non-empty string (leave the "
        f"key out for the default), got {empty.split('= ')[-1].strip(chr(34))!r}"
    )


def test_a_recipe_with_a_byte_order_mark_is_read(tmp_path: Path, model: Path) -> None:
    recipe = _recipe(tmp_path)
    recipe.write_bytes(b"\xef\xbb\xbf" + recipe.read_bytes())
    assert load_recipe(recipe).product == "widget"


# -- flags -------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["", ",", " , "])
def test_an_empty_set_of_rejecting_classes_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, flag: str
) -> None:
    data = _sample(tmp_path / "s")
    argv = ["evaluate", "--model", str(model), "--data", str(data), "--no-cache"]
    msg = refused(capsys, tmp_path, *argv, "--reject-classes", flag)
    assert msg.startswith(
        "station evaluate: error: --reject-classes: expected at least one class that rejects"
    )


@pytest.mark.parametrize(
    "thresholds",
    [
        '{"red": 0.1, "red": 0.99}',
        '{"class_thresholds": {"red": 0.1, "red": 0.99}}',
        '{"class_thresholds": {"red": 0.1}, "default_threshold": 0.2, "default_threshold": 0.9}',
    ],
)
@pytest.mark.parametrize("command", ["detect", "evaluate"])
def test_a_threshold_given_twice_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, thresholds: str, command: str
) -> None:
    data = _sample(tmp_path / "s")
    where = ["--data", str(data), "--no-cache"] if command == "evaluate" else []
    target = ["--model", str(model)] if command == "evaluate" else [str(model), str(data)]
    if command == "detect":
        target = [str(model), str(data / "images" / "0.png")]
    msg = refused(capsys, tmp_path, command, *target, *where, "--thresholds", thresholds)
    assert "is given twice; keep one value" in msg and msg.count("--thresholds") == 1


def test_a_thresholds_file_with_a_key_twice_is_refused_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path
) -> None:
    file = tmp_path / "t.json"
    file.write_text('{\n  "red": 0.1,\n  "green": 0.5,\n  "red": 0.99\n}\n')
    image = _png(tmp_path / "a.png")
    msg = refused(capsys, tmp_path, "detect", str(model), str(image), "--thresholds", str(file))
    assert msg == f"station detect: error: {file}: 'red' is given twice; keep one value"


# -- labeled samples ---------------------------------------------------------------------------


def _evaluate(model: Path, data: Path) -> list[str]:
    return ["evaluate", "--model", str(model), "--data", str(data), "--no-cache"]


def test_a_sample_without_labels_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path
) -> None:
    data = _sample(tmp_path / "s", labels=False)
    msg = refused(capsys, tmp_path, *_evaluate(model, data))
    assert msg.startswith(f"station evaluate: error: {data}: no labels/ folder")
    assert "for a sample of good parts only, give each image an empty label file" in msg


def test_a_sample_whose_labels_match_no_image_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path
) -> None:
    data = _sample(tmp_path / "s")
    for lab in (data / "labels").iterdir():
        lab.rename(lab.with_name("part-" + lab.name))
    msg = refused(capsys, tmp_path, *_evaluate(model, data))
    assert msg.startswith(f"station evaluate: error: {data / 'labels'}: no label file matches")


def test_label_files_without_an_image_are_named_in_a_warning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path
) -> None:
    data = _sample(tmp_path / "s")
    (data / "labels" / "gone.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    assert main(_evaluate(model, data)) == 0
    err = capsys.readouterr().err
    assert f"warning: 1 label files have no image and were not read: {data}/labels/gone.txt" in err


def test_a_good_parts_only_sample_with_empty_label_files_is_evaluated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path
) -> None:
    data = _sample(tmp_path / "s")
    for lab in (data / "labels").iterdir():
        lab.write_text("")
    assert main(_evaluate(model, data)) == 0
    assert "4 parts: 0 defective, 4 good" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("0 1.5 0.5 0.2 0.2", "cx = 1.5: expected a fraction of the image in [0, 1]"),
        ("0 0.5 -0.1 0.2 0.2", "cy = -0.1: expected a fraction"),
        ("0 0.5 0.5 nan 0.2", "w = nan: expected a fraction"),
        ("0 0.5 0.5 0.2 inf", "h = inf: expected a fraction"),
        ("0 0.5 0.5 0.2", "expected `class cx cy w h`"),
        ("0 0.5 0.5 0.2 x", "expected `class cx cy w h` with numbers"),
    ],
)
def test_a_label_box_outside_the_image_or_nan_is_refused_with_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, line: str, expected: str
) -> None:
    data = _sample(tmp_path / "s")
    (data / "labels" / "1.txt").write_text("0 0.5 0.5 0.2 0.2\n" + line + "\n")
    msg = refused(capsys, tmp_path, *_evaluate(model, data))
    assert msg.startswith(f"station evaluate: error: {data / 'labels' / '1.txt'}:2: ")
    assert expected in msg


# -- images ------------------------------------------------------------------------------------


def test_an_image_above_the_pixel_limit_is_refused_before_decoding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path
) -> None:
    huge = _huge_png(tmp_path / "huge.png")
    assert huge.stat().st_size < 2_000_000
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    msg = refused(capsys, tmp_path, "detect", str(model), str(huge))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_kb) / 1024
    assert grown_mb < 300  # decoding would take 1.2 GB (400 megapixels, BGR)
    assert msg == (
        f"station detect: error: {huge}: 20000 x 20000 = 400,000,000 pixels is above the limit "
        "of 50,000,000; downscale it, or raise [camera] max_image_pixels in the recipe"
    )


def test_the_pixel_limit_is_a_flag_and_a_recipe_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path
) -> None:
    data = _sample(tmp_path / "s")  # 16 x 16 = 256 pixels a part
    msg = refused(capsys, tmp_path, *_evaluate(model, data), "--max-image-pixels", "255")
    assert f"{data / 'images' / '0.png'}: 16 x 16 = 256 pixels is above the limit of 255" in msg
    recipe = _recipe(tmp_path, camera="max_image_pixels = 255\n")
    argv = ["evaluate", "--recipe", str(recipe), "--data", str(data), "--no-cache"]
    assert "is above the limit of 255" in refused(capsys, tmp_path, *argv)
    assert main([*_evaluate(model, data), "--max-image-pixels", "256"]) == 0


def test_a_truncated_png_is_one_line_of_ours_and_no_decoder_warning(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, model: Path
) -> None:
    image = _png(tmp_path / "a.png", 64, 64)
    image.write_bytes(image.read_bytes()[:-40])
    code = main(["detect", str(model), str(image)])
    out, err = capfd.readouterr()  # file-descriptor level: libpng writes there
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"station detect: error: {image}: truncated PNG (it ends before its IEND chunk)"
    ]


def test_a_bad_write_recipe_path_is_refused_before_the_sample_is_scored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path
) -> None:
    data = _sample(tmp_path / "s")
    out = tmp_path / "missing" / "r.toml"
    argv = [*_evaluate(model, data), "--cost-escape", "10", "--cost-scrap", "1"]
    msg = refused(capsys, tmp_path, *argv, "--write-recipe", str(out))
    assert msg == (
        f"station evaluate: error: --write-recipe: {out}: folder {out.parent} does not exist"
    )
    msg = refused(capsys, tmp_path, *argv, "--write-recipe", str(tmp_path))
    assert msg.startswith(f"station evaluate: error: --write-recipe: {tmp_path} is a folder")
