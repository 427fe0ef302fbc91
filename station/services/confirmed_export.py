"""Confirmed parts of the log, written as a labeled YOLO-layout sample for `station compare`.

Truth is the log's (`station.storage.samples`: the latest confirmation; a defective part
without a confirmed class counts its rejecting classes, an escape without one is left
out). A part's frame is its archived one; a part without an archived frame (a passed
part, or one pruned) is left out and counted. Each true class gets one label line
covering the whole frame: the station's samples are read per part (which classes are
on it), never per box. `shadow_only` keeps the shadow model's confirmed disagreements.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from station.core.errors import StationError
from station.storage.samples import confirmed_sample
from station.storage.shadow import disagreeing_rows


@dataclass(frozen=True, slots=True)
class ExportedSample:
    written: int
    defective: int
    skipped: dict[str, int]
    data_yaml: Path


def export_confirmed(
    db_path: Path, out: Path, *, shadow_only: bool = False, model_sha256: str | None = None
) -> ExportedSample:
    """Write OUT/images, OUT/labels and OUT/data.yaml; StationError naming what is wrong."""
    if out.exists() and any(out.iterdir()):
        raise StationError(f"{out}: not empty; export to a new or empty folder")
    confirmed = confirmed_sample(db_path, model_sha256)
    sample = confirmed.sample
    keep = disagreeing_rows(db_path) if shadow_only else None
    skipped: Counter[str] = Counter(confirmed.skipped)
    chosen = []
    for k, (row_id, image) in enumerate(zip(confirmed.row_ids, confirmed.image_paths, strict=True)):
        if keep is not None and row_id not in keep:
            continue
        if image is None or not image.is_file():
            skipped["no archived frame"] += 1
            continue
        chosen.append((k, row_id, image))
    if not chosen:
        raise StationError(
            f"{db_path}: no confirmed {'shadow disagreements' if shadow_only else 'parts'} "
            f"with an archived frame ({dict(skipped) or 'none confirmed'})"
        )
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(exist_ok=True)
    defective = 0
    for k, row_id, image in chosen:
        stem = f"log-{row_id}"
        shutil.copyfile(image, out / "images" / f"{stem}{image.suffix}")
        classes = [int(c) for c in sample.truth[k].nonzero()[0]]
        defective += bool(classes)
        lines = "".join(f"{c} 0.5 0.5 1.0 1.0\n" for c in classes)
        (out / "labels" / f"{stem}.txt").write_text(lines)
    names = "".join(f"  {i}: {n}\n" for i, n in enumerate(sample.class_names))
    data_yaml = out / "data.yaml"
    data_yaml.write_text(f"path: .\ntrain: images\nval: images\nnames:\n{names}")
    return ExportedSample(len(chosen), defective, dict(skipped), data_yaml)
