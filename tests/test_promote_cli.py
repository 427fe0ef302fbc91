"""`station promote`: a qualified candidate into a recipe and back; PIN, audit trail, real files."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from station.cli import main
from station.detectors import sha256_file
from station.services.recipe_file import load_recipe
from tests.model_variants import SHIPPED
from tests.promotion_support import RECIPE

pytestmark = pytest.mark.skipif(not SHIPPED.is_file(), reason="models/defects.onnx absent")


@pytest.fixture(scope="module")
def reports(compare_reports: dict[str, Path]) -> dict[str, Path]:
    return compare_reports


def promote(monkeypatch, pin: str, *argv: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(pin + "\n"))
    return main(["promote", *argv])


def kinds(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY id")]


def test_promote_then_roll_back(monkeypatch, capsys, reports, tmp_path: Path) -> None:
    recipe = tmp_path / "widget.toml"
    recipe.write_text(RECIPE, encoding="utf-8")
    original = recipe.read_bytes()
    cand = reports["halved.onnx"]
    rep = json.loads(reports["halved"].read_text())
    args = ["--recipe", str(recipe), "--pin-file", str(tmp_path / "pin.json"), "--who", "ana"]
    promo = [*args, "--candidate", str(cand), "--from-compare", str(reports["halved"])]

    assert promote(monkeypatch, "1234", *promo, "--reason", "halved export") == 0
    r = load_recipe(recipe)
    sha = sha256_file(cand)
    assert r.model.path == cand and r.model.sha256 == sha
    assert r.thresholds.model_sha256 == sha
    assert dict(r.thresholds.class_thresholds) == rep["candidate"]["thresholds"]
    assert r.costs.max_escape_rate == 0.10 and r.db_path == tmp_path / "log.sqlite3"
    kept = tmp_path / "widget.rollback.toml"
    assert kept.read_bytes() == original
    db = tmp_path / "log.sqlite3"
    assert kinds(db)[-3:] == ["supervisor_pin_set", "threshold_change", "model_promoted"]
    assert "promoted" in capsys.readouterr().out

    # a wrong PIN changes nothing and is itself audited
    promoted = recipe.read_bytes()
    assert promote(monkeypatch, "9999", *args, "--rollback") == 2
    assert "wrong PIN" in capsys.readouterr().err
    assert recipe.read_bytes() == promoted and kept.is_file()
    assert kinds(db)[-1] == "threshold_change_refused"

    assert promote(monkeypatch, "1234", *args, "--rollback", "--reason", "line complaint") == 0
    assert recipe.read_bytes() == original  # comments and all
    assert not kept.exists()
    assert kinds(db)[-2:] == ["threshold_change", "model_rolled_back"]
    capsys.readouterr()
    assert promote(monkeypatch, "1234", *args, "--rollback") == 2  # one step only
    assert "no promotion to roll back" in capsys.readouterr().err
    assert main(["audit", "verify", "--db", str(db)]) == 0


def test_a_station_holding_the_recipe_does_not_write_over_a_promotion(
    monkeypatch, capsys, reports, tmp_path: Path
) -> None:
    """The window read the recipe, then `station promote` switched its model: the window's
    next threshold change must not land on the promoted model. Refused, audited, unchanged."""
    from station.core.errors import StationError
    from station.services.recipe_write import save_recipe_thresholds
    from station.services.threshold_change import EVENT_FAILED, ThresholdChange, ThresholdChanger
    from station.services.tuning_store import PinStore
    from station.storage.log import SqliteInspectionLog

    recipe = tmp_path / "widget.toml"
    recipe.write_text(RECIPE, encoding="utf-8")
    held = load_recipe(recipe)
    pins = tmp_path / "pin.json"
    promo = ["--recipe", str(recipe), "--pin-file", str(pins), "--who", "ana"]
    promo += ["--candidate", str(reports["halved.onnx"]), "--from-compare", str(reports["halved"])]
    assert promote(monkeypatch, "1234", *promo) == 0
    promoted = recipe.read_bytes()
    db = tmp_path / "log.sqlite3"
    with SqliteInspectionLog(db) as log:
        changer = ThresholdChanger(
            PinStore(pins), log, lambda new: save_recipe_thresholds(held, new)
        )
        tuned = held.thresholds.with_thresholds({"scratch": 0.2})
        change = ThresholdChange("bo", "tuned", held.thresholds, tuned, sha256_file(SHIPPED))
        with pytest.raises(StationError, match="changed on disk since this station read it"):
            changer.apply(change, "1234")
    assert recipe.read_bytes() == promoted
    assert kinds(db)[-2:] == ["threshold_change", EVENT_FAILED]
    assert main(["audit", "verify", "--db", str(db)]) == 0


@pytest.mark.parametrize(
    ("candidate", "report", "expected"),
    [
        ("blind.onnx", "blind", "verdict 'worse'"),
        ("halved.onnx", "blind", "judged candidate"),  # the report is about another file
        ("halved_at_other_costs.onnx", "halved_at_other_costs", "derived at costs"),
    ],
)
def test_refused_promotions_change_nothing(
    monkeypatch, capsys, reports, tmp_path: Path, candidate: str, report: str, expected: str
) -> None:
    recipe = tmp_path / "widget.toml"
    recipe.write_text(RECIPE, encoding="utf-8")
    argv = ["--recipe", str(recipe), "--pin-file", str(tmp_path / "pin.json")]
    argv += ["--candidate", str(reports[candidate]), "--from-compare", str(reports[report])]
    assert promote(monkeypatch, "1234", *argv) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
    assert recipe.read_text(encoding="utf-8") == RECIPE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["widget.toml"]


def test_a_report_made_without_the_recipes_size_rules_is_refused(
    monkeypatch, capsys, reports, tmp_path: Path
) -> None:
    """Thresholds derived without a size rule answer another question (issue 12)."""
    recipe = tmp_path / "widget.toml"
    text = RECIPE + "\n[size_rules.classes.pit]\nmin_length = 30.0\n"
    recipe.write_text(text, encoding="utf-8")
    argv = ["--recipe", str(recipe), "--pin-file", str(tmp_path / "pin.json")]
    argv += ["--candidate", str(reports["halved.onnx"]), "--from-compare", str(reports["halved"])]
    assert json.loads(reports["halved"].read_text())["size_rules"]["classes"] == {}
    assert promote(monkeypatch, "1234", *argv) == 2
    err = capsys.readouterr().err
    assert "compared with size rules" in err and len(err.strip().splitlines()) == 1
    assert recipe.read_text(encoding="utf-8") == text


def test_a_report_about_another_current_model_is_refused(monkeypatch, capsys, reports, tmp_path):
    recipe = tmp_path / "widget.toml"
    recipe.write_text(RECIPE.replace(str(SHIPPED), str(reports["blind.onnx"])), encoding="utf-8")
    argv = ["--recipe", str(recipe), "--pin-file", str(tmp_path / "pin.json")]
    argv += ["--candidate", str(reports["halved.onnx"]), "--from-compare", str(reports["halved"])]
    assert promote(monkeypatch, "1234", *argv) == 2
    assert "compares model" in capsys.readouterr().err
