"""`--thresholds` and `--default-threshold`, as `station detect` and `station evaluate` read them.

The JSON is either `{"class": T, ...}` or ThresholdSet's own form
`{"class_thresholds": {...}, "default_threshold": T}`, inline or in a file. A key given twice
or a key that is not a threshold set's is refused: a typo must not fall back to a default.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from station.core.errors import StationError
from station.core.thresholds import DEFAULT_THRESHOLD, ThresholdSet, parse_threshold
from station.formats.image_file import (
    DEFAULT_MAX_IMAGE_PIXELS,
    MAX_PIXELS_KEY,
    max_pixels_option,
)


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
        obj = json.loads(raw, object_pairs_hook=_no_duplicates(source))
    except json.JSONDecodeError as exc:
        raise StationError(f"{source}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(obj, dict):
        raise StationError(f'{source}: expected a JSON object such as {{"crack": 0.6}}')
    return obj, source


def _no_duplicates(source: str) -> Any:
    """A JSON object hook refusing a key given twice (json keeps the last one silently)."""

    def hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        seen: dict[str, object] = {}
        for key, value in pairs:
            if key in seen:
                raise StationError(f"{source}: {key!r} is given twice; keep one value")
            seen[key] = value
        return seen

    return hook


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


def add_max_pixels_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-image-pixels",
        metavar="N",
        help="refuse images above N pixels before decoding them (default "
        f"{DEFAULT_MAX_IMAGE_PIXELS:,}, or the recipe's [camera] {MAX_PIXELS_KEY})",
    )


def max_pixels_from(args: argparse.Namespace, recipe: Any = None) -> int:
    """--max-image-pixels, else the recipe's `[camera] max_image_pixels`, else the default."""
    text = getattr(args, "max_image_pixels", None)
    if text is not None:
        value: object = int(text) if text.strip().isdigit() else text
        return max_pixels_option(value, "--max-image-pixels")
    if recipe is not None:
        value = recipe.camera.options.get(MAX_PIXELS_KEY)
        return max_pixels_option(value, f"{recipe.path}: camera.{MAX_PIXELS_KEY}")
    return DEFAULT_MAX_IMAGE_PIXELS
