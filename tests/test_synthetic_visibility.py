"""What the frames show of the labels: the faint ones and the AUROC ceiling they imply."""

from __future__ import annotations

import pytest

from station.synthetic.visibility import FAINT_SIGNAL, ClassVisibility, label_signals, main


def test_ceiling_counts_a_part_faint_only_when_all_its_labels_are() -> None:
    v = ClassVisibility("scratch", {1: [20.0], 2: [20.0, 150.0], 3: [300.0], 4: [59.9]})
    assert v.faint_parts(FAINT_SIGNAL) == [1, 4]
    assert v.auroc_ceiling(FAINT_SIGNAL) == pytest.approx(1 - 0.5 * 2 / 4)
    assert v.weakest[:2] == [20.0, 20.0]
    assert ClassVisibility("pit", {7: [210.0]}).auroc_ceiling() == 1.0


def test_held_out_sample_has_three_scratches_the_frame_does_not_show() -> None:
    """The figure the model card and docs/models.md quote (seed 1001, 400 parts)."""
    classes = {v.name: v for v in label_signals(1001, 400)}
    assert set(classes) == {"scratch", "pit", "stain", "crack"}  # missing holes: geometry
    scratch = classes["scratch"]
    assert scratch.faint_parts() == [23, 138, 378]
    assert len(scratch.signals) == 39
    assert round(scratch.auroc_ceiling(), 3) == 0.962
    assert all(not v.faint_parts() for name, v in classes.items() if name != "scratch")


def test_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--parts", "40", "--seed", "1001"]) == 0
    out = capsys.readouterr().out
    assert "| class | labels | weakest signals |" in out
    assert "| scratch |" in out
