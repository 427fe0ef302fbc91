"""Reading a recipe: one TOML file -> checked `Recipe` values.

Relative paths resolve against the recipe file's folder, so a recipe and its
model travel together. Every load error names the file, the field and what was
expected; a typo never falls back to a default silently.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from station.core.costs import Costs
from station.core.errors import StationError
from station.core.shifts import ShiftSchedule
from station.core.size_rules import SizeRuleError
from station.core.thresholds import ThresholdError, ThresholdSet
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
)
from station.services.recipe_fields import RecipeFields
from station.services.recipe_tables import (
    SHA256,
    THRESHOLD_KEYS,
    archive_of,
    lanes_of,
    shadow_of,
    size_rules_of,
    station_id_of,
    threads_of,
    thresholds_of,
)


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
        "model": {"path", "sha256", "labels", "family", "intra_op_threads", "lanes"},
        "thresholds": {"default", "tuned_on_model_sha256", "reject_classes", "classes"},
        "shifts": {"zone", "starts", "names"},
        "costs": {"escape", "scrap", "max_escape_rate"},
        "station": {
            "autostart",
            "db",
            "id",
            "decision_deadline_ms",
            "archive_limit_mb",
            "archive_max_age_days",
        },
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
    station_id = station_id_of(f)

    model_path = f.text("model", "path", None)
    if model_path is None:
        raise f.fail("model.path", "the path of the ONNX model file")
    sha = f.text("model", "sha256", None, empty_ok=True)
    if sha is not None and not SHA256.match(sha.lower()):
        raise f.fail("model.sha256", "64 hexadecimal digits", sha)
    labels = f.text("model", "labels", None)
    model = ModelRef(
        Path(model_path) if model_path.startswith(HEURISTIC_PREFIX) else f.resolve(model_path),
        sha.lower() if sha else None,
        f.resolve(labels) if labels else None,
        f.text("model", "family", None),
        threads_of(f),
        lanes_of(f),
    )

    thresholds = thresholds_of(f)
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
        size_rules=size_rules_of(f),
        shadow=shadow_of(f) if "shadow" in data else None,
        archive=archive_of(f),
        source_sha256=hashlib.sha256(raw).hexdigest(),
    )


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
    return thresholds_of(RecipeFields(path, data))


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
