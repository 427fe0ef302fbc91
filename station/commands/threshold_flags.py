"""`--thresholds` and `--default-threshold`, as `station detect` and `station evaluate` read them.

The JSON is either `{"class": T, ...}` or ThresholdSet's own form
`{"class_thresholds": {...}, "default_threshold": T}`, inline or in a file. A key given twice
or a key that is not a threshold set's is refused: a typo must not fall back to a default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from station.core.errors import StationError
from station.core.thresholds import DEFAULT_THRESHOLD, ThresholdSet, parse_threshold


def load_json_object(text: str) -> tuple[dict[str, object], str]:
    """The thresholds JSON object from an inline string or a file, and where it came from."""
    if text.lstrip().startswith("{"):
        source, raw = "--thresholds", text
    else:
        path = Path(text)
        if not path.is_file():
            raise StationError(f"--thresholds: {text!r} is neither a JSON object nor a file")
        source = str(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise StationError(f"{source}: cannot read thresholds file ({exc})") from None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise StationError(f"{source}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(obj, dict):
        raise StationError(f'{source}: expected a JSON object such as {{"crack": 0.6}}')
    return obj, source


THRESHOLD_SET_KEYS = ("class_thresholds", "default_threshold", "model_sha256")


def check_threshold_set_keys(obj: Mapping[str, object], source: str) -> None:
    """ThresholdSet's own JSON form takes only its keys: a typo must not drop a default."""
    extra = sorted(set(obj) - set(THRESHOLD_SET_KEYS))
    if extra:
        raise StationError(
            f"{source}: {extra[0]!r} is not a key of a threshold set; "
            f"expected some of: {', '.join(THRESHOLD_SET_KEYS)}"
        )


def build_thresholds(
    thresholds: str | None, default_threshold: str | None, class_names: tuple[str, ...]
) -> ThresholdSet:
    """A ThresholdSet from the CLI flags, checked against the model's classes.

    The JSON is either ``{"class": T, ...}`` or ThresholdSet's own form
    ``{"class_thresholds": {...}, "default_threshold": T}``;
    `--default-threshold` wins over a default in the file.
    """
    per_class: Mapping[str, object] = {}
    default: object = DEFAULT_THRESHOLD
    if thresholds is not None:
        obj, source = load_json_object(thresholds)
        if isinstance(obj.get("class_thresholds"), dict):
            check_threshold_set_keys(obj, source)
            per_class = obj["class_thresholds"]  # type: ignore[assignment]
            default = obj.get("default_threshold", DEFAULT_THRESHOLD)
        else:
            per_class = obj
    if default_threshold is not None:
        try:
            default = float(default_threshold)
        except ValueError:
            raise StationError(
                f"--default-threshold: expected a number in [0, 1], got {default_threshold!r}"
            ) from None
        parse_threshold(default, "--default-threshold")
    tset = ThresholdSet(per_class, default)  # type: ignore[arg-type]
    tset.check_classes(class_names)
    return tset
