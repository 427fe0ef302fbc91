"""A sidecar labels file: one class name per line, line i naming class id i.

Used for models that carry no `names` metadata (plain ONNX exports, models
from other frameworks). Blank lines at the end are ignored; a blank line in
the middle or a repeated name is refused because it would shift or merge
class ids silently.
"""

from __future__ import annotations

from pathlib import Path

from station.core.errors import StationError

SIDECAR_SUFFIX = ".labels.txt"


def read_labels(path: Path | str) -> tuple[str, ...]:
    """Class names from a labels file, index = class id. StationError on a bad file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StationError(f"{p}: labels file not found") from None
    except UnicodeDecodeError:
        raise StationError(
            f"{p}: labels file is not UTF-8 text (one class name per line)"
        ) from None
    except OSError as exc:
        raise StationError(f"{p}: cannot read labels file ({exc.strerror or exc})") from None
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise StationError(f"{p}: labels file is empty, expected one class name per line")
    for i, name in enumerate(lines):
        if not name:
            raise StationError(f"{p}: line {i + 1} is blank; every class id needs a name")
    seen: set[str] = set()
    for name in lines:
        if name in seen:
            raise StationError(f"{p}: class name {name!r} appears twice")
        seen.add(name)
    return tuple(lines)


def sidecar_labels_path(model_path: Path) -> Path:
    """Where a sidecar labels file for `model_path` is looked for: `<model stem>.labels.txt`."""
    return model_path.with_name(model_path.stem + SIDECAR_SUFFIX)
