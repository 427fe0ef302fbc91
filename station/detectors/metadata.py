"""Facts an exporter stored in an ONNX model's `metadata_props`.

Ultralytics-style exporters write `names` (a Python dict literal such as
``{0: 'scratch', 1: 'pit'}``), `imgsz` (``[640, 640]``), `stride`, `task`
(``detect``, ``segment``, ``classify``, ``obb``...), `end2end`, `head`
(``Detect``, ``Segment``, ``RTDETRDecoder``, ``OBB``...), and `args`, the
export arguments as a dict literal (``{'nms': True, 'dynamic': False...}``).
Ultralytics writes ``end2end: False`` for an ``nms=True`` export and
records the NMS only in `args`: `exported_with_nms` reads both. Every value
is a string; literals are parsed with `ast.literal_eval`, never `eval`,
because a model file is untrusted input.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from station.core.errors import StationError


@dataclass(frozen=True, slots=True)
class ModelMetadata:
    """Parsed metadata; a field is None when the model does not say."""

    names: tuple[str, ...] | None = None
    imgsz: tuple[int, int] | None = None  # (height, width) in pixels
    stride: int | None = None
    task: str | None = None
    end2end: bool | None = None
    conf: float | None = None  # confidence floor baked in at export, if recorded
    head: str | None = None  # the exporter's head module name, e.g. "RTDETRDecoder"
    args: Mapping[str, object] = field(default_factory=dict)  # export arguments
    raw: Mapping[str, str] = field(default_factory=dict)

    @property
    def exported_with_nms(self) -> bool:
        """Suppression inside the graph: `end2end` true, or `args` saying ``'nms': True``."""
        return bool(self.end2end) or self.args.get("nms") is True


def _literal(value: str, key: str, source: str) -> object:
    try:
        return ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise StationError(
            f"{source}: metadata {key!r} is not a Python literal: {value[:60]!r}"
        ) from None


def _names(value: str, source: str) -> tuple[str, ...]:
    parsed = _literal(value, "names", source)
    if isinstance(parsed, list | tuple):
        return tuple(str(n) for n in parsed)
    if isinstance(parsed, dict):
        try:
            ids = sorted(int(k) for k in parsed)
        except (TypeError, ValueError):
            raise StationError(
                f"{source}: metadata 'names' keys must be class ids 0..n-1"
            ) from None
        if ids != list(range(len(ids))):
            raise StationError(
                f"{source}: metadata 'names' keys must be class ids 0..n-1, got {ids}"
            )
        by_id = {int(k): str(v) for k, v in parsed.items()}
        return tuple(by_id[i] for i in ids)
    raise StationError(f"{source}: metadata 'names' must be a dict or list of class names")


def _imgsz(value: str, source: str) -> tuple[int, int]:
    parsed = _literal(value, "imgsz", source)
    if isinstance(parsed, int) and not isinstance(parsed, bool) and parsed > 0:
        return (parsed, parsed)
    if (
        isinstance(parsed, list | tuple)
        and len(parsed) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in parsed)
    ):
        return (int(parsed[0]), int(parsed[1]))
    raise StationError(f"{source}: metadata 'imgsz' must be N or [height, width], got {value!r}")


def _bool(value: str) -> bool | None:
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    return None


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _int(value: str) -> int | None:
    parsed: object
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, TypeError):
        return None
    if isinstance(parsed, list | tuple) and parsed:
        parsed = max(parsed)
    return parsed if isinstance(parsed, int) and not isinstance(parsed, bool) else None


def _args(value: str) -> Mapping[str, object]:
    """Export arguments; anything but a dict literal reads as none recorded (never fatal)."""
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return MappingProxyType({})
    if not isinstance(parsed, dict):
        return MappingProxyType({})
    return MappingProxyType({str(k): v for k, v in parsed.items()})


def parse_metadata(props: Mapping[str, str], source: str) -> ModelMetadata:
    """ModelMetadata from `metadata_props`; StationError naming `source` on malformed names/imgsz.

    Unknown keys are kept in `raw`; optional facts that do not parse
    (`stride`, `end2end`, `conf`, `args`) are treated as absent rather than fatal.
    """
    return ModelMetadata(
        names=_names(props["names"], source) if "names" in props else None,
        imgsz=_imgsz(props["imgsz"], source) if "imgsz" in props else None,
        stride=_int(props["stride"]) if "stride" in props else None,
        task=props["task"].strip().lower() if "task" in props else None,
        end2end=_bool(props["end2end"]) if "end2end" in props else None,
        conf=_float(props["conf"]) if "conf" in props else None,
        head=props["head"].strip() or None if "head" in props else None,
        args=_args(props["args"]) if "args" in props else MappingProxyType({}),
        raw=MappingProxyType(dict(props)),
    )
