"""The synthetic line: deterministic parts, exact boxes, and the YOLO sample writer."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from station.cli import main
from station.synthetic.dataset import write_yolo_sample
from station.synthetic.line import CLASS_NAMES, MISSING_HOLE, PartGenerator, SyntheticPart


@pytest.fixture(scope="module")
def parts() -> list[SyntheticPart]:
    gen = PartGenerator(7)
    return [gen.part(i) for i in range(160)]


def test_class_names_are_the_documented_five() -> None:
    assert CLASS_NAMES == ("scratch", "pit", "stain", "crack", "missing_hole")


def test_part_is_a_function_of_seed_and_index() -> None:
    a, b = PartGenerator(3), PartGenerator(3)
    for i in (0, 5, 17):
        pa, pb = a.part(i), b.part(i)
        assert np.array_equal(pa.image, pb.image)
        assert np.array_equal(pa.boxes_xyxy, pb.boxes_xyxy)
        assert np.array_equal(pa.class_ids, pb.class_ids)
    # Order of requests does not matter, and another seed or index gives another part.
    assert np.array_equal(PartGenerator(3).part(17).image, a.part(17).image)
    assert not np.array_equal(PartGenerator(4).part(5).image, a.part(5).image)
    assert not np.array_equal(a.part(6).image, a.part(5).image)


def test_part_types_and_shapes(parts: list[SyntheticPart]) -> None:
    for p in parts[:10]:
        assert p.image.shape == (480, 640, 3) and p.image.dtype == np.uint8
        assert p.boxes_xyxy.dtype == np.float32 and p.boxes_xyxy.shape == (len(p.class_ids), 4)
        assert p.class_ids.dtype == np.int64
        assert p.defective == (len(p.class_ids) > 0)
    small = PartGenerator(1, width=320, height=240).part(0)
    assert small.image.shape == (240, 320, 3)


def test_boxes_lie_inside_the_frame_and_are_not_empty(parts: list[SyntheticPart]) -> None:
    for p in parts:
        b = p.boxes_xyxy
        assert np.all(b[:, [0, 2]] >= 0) and np.all(b[:, [0, 2]] <= 640)
        assert np.all(b[:, [1, 3]] >= 0) and np.all(b[:, [1, 3]] <= 480)
        assert np.all(b[:, 2] - b[:, 0] >= 2) and np.all(b[:, 3] - b[:, 1] >= 2)
        assert np.all((p.class_ids >= 0) & (p.class_ids < len(CLASS_NAMES)))


def test_defect_rate_and_every_class_occurs(parts: list[SyntheticPart]) -> None:
    rate = np.mean([p.defective for p in parts])
    assert 0.22 <= rate <= 0.48
    seen = set(np.concatenate([p.class_ids for p in parts]).tolist())
    assert seen == set(range(len(CLASS_NAMES)))
    never, always = PartGenerator(2, defect_rate=0.0), PartGenerator(2, defect_rate=1.0)
    assert not any(never.part(i).defective for i in range(20))
    assert all(always.part(i).defective for i in range(20))


def test_boxes_sit_on_what_was_drawn(parts: list[SyntheticPart]) -> None:
    """A drawn defect stands out from its surroundings more inside its box than in a ring
    around it; a missing hole's box shows bare metal where a dark hole would be."""
    standout = []
    for p in parts:
        gray = cv2.cvtColor(p.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
        detail = np.abs(gray - cv2.medianBlur(p.image, 9)[:, :, 1].astype(np.float32))
        for (x1, y1, x2, y2), c in zip(p.boxes_xyxy.astype(int), p.class_ids, strict=True):
            if c == MISSING_HOLE:
                cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
                assert gray[cy - 2 : cy + 3, cx - 2 : cx + 3].mean() > 100  # metal, not belt
                continue
            inside = detail[y1:y2, x1:x2].max()
            ya, xa = max(y1 - 12, 0), max(x1 - 12, 0)
            ring = detail[ya : y2 + 12, xa : x2 + 12].copy()
            ring[y1 - ya : y2 - ya, x1 - xa : x2 - xa] = 0
            standout.append(inside > np.quantile(ring, 0.95))
    assert len(standout) > 30
    assert np.mean(standout) > 0.75


def test_zero_strength_twin_changes_only_the_drawn_defects(parts: list[SyntheticPart]) -> None:
    """The twin keeps the part, its labels and every pixel outside the defects' boxes; a
    good part's twin is the part itself."""
    gen = PartGenerator(7)
    good = next(p for p in parts if not p.defective)
    assert np.array_equal(gen.part(good.index, strength=0.0).image, good.image)
    drawn = [p for p in parts if p.defective and MISSING_HOLE not in p.class_ids][:8]
    for p in drawn:
        twin = gen.part(p.index, strength=0.0)
        assert np.array_equal(twin.boxes_xyxy, p.boxes_xyxy)
        assert np.array_equal(twin.class_ids, p.class_ids)
        changed = np.abs(p.image.astype(np.int16) - twin.image).max(axis=2) > 0
        assert changed.any()
        inside = np.zeros_like(changed)
        for x1, y1, x2, y2 in np.round(p.boxes_xyxy).astype(int):
            inside[max(y1 - 8, 0) : y2 + 8, max(x1 - 8, 0) : x2 + 8] = True
        assert not (changed & ~inside).any()
    assert np.array_equal(gen.part(drawn[0].index, strength=1.0).image, drawn[0].image)


def test_sample_writer_layout_and_label_round_trip(tmp_path: Path) -> None:
    data_yaml = write_yolo_sample(tmp_path / "s", n_parts=24, seed=11)
    assert data_yaml == tmp_path / "s" / "data.yaml"
    text = data_yaml.read_text()
    assert "nc: 5" in text
    for i, name in enumerate(CLASS_NAMES):
        assert f"  {i}: {name}\n" in text
    images = sorted((tmp_path / "s" / "images").glob("*.png"))
    labels = sorted((tmp_path / "s" / "labels").glob("*.txt"))
    assert [f.stem for f in images] == [f.stem for f in labels] == [f"{i:05d}" for i in range(24)]
    gen = PartGenerator(11)
    for i, (img_file, lab_file) in enumerate(zip(images, labels, strict=True)):
        part = gen.part(i)
        assert np.array_equal(cv2.imread(str(img_file)), part.image)  # PNG is lossless
        rows = [line.split() for line in lab_file.read_text().splitlines()]
        if not part.defective:
            assert lab_file.read_text() == ""
            continue
        assert len(rows) == len(part.class_ids)
        got = np.array([[float(v) for v in r[1:]] for r in rows])
        assert [int(r[0]) for r in rows] == part.class_ids.tolist()
        assert np.all((got >= 0) & (got <= 1))
        cx, cy, w, h = got.T * np.array([[640], [480], [640], [480]])
        back = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        np.testing.assert_allclose(back, part.boxes_xyxy, atol=1e-3)


def test_sample_writer_is_deterministic(tmp_path: Path) -> None:
    write_yolo_sample(tmp_path / "a", n_parts=6, seed=5)
    write_yolo_sample(tmp_path / "b", n_parts=6, seed=5)
    for sub in ("images", "labels"):
        for fa in sorted((tmp_path / "a" / sub).iterdir()):
            assert fa.read_bytes() == (tmp_path / "b" / sub / fa.name).read_bytes()


def test_station_sample_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", str(tmp_path / "out"), "--parts", "8", "--seed", "3"]) == 0
    assert "wrote 8 parts" in capsys.readouterr().out
    assert len(list((tmp_path / "out" / "labels").glob("*.txt"))) == 8
    assert (tmp_path / "out" / "data.yaml").is_file()


def test_station_sample_rejects_a_bad_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sample", str(tmp_path / "out"), "--parts", "0"]) == 2
    err = capsys.readouterr().err
    assert "--parts" in err and "Traceback" not in err


def test_generator_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="too small"):
        PartGenerator(0, width=10, height=10)
    with pytest.raises(ValueError, match="defect_rate"):
        PartGenerator(0, defect_rate=1.5)
