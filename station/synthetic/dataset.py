"""Write parts of the synthetic line as a labeled sample in the YOLO folder layout.

`images/NNNNN.png`, `labels/NNNNN.txt` (one `class cx cy w h` line per defect, normalised
to [0, 1]; an empty file for a good part) and `data.yaml` with the class names. PNG is
lossless, so the files hold exactly the pixels the generator made.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from station.core.errors import StationError
from station.synthetic.line import CLASS_NAMES, PartGenerator

DEFAULT_SAMPLE_SEED = 1001
"""Seed of the held-out sample: the model card is measured on it and the tuning view uses it.
The model was trained on other seeds (see models/README.md)."""

DEFAULT_SAMPLE_PARTS = 400


def yolo_label_lines(
    boxes_xyxy: npt.NDArray[np.float32], class_ids: npt.NDArray[np.int64], width: int, height: int
) -> list[str]:
    """`class cx cy w h` lines, normalised by the frame size, 6 decimals."""
    lines: list[str] = []
    for (x1, y1, x2, y2), c in zip(boxes_xyxy.tolist(), class_ids.tolist(), strict=True):
        cx = (x1 + x2) / 2 / width
        cy = (y1 + y2) / 2 / height
        bw = (x2 - x1) / width
        bh = (y2 - y1) / height
        lines.append(f"{int(c)} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}")
    return lines


def data_yaml_text(root: Path) -> str:
    """A data.yaml written by hand (no YAML library needed to write or read it)."""
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASS_NAMES))
    return (
        f"# Synthetic line sample written by `station sample`\n"
        f"path: {root.resolve()}\n"
        f"train: images\n"
        f"val: images\n"
        f"nc: {len(CLASS_NAMES)}\n"
        f"names:\n{names}\n"
    )


def write_yolo_sample(
    out_dir: Path,
    n_parts: int,
    seed: int,
    width: int = 640,
    height: int = 480,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write parts 0..n_parts-1 of the line with `seed`; returns the path of data.yaml.

    Deterministic: the same (n_parts, seed, width, height) writes identical files.
    `progress(done, total)` is called before each part: a job off the GUI thread may
    raise from it to stop (a window closing while the shipped sample is written).
    """
    if n_parts < 1:
        raise StationError(f"--parts must be at least 1, got {n_parts}")
    out_dir = Path(out_dir)
    images = out_dir / "images"
    labels = out_dir / "labels"
    try:
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StationError(f"{out_dir}: cannot create the sample folder ({exc.strerror})") from exc
    gen = PartGenerator(seed, width=width, height=height)
    digits = max(5, len(str(n_parts - 1)))
    for i in range(n_parts):
        if progress is not None:
            progress(i, n_parts)
        part = gen.part(i)
        stem = f"{i:0{digits}d}"
        if not cv2.imwrite(str(images / f"{stem}.png"), part.image):
            raise StationError(f"{images / stem}.png: could not write the image")
        text = "\n".join(yolo_label_lines(part.boxes_xyxy, part.class_ids, width, height))
        _write_text(labels / f"{stem}.txt", text + "\n" if text else "")
    data_yaml = out_dir / "data.yaml"
    _write_text(data_yaml, data_yaml_text(out_dir))
    return data_yaml


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise StationError(f"{path}: could not write ({exc.strerror})") from exc
