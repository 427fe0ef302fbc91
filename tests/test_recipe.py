"""Recipes: loading, errors naming file and field, atomic write-back, the shipped default."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from station.core.errors import StationError
from station.core.thresholds import ThresholdError, ThresholdSet
from station.services.recipe_file import check_against_model, default_recipe_path, load_recipe
from station.services.recipe_write import save_recipe_thresholds, write_recipe

SHA_A = "a" * 64
SHA_B = "b" * 64

FULL = f"""\
# a hand-written recipe, with comments that must survive a threshold change
[product]
name = "bracket-7"
station_id = "line2-cam1"

[model]
path = "models/bracket.onnx"  # relative to this file
sha256 = "{SHA_A}"
labels = "labels.txt"
family = "yolov8"

[thresholds]
default = 0.3
tuned_on_model_sha256 = "{SHA_A}"
reject_classes = ["scratch", "dent"]

[thresholds.classes]
scratch = 0.45
dent = 0.7

[camera]
kind = "folder"
path = "frames"
loop = true

[shifts]
zone = "Europe/Berlin"
starts = ["06:00", "18:00"]
names = ["day", "night"]

[costs]
escape = 120.0
scrap = 3
max_escape_rate = 0.005

[station]
autostart = true
db = "logs/line2.sqlite3"
"""


def write(tmp_path: Path, text: str, name: str = "recipe.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_full_recipe(tmp_path: Path) -> None:
    r = load_recipe(write(tmp_path, FULL))
    assert r.product == "bracket-7" and r.station_id == "line2-cam1"
    assert r.model.path == tmp_path / "models" / "bracket.onnx"
    assert r.model.labels == tmp_path / "labels.txt"
    assert (r.model.sha256, r.model.family) == (SHA_A, "yolov8")
    assert r.thresholds.resolved(["scratch", "dent", "ok"]) == {
        "scratch": 0.45,
        "dent": 0.7,
        "ok": 0.3,
    }
    assert r.reject_classes == ("scratch", "dent")
    assert r.camera.kind == "folder" and dict(r.camera.options) == {"path": "frames", "loop": True}
    assert r.shifts.zone == "Europe/Berlin" and r.shifts.names == ("day", "night")
    assert (r.costs.escape, r.costs.scrap, r.costs.max_escape_rate) == (120.0, 3.0, 0.005)
    assert r.autostart is True and r.db_path == tmp_path / "logs" / "line2.sqlite3"
    assert not r.thresholds_need_retuning(SHA_A)
    assert r.thresholds_need_retuning(SHA_B)
    assert r.model_mismatch(SHA_A) is None
    assert "model.sha256" in (r.model_mismatch(SHA_B) or "")


def test_minimal_recipe_defaults(tmp_path: Path) -> None:
    r = load_recipe(write(tmp_path, '[product]\nname = "x"\n[model]\npath = "/abs/m.onnx"\n'))
    assert r.model.path == Path("/abs/m.onnx")
    assert r.reject_classes is None and r.thresholds.class_thresholds == {}
    assert r.camera.kind == "synthetic" and r.costs.max_escape_rate is None
    assert r.thresholds_need_retuning(SHA_A)  # no tuning hash recorded


BASE = '[product]\nname = "x"\n[model]\npath = "m.onnx"\n'


@pytest.mark.parametrize(
    ("extra", "field", "expected"),
    [
        ("[thresholds]\ndefault = 1.5\n", "thresholds.default", "outside [0, 1]"),
        ("[thresholds]\ndefault = nan\n", "thresholds.default", "NaN"),
        ('[thresholds]\ndefault = "high"\n', "thresholds.default", "expected a number"),
        ("[thresholds.classes]\ndent = -0.1\n", "thresholds.classes.dent", "outside [0, 1]"),
        ('[thresholds.classes]\ndent = "0.5"\n', "thresholds.classes.dent", "expected a number"),
        ("[thresholds.classes]\ndent = inf\n", "thresholds.classes.dent", "outside [0, 1]"),
        ("[thresholds.classes]\ndent = true\n", "thresholds.classes.dent", "expected a number"),
        ('[thresholds]\nclasses = "x"\n', "thresholds.classes", "a table"),
        ('[thresholds]\nreject_classes = "dent"\n', "thresholds.reject_classes", "list of strings"),
        ('[thresholds]\ntuned_on_model_sha256 = "abc"\n', "tuned_on_model_sha256", "64 hex"),
        ("[costs]\nescape = -1\n", "costs.escape", "a number >= 0"),
        ('[costs]\nscrap = "cheap"\n', "costs.scrap", "a number >= 0"),
        ("[costs]\nmax_escape_rate = 2\n", "costs.max_escape_rate", "in [0, 1]"),
        ('[station]\nautostart = "yes"\n', "station.autostart", "true or false"),
        ('[shifts]\nstarts = ["6am"]\nnames = ["a"]\n', "shifts.starts", "HH:MM"),
        ('[shifts]\nzone = "Mars/Olympus"\n', "shifts.zone", "unknown time zone"),
        ("[camera]\nkind = 3\n", "camera.kind", "a string"),
        ("[cameras]\nkind = 'x'\n", "[cameras]", "one of the tables"),
        ('[model]\nsha256 = "xyz"\n', "model.sha256", "64 hexadecimal"),
        ("[costs]\nescpae = 100\n", "costs.escpae", "one of the keys escape"),
        ("[thresholds]\ndefualt = 0.3\n", "thresholds.defualt", "one of the keys"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, extra: str, field: str, expected: str) -> None:
    text = (
        BASE + extra
        if not extra.startswith("[model]")
        else BASE.replace(
            '[model]\npath = "m.onnx"\n', '[model]\npath = "m.onnx"\n' + extra.split("\n", 1)[1]
        )
    )
    p = write(tmp_path, text)
    with pytest.raises(StationError) as err:
        load_recipe(p)
    msg = str(err.value)
    assert msg.startswith(str(p)) and field in msg and expected in msg, msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[model]\npath = "m.onnx"\n', "product.name"),
        ('[product]\nname = "x"\n', "model.path"),
        ("[product\nname = 1", "not valid TOML"),
    ],
)
def test_missing_or_broken(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(StationError, match=expected):
        load_recipe(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StationError, match="recipe file not found"):
        load_recipe(tmp_path / "nope.toml")


def test_classes_the_model_lacks_are_refused_with_the_models_classes(tmp_path: Path) -> None:
    r = load_recipe(write(tmp_path, FULL))
    check_against_model(r, ("scratch", "dent"))
    with pytest.raises(ThresholdError) as err:
        check_against_model(r, ("scratch", "pit"))
    assert "thresholds.classes: 'dent'" in str(err.value) and "scratch, pit" in str(err.value)


def test_save_thresholds_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    p = write(tmp_path, FULL)
    r = load_recipe(p)
    new = ThresholdSet({"scratch": 0.31, "dent": 0.7, "odd name": 0.2}, 0.4, SHA_B)
    r2 = save_recipe_thresholds(r, new)
    assert r2.thresholds == new
    assert not r2.thresholds_need_retuning(SHA_B)
    text = p.read_text()
    assert "# a hand-written recipe" in text and "# relative to this file" in text
    assert r2.reject_classes == r.reject_classes and r2.camera == r.camera
    assert r2.costs == r.costs and r2.shifts == r.shifts and r2.model == r.model
    assert [f.name for f in tmp_path.iterdir()] == ["recipe.toml"]  # no temp file left behind


def test_a_recipe_rewritten_since_it_was_read_is_not_written_over(tmp_path: Path) -> None:
    p = write(tmp_path, FULL)
    held = load_recipe(p)  # a window's copy
    rewritten = p.read_text().replace(f'sha256 = "{SHA_A}"', f'sha256 = "{SHA_B}"', 1)
    p.write_text(rewritten)  # `station promote`, an editor, another station
    with pytest.raises(StationError, match=r"recipe.toml: changed on disk since this station"):
        save_recipe_thresholds(held, ThresholdSet({"scratch": 0.2}, 0.4, SHA_A))
    assert p.read_text() == rewritten
    reopened = save_recipe_thresholds(load_recipe(p), ThresholdSet({"scratch": 0.2}, 0.4, SHA_B))
    assert reopened.thresholds.threshold_for("scratch") == 0.2 and reopened.model.sha256 == SHA_B
    assert reopened == load_recipe(p)  # the digest is no part of a recipe's value


def test_save_thresholds_into_a_recipe_without_threshold_tables(tmp_path: Path) -> None:
    p = write(tmp_path, BASE)
    r2 = save_recipe_thresholds(load_recipe(p), ThresholdSet({"a": 0.5}, 0.2, SHA_A))
    assert r2.thresholds == ThresholdSet({"a": 0.5}, 0.2, SHA_A)


def test_write_recipe_round_trips(tmp_path: Path) -> None:
    r = load_recipe(write(tmp_path, FULL))
    (tmp_path / "out").mkdir()
    out = write_recipe(r, tmp_path / "out" / "tuned.toml")
    assert out.model == r.model and out.db_path == r.db_path  # paths re-based on the new folder
    assert out.thresholds == r.thresholds and out.costs == r.costs
    # a folder camera's relative path is re-based too: still the frames beside the source recipe
    assert out.camera.kind == r.camera.kind
    assert dict(out.camera.options) == {**r.camera.options, "path": "../frames"}
    with pytest.raises(StationError, match="does not exist"):
        write_recipe(r, tmp_path / "missing" / "x.toml")


def test_default_recipe_loads_and_names_the_shipped_model() -> None:
    r = load_recipe(default_recipe_path())
    assert r.camera.kind == "synthetic"
    assert r.model.path == Path(__file__).resolve().parent.parent / "models" / "defects.onnx"
    assert r.reject_classes is not None


def test_default_recipe_thresholds_are_bound_to_the_shipped_model() -> None:
    """Fails when models/defects.onnx changes: re-tune and update the default recipe's hash."""
    r = load_recipe(default_recipe_path())
    if not r.model.path.exists():
        pytest.skip("models/defects.onnx is not built yet")
    actual = hashlib.sha256(r.model.path.read_bytes()).hexdigest()
    assert r.thresholds.model_sha256 == actual, (
        "the default recipe's thresholds were tuned on another model: run "
        "`station evaluate --recipe station/resources/default_recipe.toml --data SAMPLE "
        "--write-recipe ...` and update station/resources/default_recipe.toml"
    )


def test_intra_op_threads_key(tmp_path: Path) -> None:
    """`[model] intra_op_threads` sets onnxruntime's threads; checked, and written back."""
    text = FULL.replace('family = "yolov8"', 'family = "yolov8"\nintra_op_threads = 4')
    r = load_recipe(write(tmp_path, text))
    assert r.model.intra_op_threads == 4
    assert load_recipe(write(tmp_path, FULL, "plain.toml")).model.intra_op_threads is None
    (tmp_path / "out").mkdir()
    assert write_recipe(r, tmp_path / "out" / "t.toml").model.intra_op_threads == 4
    for bad in ("0", "257", "2.5", '"4"', "true"):
        broken = FULL.replace('family = "yolov8"', f'family = "yolov8"\nintra_op_threads = {bad}')
        with pytest.raises(StationError, match=r"model\.intra_op_threads: expected a whole number"):
            load_recipe(write(tmp_path, broken, "bad.toml"))


def test_lanes_key(tmp_path: Path) -> None:
    """`[model] lanes`: parts the live line infers at once; checked, and written back."""
    r = load_recipe(
        write(tmp_path, FULL.replace('family = "yolov8"', 'family = "yolov8"\nlanes = 1'))
    )
    assert r.model.lanes == 1
    assert load_recipe(write(tmp_path, FULL, "plain.toml")).model.lanes is None
    (tmp_path / "out").mkdir()
    assert write_recipe(r, tmp_path / "out" / "t.toml").model.lanes == 1
    for bad in ("0", "17", "1.5", '"2"'):
        broken = FULL.replace('family = "yolov8"', f'family = "yolov8"\nlanes = {bad}')
        with pytest.raises(
            StationError, match=r"model\.lanes: expected a whole number from 1 to 16"
        ):
            load_recipe(write(tmp_path, broken, "bad.toml"))


def test_archive_limit_keys(tmp_path: Path) -> None:
    """`[station] archive_limit_mb` / `archive_max_age_days`: checked, defaulted, written back."""
    text = FULL + "archive_limit_mb = 250\narchive_max_age_days = 30.5\n"
    r = load_recipe(write(tmp_path, text))
    assert (r.archive.max_mb, r.archive.max_age_days) == (250.0, 30.5)
    plain = load_recipe(write(tmp_path, FULL, "plain.toml")).archive
    assert (plain.max_mb, plain.max_age_days) == (1000.0, None)
    (tmp_path / "out").mkdir()
    assert write_recipe(r, tmp_path / "out" / "t.toml").archive == r.archive
    for key, bad, expected in [
        ("archive_limit_mb", "0", "a number of megabytes above 0"),
        ("archive_limit_mb", "-5", "a number >= 0"),
        ("archive_limit_mb", '"1GB"', "a number >= 0"),
        ("archive_max_age_days", "0", "a number of days above 0"),
        ("archive_max_age_days", "nan", "a number >= 0"),
    ]:
        broken = write(tmp_path, FULL + f"{key} = {bad}\n", "bad.toml")
        with pytest.raises(StationError, match=rf"bad\.toml: station\.{key}: expected {expected}"):
            load_recipe(broken)
