"""Contracts checked end to end by QA: a user error is one line on stderr, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_graphs import channel_mean_model

from station.cli import main


def _sample(root: Path) -> Path:
    """Four flat-colour parts, two labeled `red` (defective): enough for a recommendation."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for i, r in enumerate((230, 200, 60, 90)):
        img = np.zeros((16, 16, 3), np.uint8)
        img[:] = (100, 100, r)
        cv2.imwrite(str(root / "images" / f"{i}.png"), img)
        (root / "labels" / f"{i}.txt").write_text("0 0.5 0.5 0.2 0.2\n" if i < 2 else "")
    (root / "data.yaml").write_text("names: [red, green, blue]\n")
    return root


def test_write_recipe_where_no_file_can_be_created_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = channel_mean_model(tmp_path / "m.onnx", names=repr({0: "red", 1: "green", 2: "blue"}))
    # The folder exists, but no temporary file can be created beside this name (too long).
    out = tmp_path / ("r" * 250 + ".toml")
    code = main(
        [
            "evaluate",
            "--model",
            str(model),
            "--data",
            str(_sample(tmp_path / "s")),
            "--cost-escape",
            "10",
            "--cost-scrap",
            "1",
            "--no-cache",
            "--write-recipe",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.startswith("station evaluate: error:")]
    assert len(lines) == 1 and "cannot write the recipe" in lines[0]
    assert "Traceback" not in err
    assert not out.exists()
