"""Read a labeled sample in the YOLO folder layout (images/, labels/, data.yaml).

One part per image. `labels/<same relative path>.txt` holds one
`class cx cy w h` line per defect; an empty or missing label file is a good
part. A sample without a `labels/` folder, or whose label files match none of
its images, has no truth at all and is refused (it would look perfect); label
files without an image are listed (`orphan_labels`) for a warning. Class ids
index `data.yaml`'s `names` when present (mapped onto the model's classes by
name), else the model's own class list. Only what
threshold tuning needs is read: which classes are truly on each part.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from station.core.errors import StationError
from station.formats.image_file import (
    DEFAULT_MAX_IMAGE_PIXELS,
    IMAGE_SUFFIXES,
    ImageFileError,
    TooManyPixelsError,
    check_image_bytes,
)
from station.formats.yolo_label import parse_label_line
from station.formats.yolo_names import parse_data_yaml_names


@dataclass(frozen=True, slots=True, eq=False)
class YoloSample:
    """A labeled sample on disk: image paths, label paths (None: missing) and the truth matrix.

    `truth` is (n_parts, n_classes) bool over `class_names` (the model's);
    `content_sha256` hashes every image, label file and data.yaml, so any
    edit to the sample gives another cache key.
    """

    folder: Path
    class_names: tuple[str, ...]
    image_paths: tuple[Path, ...]
    label_paths: tuple[Path | None, ...]
    truth: npt.NDArray[np.bool_]
    part_ids: tuple[str, ...]
    content_sha256: str
    orphan_labels: tuple[Path, ...] = ()

    @property
    def n_parts(self) -> int:
        return len(self.image_paths)


def read_yolo_sample(
    folder: Path | str, class_names: Sequence[str], max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> YoloSample:
    """Read `folder` (`images/`, `labels/`, optional `data.yaml`) against the model's classes.

    Refuses an image above `max_pixels` (from its header: nothing is decoded here); an image
    that cannot be decoded stays a part, without a decision when it is scored.
    """
    folder = Path(folder)
    names = tuple(class_names)
    images_dir = folder / "images"
    if not images_dir.is_dir():
        raise StationError(f"{folder}: expected a YOLO sample folder with an images/ folder")
    labels_dir = folder / "labels"
    data_yaml = folder / "data.yaml"
    digest = hashlib.sha256()
    data_names: tuple[str, ...] | None = None
    if data_yaml.is_file():
        blob = data_yaml.read_bytes()
        digest.update(b"data.yaml\0" + hashlib.sha256(blob).digest())
        data_names = parse_data_yaml_names(blob.decode("utf-8", "replace"), data_yaml)
    images = sorted(
        p for p in images_dir.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not images:
        raise StationError(f"{images_dir}: no images ({', '.join(IMAGE_SUFFIXES)})")
    if not labels_dir.is_dir():
        raise StationError(
            f"{folder}: no labels/ folder, so no part's truth is known; {_GOOD_ONLY}"
        )
    label_names = data_names if data_names is not None else names
    labels = _Labels(names, label_names, data_yaml if data_names is not None else None)
    truth = np.zeros((len(images), len(names)), dtype=bool)
    label_paths: list[Path | None] = []
    part_ids: list[str] = []
    for i, img in enumerate(images):
        rel = img.relative_to(images_dir)
        part_ids.append(rel.as_posix())
        data = img.read_bytes()
        _check_size(img, data, max_pixels)
        digest.update(rel.as_posix().encode() + b"\0" + hashlib.sha256(data).digest())
        lab = (labels_dir / rel).with_suffix(".txt")
        if not lab.is_file():
            label_paths.append(None)
            digest.update(b"-\0")
            continue
        label_paths.append(lab)
        text = lab.read_bytes()
        digest.update(hashlib.sha256(text).digest())
        for c in labels.classes(lab, text):
            truth[i, c] = True
    if all(p is None for p in label_paths):
        raise StationError(
            f"{labels_dir}: no label file matches an image of {images_dir} "
            f"(labels/<image name>.txt); {_GOOD_ONLY}"
        )
    truth.flags.writeable = False
    return YoloSample(
        folder,
        names,
        tuple(images),
        tuple(label_paths),
        truth,
        tuple(part_ids),
        digest.hexdigest(),
        _orphans(labels_dir, images_dir, set(part_ids)),
    )


_GOOD_ONLY = (
    "for a sample of good parts only, give each image an empty label file (labels/<image name>.txt)"
)


def _check_size(path: Path, data: bytes, max_pixels: int) -> None:
    """Refuse an image over the limit; a damaged one is left to scoring (no decision)."""
    try:
        check_image_bytes(path, data, max_pixels)
    except TooManyPixelsError:
        raise
    except ImageFileError:
        pass


def _orphans(labels_dir: Path, images_dir: Path, part_ids: set[str]) -> tuple[Path, ...]:
    """Label files with no image of the same name: a renamed or deleted image, most likely."""
    stems = {str(Path(p).with_suffix("")) for p in part_ids}
    return tuple(
        lab
        for lab in sorted(labels_dir.rglob("*.txt"))
        if str(lab.relative_to(labels_dir).with_suffix("")) not in stems
    )


class _Labels:
    """Maps a label file's class ids (data.yaml's, else the model's) onto the model's classes."""

    def __init__(
        self, names: tuple[str, ...], label_names: tuple[str, ...], data_yaml: Path | None
    ) -> None:
        self.names = names
        self.label_names = label_names
        self.data_yaml = data_yaml
        self.to_model = [names.index(n) if n in names else None for n in label_names]

    def classes(self, lab: Path, text: bytes) -> list[int]:
        """The model class of each box in one label file; StationError naming `file:line`."""
        out: list[int] = []
        for ln, line in enumerate(text.decode("utf-8", "replace").splitlines(), start=1):
            box = parse_label_line(line, lab, ln)
            if box is None:
                continue
            cid = box.class_id
            if cid >= len(self.label_names):
                src = f"{self.data_yaml} names" if self.data_yaml else "the model's classes"
                raise StationError(
                    f"{lab}:{ln}: class {cid} is outside {src} (0..{len(self.label_names) - 1})"
                )
            target = self.to_model[cid]
            if target is None:
                raise StationError(
                    f"{lab}:{ln}: class {cid} ({self.label_names[cid]!r} in {self.data_yaml}) "
                    f"is not a class of the model; the model's classes are: "
                    f"{', '.join(self.names)}"
                )
            out.append(target)
        return out
