"""Reading a recipe: one TOML file -> checked `Recipe` values.

Relative paths resolve against the recipe file's folder, so a recipe and its
model travel together. Every load error names the file, the field and what was
expected; a typo never falls back to a default silently.
"""

from __future__ import annotations

import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from station.core.costs import Costs
from station.core.errors import StationError
from station.core.shifts import ShiftSchedule
from station.core.size_rules import SizeRuleError, SizeRules
from station.core.thresholds import DEFAULT_THRESHOLD, ThresholdError, ThresholdSet
from station.formats.image_file import MAX_PIXELS_KEY
from station.formats.image_file import max_pixels_option as max_image_pixels_option
from station.outputs.central.connection import check_url
from station.outputs.plc.config import plc_config
from station.services.recipe import (
    DEFAULT_DECISION_DEADLINE_MS,
    HEURISTIC_PREFIX,
    CameraConfig,
    ModelRef,
    Recipe,
    ShadowConfig,
)
from station.services.recipe_fields import RecipeFields

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def load_recipe(path: Path | str) -> Recipe:
    """Read and check a recipe; StationError naming the file and field for anything wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StationError(f"{path}: recipe file not found") from None
    except OSError as exc:
        raise StationError(f"{path}: cannot read the recipe ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))  # a byte-order mark is no error
    except UnicodeDecodeError:
        raise StationError(f"{path}: expected a UTF-8 TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise StationError(f"{path}: {_toml_error(exc)}") from None
    f = RecipeFields(path, data)
    known = {
        "product",
        "model",
        "thresholds",
        "camera",
        "shifts",
        "costs",
        "station",
        "central",
        "plc",
        "calibration",
        "size_rules",
        "shadow",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise f.fail(f"[{unknown[0]}]", f"one of the tables {', '.join(sorted(known))}")

    allowed_keys = {
        "product": {"name", "station_id"},
        "model": {"path", "sha256", "labels", "family", "intra_op_threads"},
        "thresholds": {"default", "tuned_on_model_sha256", "reject_classes", "classes"},
        "shifts": {"zone", "starts", "names"},
        "costs": {"escape", "scrap", "max_escape_rate"},
        "station": {"autostart", "db", "id", "decision_deadline_ms"},
        "central": {"url"},
        "calibration": {"mm_per_px"},
        "size_rules": {"unit", "classes"},
        "shadow": {"model", "sha256", "labels", "family", *THRESHOLD_KEYS},
    }
    for table, keys in allowed_keys.items():
        extra = sorted(set(f.table(table)) - keys)
        if extra:  # a typo must not silently fall back to a default
            raise f.fail(f"{table}.{extra[0]}", f"one of the keys {', '.join(sorted(keys))}")

    product = f.text("product", "name", None)
    if product is None:
        raise f.fail("product.name", "the product's name (a string)")
    station_id = _station_id(f)

    model_path = f.text("model", "path", None)
    if model_path is None:
        raise f.fail("model.path", "the path of the ONNX model file")
    sha = f.text("model", "sha256", None, empty_ok=True)
    if sha is not None and not _SHA256.match(sha.lower()):
        raise f.fail("model.sha256", "64 hexadecimal digits", sha)
    labels = f.text("model", "labels", None)
    model = ModelRef(
        Path(model_path) if model_path.startswith(HEURISTIC_PREFIX) else f.resolve(model_path),
        sha.lower() if sha else None,
        f.resolve(labels) if labels else None,
        f.text("model", "family", None),
        _threads(f),
    )

    thresholds = _thresholds(f)
    reject_classes = f.strings("thresholds", "reject_classes")
    if reject_classes is not None and not reject_classes:
        raise f.fail(
            "thresholds.reject_classes",
            "at least one class that rejects a part (an empty list passes every part, "
            "defective ones too); leave the key out and every class rejects",
        )

    cam = f.table("camera")
    kind = f.text("camera", "kind", "synthetic") or "synthetic"
    max_image_pixels_option(cam.get(MAX_PIXELS_KEY), f"{path}: camera.{MAX_PIXELS_KEY}")
    camera = CameraConfig(kind, {k: v for k, v in cam.items() if k != "kind"})

    defaults = ShiftSchedule()
    starts = f.strings("shifts", "starts")
    names = f.strings("shifts", "names")
    zone = f.text("shifts", "zone", defaults.zone) or defaults.zone
    try:
        shifts = ShiftSchedule(
            zone=zone,
            starts=defaults.starts if starts is None else starts,  # [] is refused, not defaulted
            names=names
            if names is not None
            else (defaults.names if starts is None else _numbered(list(starts))),
        )
    except StationError as exc:
        raise StationError(f"{path}: {exc}") from None

    costs = Costs(
        escape=f.number("costs", "escape", 1.0, 0.0, None) or 0.0,
        scrap=f.number("costs", "scrap", 1.0, 0.0, None) or 0.0,
        max_escape_rate=f.number("costs", "max_escape_rate", None, 0.0, 1.0),
    )
    autostart = f.get("station", "autostart", bool, "true or false", False)
    db = f.text("station", "db", None)
    central_url = f.text("central", "url", None)
    if central_url is not None:
        check_url(central_url, f"{path}: central.url")
    deadline_ms = f.get(
        "station", "decision_deadline_ms", int, "an integer of milliseconds in [1, 60000]", None
    )
    if deadline_ms is not None and not 1 <= deadline_ms <= 60_000:
        raise f.fail("station.decision_deadline_ms", "an integer in [1, 60000]", deadline_ms)
    plc = plc_config(f.table("plc"), str(path)) if "plc" in data else None
    if camera.options.get("trigger") == "plc" and plc is None:
        raise f.fail("camera.trigger", "a [plc] table to take the triggers from", "plc")
    return Recipe(
        path=path,
        product=product,
        station_id=station_id,
        model=model,
        thresholds=thresholds,
        reject_classes=reject_classes,
        camera=camera,
        shifts=shifts,
        costs=costs,
        autostart=bool(autostart),
        db_path=f.resolve(db) if db else None,
        central_url=central_url,
        plc=plc,
        decision_deadline_ms=DEFAULT_DECISION_DEADLINE_MS if deadline_ms is None else deadline_ms,
        size_rules=_size_rules(f),
        shadow=_shadow(f) if "shadow" in data else None,
    )


def _station_id(f: RecipeFields) -> str:
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


def _threads(f: RecipeFields) -> int | None:
    """`[model] intra_op_threads`: onnxruntime's threads for one inference (1 to 256)."""
    value = f.get("model", "intra_op_threads", int, "a whole number from 1 to 256", None)
    if value is not None and not 1 <= value <= 256:
        raise f.fail("model.intra_op_threads", "a whole number from 1 to 256", value)
    return None if value is None else int(value)


def _toml_error(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's message, said plainly where it is about a key or table given twice."""
    text = str(exc)
    if text.startswith(("Cannot overwrite a value", "Cannot declare")):
        where = text[text.find("(at ") + 4 : -1] if "(at " in text else "somewhere"
        return f"a key or table is given twice ({where}); keep one"
    return f"not valid TOML ({text})"


def _numbered(starts: object) -> tuple[str, ...]:
    n = len(starts) if isinstance(starts, list) else 0
    return tuple(f"shift {i + 1}" for i in range(n))


def thresholds_from(path: Path, data: Mapping[str, Any]) -> ThresholdSet:
    """The `[thresholds]` tables of parsed recipe TOML (a written file is checked with it)."""
    return _thresholds(RecipeFields(path, data))


THRESHOLD_KEYS = ("default", "tuned_on_model_sha256", "classes")
"""The threshold keys `[shadow]` shares with `[thresholds]` (reject classes are production's)."""


def _shadow(f: RecipeFields) -> ShadowConfig:
    """`[shadow]`: the candidate model (relative to the recipe's folder) and its thresholds."""
    path = f.text("shadow", "model", None)
    if path is None:
        raise f.fail("shadow.model", "the path of the candidate ONNX model file")
    sha = f.text("shadow", "sha256", None)
    if sha is not None and not _SHA256.match(sha.lower()):
        raise f.fail("shadow.sha256", "64 hexadecimal digits", sha)
    labels = f.text("shadow", "labels", None)
    model = ModelRef(
        f.resolve(path),
        sha.lower() if sha else None,
        f.resolve(labels) if labels else None,
        f.text("shadow", "family", None),
    )
    return ShadowConfig(model, _thresholds(f, "shadow"))


def _thresholds(f: RecipeFields, table: str = "thresholds") -> ThresholdSet:
    t = f.table(table)
    classes = t.get("classes", {})
    if not isinstance(classes, Mapping):
        raise f.fail(f"{table}.classes", "a table of class name = threshold", classes)
    tuned = f.text(table, "tuned_on_model_sha256", None, empty_ok=True)
    if tuned is not None and not _SHA256.match(tuned.lower()):
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


def _size_rules(f: RecipeFields) -> SizeRules:
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


def default_recipe_path() -> Path:
    """The shipped recipe for the synthetic line and `models/defects.onnx`.

    It lives in the package (`station/resources/default_recipe.toml`) and names
    the model as `../../models/defects.onnx`: the repository's `models/` folder
    for an editable (development) install.
    """
    return Path(__file__).resolve().parents[1] / "resources" / "default_recipe.toml"


def check_against_model(recipe: Recipe, class_names: tuple[str, ...]) -> None:
    """Refuse thresholds or reject classes naming a class the model lacks (names the file)."""
    from station.core.thresholds import reject_mask

    try:
        recipe.thresholds.check_classes(class_names)
        reject_mask(class_names, recipe.reject_classes)
        recipe.size_rules.check_classes(class_names)
    except SizeRuleError as exc:
        raise SizeRuleError(f"{recipe.path}: {exc}") from None
    except ThresholdError as exc:
        msg = str(exc).replace("class_thresholds:", "thresholds.classes:", 1)
        msg = msg.replace("reject_classes:", "thresholds.reject_classes:", 1)
        raise ThresholdError(f"{recipe.path}: {msg}") from None
