"""A recipe as TOML text: a small explicit emitter for the few value types a recipe holds.

Strings, numbers, booleans and string lists, rather than a TOML-writing dependency.
`replace_threshold_tables` swaps only the `[thresholds]` tables of an existing file, so
the rest of it (comments included) is kept.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from station.core.errors import StationError
from station.core.thresholds import ThresholdSet
from station.services.recipe import DEFAULT_DECISION_DEADLINE_MS, HEURISTIC_PREFIX, Recipe
from station.storage.archive_limit import DEFAULT_LIMIT_MB

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(value: object) -> str:
    """One TOML value for the types a recipe holds; refuses anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StationError(f"cannot write {value!r} to a recipe: expected a finite number")
        return repr(value)
    if isinstance(value, str):
        escaped = (
            value.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\t", "\\t")
        )
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Path):
        return toml_value(value.as_posix())
    raise StationError(f"cannot write {value!r} to a recipe")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_value(key)


def thresholds_toml(thresholds: ThresholdSet, reject_classes: tuple[str, ...] | None) -> str:
    """The `[thresholds]` and `[thresholds.classes]` tables for a threshold set."""
    lines = ["[thresholds]", f"default = {toml_value(thresholds.default_threshold)}"]
    if thresholds.model_sha256:
        lines.append(f"tuned_on_model_sha256 = {toml_value(thresholds.model_sha256)}")
    if reject_classes is not None:
        lines.append(f"reject_classes = {toml_value(list(reject_classes))}")
    lines += ["", "[thresholds.classes]"]
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in thresholds.class_thresholds.items()]
    return "\n".join(lines) + "\n"


def recipe_toml(recipe: Recipe) -> str:
    """A whole recipe as TOML, paths relative to the recipe's folder where possible."""

    def rel(p: Path) -> str:
        if str(p).startswith(HEURISTIC_PREFIX):
            return str(p)
        try:
            return os.path.relpath(p, recipe.path.parent)
        except ValueError:  # another drive on Windows
            return str(p)

    out = [
        "[product]",
        f"name = {toml_value(recipe.product)}",
        f"station_id = {toml_value(recipe.station_id)}",
        "",
        "[model]",
        f"path = {toml_value(Path(rel(recipe.model.path)))}",
    ]
    if recipe.model.sha256:
        out.append(f"sha256 = {toml_value(recipe.model.sha256)}")
    if recipe.model.labels:
        out.append(f"labels = {toml_value(Path(rel(recipe.model.labels)))}")
    if recipe.model.family:
        out.append(f"family = {toml_value(recipe.model.family)}")
    if recipe.model.intra_op_threads is not None:
        out.append(f"intra_op_threads = {recipe.model.intra_op_threads}")
    if recipe.model.lanes is not None:
        out.append(f"lanes = {recipe.model.lanes}")
    out += ["", thresholds_toml(recipe.thresholds, recipe.reject_classes).rstrip("\n"), ""]
    out += ["[camera]", f"kind = {toml_value(recipe.camera.kind)}"]
    out += [f"{toml_key(k)} = {toml_value(v)}" for k, v in recipe.camera.options.items()]
    s = recipe.shifts
    out += [
        "",
        "[shifts]",
        f"zone = {toml_value(s.zone)}",
        f"starts = {toml_value(list(s.starts))}",
        f"names = {toml_value(list(s.names))}",
        "",
        "[costs]",
        f"escape = {toml_value(recipe.costs.escape)}",
        f"scrap = {toml_value(recipe.costs.scrap)}",
    ]
    if recipe.costs.max_escape_rate is not None:
        out.append(f"max_escape_rate = {toml_value(recipe.costs.max_escape_rate)}")
    out += ["", "[station]", f"autostart = {toml_value(recipe.autostart)}"]
    if recipe.db_path is not None:
        out.append(f"db = {toml_value(Path(rel(recipe.db_path)))}")
    if recipe.decision_deadline_ms != DEFAULT_DECISION_DEADLINE_MS:
        out.append(f"decision_deadline_ms = {recipe.decision_deadline_ms}")
    if recipe.archive.max_mb != DEFAULT_LIMIT_MB:
        out.append(f"archive_limit_mb = {toml_value(recipe.archive.max_mb)}")
    if recipe.archive.max_age_days is not None:
        out.append(f"archive_max_age_days = {toml_value(recipe.archive.max_age_days)}")
    if recipe.plc is not None:
        out += ["", "[plc]"]
        out += [f"{k} = {toml_value(v)}" for k, v in recipe.plc.to_table().items()]
    if recipe.central_url is not None:
        out += ["", "[central]", f"url = {toml_value(recipe.central_url)}"]
    out += _size_rules_toml(recipe)
    return "\n".join(out) + "\n"


def _size_rules_toml(recipe: Recipe) -> list[str]:
    rules = recipe.size_rules
    out: list[str] = []
    if rules.mm_per_px is not None:
        out += ["", "[calibration]", f"mm_per_px = {toml_value(rules.mm_per_px)}"]
    if rules.empty:
        return out
    out += ["", "[size_rules]", f"unit = {toml_value(rules.unit)}"]
    for name in sorted(set(rules.min_area) | set(rules.min_length)):
        out += ["", f"[size_rules.classes.{toml_key(name)}]"]
        for measure in ("min_area", "min_length"):
            value = getattr(rules, measure).get(name)
            if value:
                out.append(f"{measure} = {toml_value(float(value))}")
    return out


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def replace_threshold_tables(text: str, new_tables: str) -> str | None:
    """`text` with its [thresholds] and [thresholds.*] tables replaced, or None if absent."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    inserted = False
    skipping = False
    for line in lines:
        m = _HEADER.match(line)
        if m:
            name = m.group(1).replace(" ", "").replace('"', "")
            skipping = name == "thresholds" or name.startswith("thresholds.")
            if skipping and not inserted:
                if out and out[-1].strip():
                    out.append("\n")
                out.append(new_tables + "\n")
                inserted = True
        if not skipping:
            out.append(line)
    return "".join(out) if inserted else None
