"""The recipe's tables that take more than one line to read: each checked on its own.

`[thresholds]` (and the `[shadow]` candidate's), `[size_rules]` with
`[calibration]`, the station id and the model's thread count. Every refusal
names the file and the field (`RecipeFields`).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from typing import Any

from station.core.size_rules import SizeRuleError, SizeRules
from station.core.thresholds import DEFAULT_THRESHOLD, ThresholdError, ThresholdSet
from station.services.recipe import ModelRef, ShadowConfig
from station.services.recipe_fields import RecipeFields
from station.storage.archive_limit import DEFAULT_LIMIT_MB, ArchiveLimit

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def station_id_of(f: RecipeFields) -> str:
    """`[station] id`, else the older `[product] station_id`, else this machine's hostname.

    Every station of a plant needs its own id (the central database keys rows by it).
    """
    sid = f.text("station", "id", None)
    legacy = f.text("product", "station_id", None)
    if sid is not None and legacy is not None and sid != legacy:
        raise f.fail("station.id", f"the same id as product.station_id ({legacy!r})", sid)
    chosen = sid or legacy
    if chosen is not None and not chosen.strip():
        raise f.fail("station.id" if sid is not None else "product.station_id", "a non-empty id")
    return chosen or socket.gethostname()


def threads_of(f: RecipeFields) -> int | None:
    """`[model] intra_op_threads`: onnxruntime's threads for one inference (1 to 256)."""
    return _whole(f, "intra_op_threads", 256)


def lanes_of(f: RecipeFields) -> int | None:
    """`[model] lanes`: parts the live line infers at once (1 to 16)."""
    return _whole(f, "lanes", 16)


def _whole(f: RecipeFields, key: str, most: int) -> int | None:
    want = f"a whole number from 1 to {most}"
    value = f.get("model", key, int, want, None)
    if value is not None and not 1 <= value <= most:
        raise f.fail(f"model.{key}", want, value)
    return None if value is None else int(value)


def archive_of(f: RecipeFields) -> ArchiveLimit:
    """`[station] archive_limit_mb` (default 1000) and `archive_max_age_days` (default none):
    how much of the reject archive is kept. Zero is refused: a frame must be kept."""
    out = {}
    for key, unit in (("archive_limit_mb", "megabytes"), ("archive_max_age_days", "days")):
        value = f.number("station", key, None, 0.0, None)
        if value == 0.0:
            raise f.fail(f"station.{key}", f"a number of {unit} above 0", 0)
        out[key] = value
    limit = out["archive_limit_mb"]
    return ArchiveLimit(DEFAULT_LIMIT_MB if limit is None else limit, out["archive_max_age_days"])


THRESHOLD_KEYS = ("default", "tuned_on_model_sha256", "classes")
"""The threshold keys `[shadow]` shares with `[thresholds]` (reject classes are production's)."""


def shadow_of(f: RecipeFields) -> ShadowConfig:
    """`[shadow]`: the candidate model (relative to the recipe's folder) and its thresholds."""
    path = f.text("shadow", "model", None)
    if path is None:
        raise f.fail("shadow.model", "the path of the candidate ONNX model file")
    sha = f.text("shadow", "sha256", None)
    if sha is not None and not SHA256.match(sha.lower()):
        raise f.fail("shadow.sha256", "64 hexadecimal digits", sha)
    labels = f.text("shadow", "labels", None)
    model = ModelRef(
        f.resolve(path),
        sha.lower() if sha else None,
        f.resolve(labels) if labels else None,
        f.text("shadow", "family", None),
    )
    return ShadowConfig(model, thresholds_of(f, "shadow"))


def thresholds_of(f: RecipeFields, table: str = "thresholds") -> ThresholdSet:
    t = f.table(table)
    classes = t.get("classes", {})
    if not isinstance(classes, Mapping):
        raise f.fail(f"{table}.classes", "a table of class name = threshold", classes)
    tuned = f.text(table, "tuned_on_model_sha256", None, empty_ok=True)
    if tuned is not None and not SHA256.match(tuned.lower()):
        raise f.fail(f"{table}.tuned_on_model_sha256", "64 hexadecimal digits", tuned)
    try:
        ts = ThresholdSet(
            dict(classes), t.get("default", DEFAULT_THRESHOLD), tuned.lower() if tuned else None
        )
    except ThresholdError as exc:
        # ThresholdSet names `class_thresholds.X` / `default_threshold`; say it as the file does
        msg = str(exc).replace("class_thresholds.", f"{table}.classes.", 1)
        msg = msg.replace("default_threshold:", f"{table}.default:", 1)
        raise ThresholdError(f"{f.path}: {msg}") from None
    return ts


def size_rules_of(f: RecipeFields) -> SizeRules:
    """`[size_rules]` (unit "px" or "mm", `classes.NAME.min_area` / `.min_length`) and
    `[calibration] mm_per_px`; refused naming the file and field."""
    mm_per_px = f.number("calibration", "mm_per_px", None, 0.0, None)
    if mm_per_px is not None and mm_per_px <= 0:
        raise f.fail("calibration.mm_per_px", "a number > 0 (mm per pixel)", mm_per_px)
    unit = f.text("size_rules", "unit", "px") or "px"
    classes = f.table("size_rules").get("classes", {})
    if not isinstance(classes, Mapping):
        raise f.fail("size_rules.classes", "a table of class name = {min_area, min_length}")
    minima: dict[str, dict[str, Any]] = {"min_area": {}, "min_length": {}}
    for name, rule in classes.items():
        if not isinstance(rule, Mapping):
            raise f.fail(f"size_rules.classes.{name}", "a table with min_area and/or min_length")
        extra = sorted(set(rule) - set(minima))
        if extra:
            raise f.fail(f"size_rules.classes.{name}.{extra[0]}", "min_area or min_length")
        for measure, value in rule.items():
            minima[measure][name] = value
    try:
        return SizeRules(minima["min_area"], minima["min_length"], unit, mm_per_px)
    except SizeRuleError as exc:
        raise SizeRuleError(f"{f.path}: {exc}") from None
