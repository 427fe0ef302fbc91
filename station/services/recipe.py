"""A product's recipe: one TOML file -> frozen, validated dataclasses.

A recipe says what a station inspects and how: the model (and the SHA-256 it
is expected to have), the per-class thresholds and the model they were tuned
on, which classes reject a part, the camera, the shift schedule and what each
error costs. Relative paths resolve against the recipe file's folder, so a
recipe and its model travel together. Every load error names the file, the
field and what was expected.

Writing back (`save_recipe_thresholds`) replaces only the `[thresholds]`
tables and keeps the rest of the file, comments included; it uses a small
explicit TOML emitter for the few value types a recipe holds (strings,
numbers, booleans, string lists) rather than a TOML-writing dependency.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from station.core.errors import StationError
from station.core.shifts import ShiftSchedule
from station.core.thresholds import DEFAULT_THRESHOLD, ThresholdError, ThresholdSet

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
HEURISTIC_PREFIX = "heuristic:"
"""A `[model] path` starting so names a built-in detector (`heuristic:dark-blobs`), not a file:
it is kept as written (`station.detectors.heuristic.PREFIX`; not imported: no onnxruntime here)."""


@dataclass(frozen=True, slots=True)
class ModelRef:
    """The model file (or a `heuristic:...` spec, as written), its expected SHA-256 (None: not
    pinned), labels file and family override."""

    path: Path
    sha256: str | None = None
    labels: Path | None = None
    family: str | None = None


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """`kind` picks the source (synthetic, folder, opencv, gige, pylon); `options` are its keys."""

    kind: str = "synthetic"
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))


@dataclass(frozen=True, slots=True)
class Costs:
    """Cost of one escape (defective part shipped) and of one scrapped good part, same unit.

    `max_escape_rate` (a fraction in [0, 1], e.g. 0.005) caps the escape rate, or None.
    """

    escape: float = 1.0
    scrap: float = 1.0
    max_escape_rate: float | None = None


@dataclass(frozen=True, slots=True)
class Recipe:
    path: Path
    product: str
    station_id: str
    model: ModelRef
    thresholds: ThresholdSet
    reject_classes: tuple[str, ...] | None
    camera: CameraConfig
    shifts: ShiftSchedule
    costs: Costs
    autostart: bool = False
    db_path: Path | None = None

    def thresholds_need_retuning(self, model_sha256: str) -> bool:
        """True when the thresholds were tuned on another model than the one with this hash."""
        return self.thresholds.needs_retuning(model_sha256)

    def model_mismatch(self, model_sha256: str) -> str | None:
        """Why the model file is not the one the recipe pins (`model.sha256`), or None."""
        if self.model.sha256 is None or self.model.sha256 == model_sha256.lower():
            return None
        return (
            f"{self.path}: model.sha256: expected {self.model.sha256}, but "
            f"{self.model.path} has {model_sha256}: not the model this recipe was made for"
        )


# -- loading --------------------------------------------------------------------------------


class _Fields:
    """Typed access to one recipe's tables; errors name the file and the dotted field."""

    def __init__(self, path: Path, data: Mapping[str, Any]) -> None:
        self.path = path
        self.data = data

    def fail(self, name: str, expected: str, got: object = ...) -> StationError:
        tail = "" if got is ... else f", got {got!r}"
        return StationError(f"{self.path}: {name}: expected {expected}{tail}")

    def table(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise self.fail(f"[{name}]", "a table", value)
        return value

    def get(
        self, table: str, key: str, kind: type | tuple[type, ...], expected: str, default: Any
    ) -> Any:
        value = self.table(table).get(key, default)
        if value is default:
            return value
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(f"{table}.{key}", expected, value)
        if not isinstance(value, kind):
            raise self.fail(f"{table}.{key}", expected, value)
        return value

    def text(self, table: str, key: str, default: str | None) -> str | None:
        value = self.get(table, key, str, "a string", default)
        return None if value in (None, "") else str(value)

    def number(
        self, table: str, key: str, default: float | None, lo: float, hi: float | None
    ) -> float | None:
        rng = f"a number >= {lo:g}" if hi is None else f"a number in [{lo:g}, {hi:g}]"
        value = self.get(table, key, (int, float), rng, default)
        if value is None:
            return None
        f = float(value)
        if math.isnan(f) or f < lo or (hi is not None and f > hi) or math.isinf(f):
            raise self.fail(f"{table}.{key}", rng, value)
        return f

    def strings(self, table: str, key: str) -> tuple[str, ...] | None:
        value = self.table(table).get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{table}.{key}", "a list of strings", value)
        return tuple(value)

    def resolve(self, text: str) -> Path:
        p = Path(text).expanduser()
        return Path(os.path.normpath(p if p.is_absolute() else self.path.parent / p))


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
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise StationError(f"{path}: expected a UTF-8 TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise StationError(f"{path}: not valid TOML ({exc})") from None
    f = _Fields(path, data)
    known = {"product", "model", "thresholds", "camera", "shifts", "costs", "station"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise f.fail(f"[{unknown[0]}]", f"one of the tables {', '.join(sorted(known))}")

    allowed_keys = {
        "product": {"name", "station_id"},
        "model": {"path", "sha256", "labels", "family"},
        "thresholds": {"default", "tuned_on_model_sha256", "reject_classes", "classes"},
        "shifts": {"zone", "starts", "names"},
        "costs": {"escape", "scrap", "max_escape_rate"},
        "station": {"autostart", "db"},
    }
    for table, keys in allowed_keys.items():
        extra = sorted(set(f.table(table)) - keys)
        if extra:  # a typo must not silently fall back to a default
            raise f.fail(f"{table}.{extra[0]}", f"one of the keys {', '.join(sorted(keys))}")

    product = f.text("product", "name", None)
    if product is None:
        raise f.fail("product.name", "the product's name (a string)")
    station_id = f.text("product", "station_id", "station-1") or "station-1"

    model_path = f.text("model", "path", None)
    if model_path is None:
        raise f.fail("model.path", "the path of the ONNX model file")
    sha = f.text("model", "sha256", None)
    if sha is not None and not _SHA256.match(sha.lower()):
        raise f.fail("model.sha256", "64 hexadecimal digits", sha)
    labels = f.text("model", "labels", None)
    model = ModelRef(
        Path(model_path) if model_path.startswith(HEURISTIC_PREFIX) else f.resolve(model_path),
        sha.lower() if sha else None,
        f.resolve(labels) if labels else None,
        f.text("model", "family", None),
    )

    thresholds = _thresholds(f)
    reject_classes = f.strings("thresholds", "reject_classes")

    cam = f.table("camera")
    kind = f.text("camera", "kind", "synthetic") or "synthetic"
    camera = CameraConfig(kind, {k: v for k, v in cam.items() if k != "kind"})

    shifts_t = f.table("shifts")
    try:
        defaults = ShiftSchedule()
        shifts = ShiftSchedule(
            zone=f.text("shifts", "zone", defaults.zone) or defaults.zone,
            starts=f.strings("shifts", "starts") or defaults.starts,
            names=f.strings("shifts", "names")
            or (defaults.names if "starts" not in shifts_t else _numbered(shifts_t["starts"])),
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
    )


def _numbered(starts: object) -> tuple[str, ...]:
    n = len(starts) if isinstance(starts, list) else 0
    return tuple(f"shift {i + 1}" for i in range(n))


def _thresholds(f: _Fields) -> ThresholdSet:
    t = f.table("thresholds")
    classes = t.get("classes", {})
    if not isinstance(classes, Mapping):
        raise f.fail("thresholds.classes", "a table of class name = threshold", classes)
    tuned = f.text("thresholds", "tuned_on_model_sha256", None)
    if tuned is not None and not _SHA256.match(tuned.lower()):
        raise f.fail("thresholds.tuned_on_model_sha256", "64 hexadecimal digits", tuned)
    try:
        ts = ThresholdSet(
            dict(classes), t.get("default", DEFAULT_THRESHOLD), tuned.lower() if tuned else None
        )
    except ThresholdError as exc:
        # ThresholdSet names `class_thresholds.X` / `default_threshold`; say it as the file does
        msg = str(exc).replace("class_thresholds.", "thresholds.classes.", 1)
        msg = msg.replace("default_threshold:", "thresholds.default:", 1)
        raise ThresholdError(f"{f.path}: {msg}") from None
    return ts


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
    except ThresholdError as exc:
        msg = str(exc).replace("class_thresholds:", "thresholds.classes:", 1)
        msg = msg.replace("reject_classes:", "thresholds.reject_classes:", 1)
        raise ThresholdError(f"{recipe.path}: {msg}") from None


# -- writing --------------------------------------------------------------------------------


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
    return "\n".join(out) + "\n"


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _replace_threshold_tables(text: str, new_tables: str) -> str | None:
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


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and os.replace: never a half-written file."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise StationError(f"{path}: cannot write the recipe ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise StationError(f"{path}: cannot write the recipe ({exc.strerror or exc})") from None


def save_recipe_thresholds(recipe: Recipe, new: ThresholdSet) -> Recipe:
    """Write `new` into the recipe file atomically and return the recipe as re-read.

    Only the threshold tables change; the rest of the file (comments too) is
    kept. If the file cannot be edited in place it is rewritten whole.
    """
    path = recipe.path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        text = ""
    tables = thresholds_toml(new, recipe.reject_classes)
    edited = _replace_threshold_tables(text, tables) if text else None
    if edited is not None:
        try:
            parsed = tomllib.loads(edited)
            ok = _Fields(path, parsed) and _thresholds(_Fields(path, parsed)) == new
        except (tomllib.TOMLDecodeError, StationError):
            ok = False
        if not ok:
            edited = None
    if edited is None:
        edited = recipe_toml(replace(recipe, thresholds=new))
    atomic_write_text(path, edited)
    return load_recipe(path)


def write_recipe(recipe: Recipe, out: Path) -> Recipe:
    """Write `recipe` as a new file `out` (paths relative to its folder); returns it re-read."""
    out = Path(out)
    if not out.parent.is_dir():
        raise StationError(f"{out}: folder {out.parent} does not exist")
    camera = recipe.camera
    frames = camera.options.get("path")  # a folder replay: relative to the recipe's folder
    if isinstance(frames, str) and not Path(frames).expanduser().is_absolute():
        target = os.path.normpath(recipe.path.parent / frames)
        try:
            moved = os.path.relpath(target, out.parent)
        except ValueError:  # another drive on Windows
            moved = target
        camera = replace(camera, options={**camera.options, "path": moved})
    atomic_write_text(out, recipe_toml(replace(recipe, path=out, camera=camera)))
    return load_recipe(out)
