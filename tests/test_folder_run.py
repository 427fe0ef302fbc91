"""A folder camera that fails closed, end to end: `station run --headless` on the shipped model.

Issue 10 #2: a folder whose files are not images wrote thousands of NO DECISION rows a
second, forever; a file too large to decode took gigabytes. Now the first is refused at start
(exit 2, nothing inspected) and each bad file is one NO DECISION part, then left out.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import cv2
import numpy as np
from test_bad_input import _huge_png
from test_headless import station

from tests.fast_line_support import line_recipe


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


def test_a_folder_of_files_that_are_not_images_is_refused_at_start(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(50):
        (frames / f"f{i:02d}.png").write_text("a text file, not an image")
    db = tmp_path / "log.sqlite3"
    camera = f'kind = "folder"\npath = "{frames}"'
    done = station("--recipe", str(line_recipe(tmp_path, camera)), "--db", str(db), "--json")
    assert done.returncode == 2
    assert json.loads(done.stdout)["inspected"] == 0
    assert "none of its 50 image files can be read" in done.stderr.splitlines()[-1]
    assert _rows(db, "SELECT COUNT(*) FROM inspections") == [(0,)]


def test_bad_files_in_a_looping_folder_are_one_no_decision_each(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        cv2.imwrite(str(frames / f"f{i}.png"), rng.integers(0, 255, (120, 160, 3), np.uint8))
    (frames / "f3.png").write_bytes(b"not a png")
    _huge_png(frames / "f4.png")  # 400 megapixels: refused from its header
    db = tmp_path / "log.sqlite3"
    camera = f'kind = "folder"\npath = "{frames}"\nloop = true'
    args = ["--recipe", str(line_recipe(tmp_path, camera)), "--db", str(db), "--parts", "30"]
    done = station(*args, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["inspected"] == 30 and summary["no_decision"] == 2
    whys = [
        str(w) for (w,) in _rows(db, "SELECT why FROM inspections WHERE outcome = 'NO DECISION'")
    ]
    assert len(whys) == 2
    assert any("f3.png: not a PNG, JPEG, BMP, TIFF or WebP image" in w for w in whys)
    assert any("f4.png: 20000 x 20000 = 400,000,000 pixels is above the limit" in w for w in whys)
