"""Read a labeled sample in the YOLO folder layout (images/, labels/, data.yaml).

One part per image. `labels/<same relative path>.txt` holds one
`class cx cy w h` line per defect; an empty or missing label file is a good
part. Class ids index `data.yaml`'s `names` when present (mapped onto the
model's classes by name), else the model's own class list. Only what
threshold tuning needs is read: which classes are truly on each part.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from station.core.errors import StationError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


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

    @property
    def n_parts(self) -> int:
        return len(self.image_paths)


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


def parse_data_yaml_names(text: str, where: Path) -> tuple[str, ...] | None:
    """The `names` of a data.yaml: a flow list, a block list or a block map of id: name.

    Only this key is read, so no YAML library is needed; None when absent.
    """
    lines = text.splitlines()
    for i, raw in enumerate(lines):
        line = raw.split(" #", 1)[0].rstrip()
        m = re.match(r"^names\s*:\s*(.*)$", line)
        if not m:
            continue
        rest = m.group(1).strip()
        if rest.startswith("["):
            if not rest.endswith("]"):
                raise StationError(f"{where}: names: expected a one-line list [a, b, ...]")
            return tuple(_unquote(x) for x in rest[1:-1].split(",") if x.strip())
        if rest.startswith("{"):
            items = [x for x in rest.strip("{}").split(",") if x.strip()]
            pairs = [tuple(x.split(":", 1)) for x in items]
            return _from_map(pairs, where)
        if rest:
            raise StationError(f"{where}: names: expected a list or a map of class names")
        block: list[str] = []
        for nxt in lines[i + 1 :]:
            if nxt.strip() == "" or nxt.lstrip().startswith("#"):
                continue
            if not nxt[:1].isspace() and not nxt.startswith("-"):
                break
            block.append(nxt.split(" #", 1)[0].strip())
        if all(b.startswith("-") for b in block):
            return tuple(_unquote(b[1:]) for b in block)
        return _from_map([tuple(b.split(":", 1)) for b in block], where)
    return None


def _from_map(pairs: Sequence[tuple[str, ...]], where: Path) -> tuple[str, ...]:
    out: dict[int, str] = {}
    for p in pairs:
        if len(p) != 2 or not p[0].strip().isdigit():
            raise StationError(f"{where}: names: expected `id: name` entries, got {':'.join(p)!r}")
        out[int(p[0])] = _unquote(p[1])
    if sorted(out) != list(range(len(out))):
        raise StationError(f"{where}: names: expected ids 0..{len(out) - 1}, got {sorted(out)}")
    return tuple(out[i] for i in range(len(out)))


def read_yolo_sample(folder: Path | str, class_names: Sequence[str]) -> YoloSample:
    """Read `folder` (`images/`, optional `labels/` and `data.yaml`) against the model's classes."""
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
    id_to_model: list[int | None]
    label_names = data_names if data_names is not None else names
    id_to_model = [names.index(n) if n in names else None for n in label_names]
    truth = np.zeros((len(images), len(names)), dtype=bool)
    label_paths: list[Path | None] = []
    part_ids: list[str] = []
    for i, img in enumerate(images):
        rel = img.relative_to(images_dir)
        part_ids.append(rel.as_posix())
        digest.update(rel.as_posix().encode() + b"\0" + _file_sha(img))
        lab = (labels_dir / rel).with_suffix(".txt")
        if not lab.is_file():
            label_paths.append(None)
            digest.update(b"-\0")
            continue
        label_paths.append(lab)
        text = lab.read_bytes()
        digest.update(hashlib.sha256(text).digest())
        for ln, line in enumerate(text.decode("utf-8", "replace").splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 5 or not fields[0].isdigit():
                raise StationError(
                    f"{lab}:{ln}: expected `class cx cy w h` with an integer class, got {line!r}"
                )
            cid = int(fields[0])
            if cid >= len(label_names):
                src = f"{data_yaml} names" if data_names is not None else "the model's classes"
                raise StationError(
                    f"{lab}:{ln}: class {cid} is outside {src} (0..{len(label_names) - 1})"
                )
            target = id_to_model[cid]
            if target is None:
                raise StationError(
                    f"{lab}:{ln}: class {cid} ({label_names[cid]!r} in {data_yaml}) is not a "
                    f"class of the model; the model's classes are: {', '.join(names)}"
                )
            truth[i, target] = True
    truth.flags.writeable = False
    return YoloSample(
        folder,
        names,
        tuple(images),
        tuple(label_paths),
        truth,
        tuple(part_ids),
        digest.hexdigest(),
    )


def _file_sha(path: Path) -> bytes:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").digest()
