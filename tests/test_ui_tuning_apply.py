"""Applying thresholds: PIN, audit row in a real SQLite log, recipe rewritten, worker told."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Slot
from tuning_support import keep, keeper  # noqa: F401 (keeper: autouse fixture)

from station.core.thresholds import ThresholdSet
from station.services.recipe_file import default_recipe_path, load_recipe
from station.services.recipe_write import save_recipe_thresholds
from station.services.threshold_change import ThresholdChange, ThresholdChanger, WrongPinError
from station.services.tuning_samples import benchmark_matrix
from station.services.tuning_store import PinStore
from station.storage.log import SqliteInspectionLog
from station.synthetic.line import CLASS_NAMES
from station.ui.tuning import TuningView, TuningViewModel

MODEL = "c" * 64
FAST = {"n": 2**10, "r": 8, "p": 1}


class WorkerSink(QObject):
    """Stands where the inspection worker's `set_thresholds` slot is."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[ThresholdSet] = []

    @Slot(object)
    def set_thresholds(self, ts: ThresholdSet) -> None:
        self.received.append(ts)


@pytest.fixture
def station(tmp_path: Path):
    recipe_path = tmp_path / "recipe.toml"
    shutil.copy(default_recipe_path(), recipe_path)
    # Known thresholds, tuned on no recorded model (the shipped recipe's may change).
    known = ThresholdSet({c: 0.5 for c in CLASS_NAMES}, 0.5, None)
    recipe = save_recipe_thresholds(load_recipe(recipe_path), known)
    log = SqliteInspectionLog(tmp_path / "log.sqlite3")
    pins = PinStore(tmp_path / "cfg" / "supervisor_pin.json", cost=FAST)
    sink = WorkerSink()
    state = {"recipe": recipe}

    def save(new: ThresholdSet) -> object:
        state["recipe"] = save_recipe_thresholds(state["recipe"], new)
        return state["recipe"]

    changer = ThresholdChanger(pins, log, save, sink.set_thresholds)
    yield recipe, log, pins, sink, changer, state
    log.close()


def events(db: Path, kind: str) -> list[tuple[str, dict]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT message, details FROM events WHERE kind = ? ORDER BY id", (kind,)
        ).fetchall()
    return [(m, json.loads(d)) for m, d in rows]


def make(qtbot, recipe, changer):
    loaded = benchmark_matrix(2000, seed=1, model_sha256=MODEL, class_names=CLASS_NAMES)
    vm = TuningViewModel.from_recipe(recipe, CLASS_NAMES, MODEL, changer)
    vm.set_sample(loaded)
    answers: list[tuple[str, str, str] | None] = []
    view = TuningView(vm, ask_apply=lambda summary, first: answers.pop(0))
    keep(vm, view)
    view.show()
    return vm, view, answers


def click_and_wait(qtbot, vm, button) -> None:
    """Apply and undo check the PIN off the GUI thread: wait for the job to end."""
    button.click()
    qtbot.waitUntil(lambda: not vm.applier.runner.running, timeout=30000)


def test_apply_with_right_and_wrong_pin(qtbot, station, tmp_path) -> None:
    recipe, log, pins, sink, changer, _state = station
    vm, view, answers = make(qtbot, recipe, changer)
    # The shipped recipe records no model hash: it must be re-tuned.
    assert not view.banner.isHidden()
    view.sliders["pit"].slider.setValue(31)
    shown = vm.last_figures
    assert shown is not None and view.btn_apply.isEnabled()

    # First use: the PIN given becomes the supervisor PIN (stored hashed only).
    answers.append(("Ada", "2580", "pit escapes too high on the held-out sample"))
    click_and_wait(qtbot, vm, view.btn_apply)
    assert pins.is_set() and "2580" not in pins.path.read_text()
    assert vm.saved.threshold_for("pit") == pytest.approx(0.31)
    assert vm.saved.model_sha256 == MODEL
    assert view.banner.isHidden()
    reread = load_recipe(recipe.path)
    assert reread.thresholds.threshold_for("pit") == pytest.approx(0.31)
    assert not reread.thresholds_need_retuning(MODEL)
    assert sink.received and sink.received[-1].threshold_for("pit") == pytest.approx(0.31)
    assert view.sliders["pit"].saved_label.text() == "saved 0.31"

    # A wrong PIN changes nothing but is audited.
    view.sliders["stain"].slider.setValue(20)
    answers.append(("Mallory", "0000", "lower stain"))
    click_and_wait(qtbot, vm, view.btn_apply)
    assert "wrong PIN" in view.message.text()
    assert vm.saved.threshold_for("stain") == 0.5
    assert load_recipe(recipe.path).thresholds.threshold_for("stain") == 0.5
    assert len(sink.received) == 1

    log.close()
    changes = events(log.db_path, "threshold_change")
    assert len(changes) == 1
    message, details = changes[0]
    assert "Ada" in message and "pit 0.50 → 0.31" in message
    assert details["who"] == "Ada" and details["model_sha256"] == MODEL
    assert details["reason"] == "pit escapes too high on the held-out sample"
    assert details["old"]["class_thresholds"]["pit"] == 0.5
    assert details["new"]["class_thresholds"]["pit"] == 0.31
    assert details["figures"]["escapes"] == shown.confusion.false_accepts
    assert details["figures"]["scrap"] == shown.confusion.false_rejects
    assert details["figures"]["escape_text"] == shown.escape_text
    refused = events(log.db_path, "threshold_change_refused")
    assert len(refused) == 1 and "Mallory" in refused[0][0]


def test_undo_applies_the_previous_set_audited(qtbot, station) -> None:
    recipe, log, pins, sink, changer, _state = station
    pins.set_first("1357")
    vm, view, answers = make(qtbot, recipe, changer)
    assert not view.btn_undo.isEnabled()
    view.sliders["crack"].slider.setValue(70)
    answers.append(("Ada", "1357", "fewer crack false rejects"))
    click_and_wait(qtbot, vm, view.btn_apply)
    assert vm.saved.threshold_for("crack") == pytest.approx(0.7)
    assert view.btn_undo.isEnabled()
    answers.append(("Ada", "1357", "customer complaint: back"))
    click_and_wait(qtbot, vm, view.btn_undo)
    assert vm.saved.threshold_for("crack") == 0.5
    assert view.sliders["crack"].value() == 0.5
    assert load_recipe(recipe.path).thresholds.threshold_for("crack") == 0.5
    assert [ts.threshold_for("crack") for ts in sink.received] == [0.7, 0.5]
    log.close()
    changes = events(log.db_path, "threshold_change")
    assert len(changes) == 2
    assert changes[1][1]["reason"].startswith("undo: ")
    assert "crack 0.70 → 0.50" in changes[1][0]


def test_cancelled_dialog_and_missing_reason_change_nothing(qtbot, station) -> None:
    recipe, _log, pins, sink, changer, _state = station
    pins.set_first("1357")
    vm, view, answers = make(qtbot, recipe, changer)
    view.sliders["pit"].slider.setValue(10)
    answers.append(None)
    click_and_wait(qtbot, vm, view.btn_apply)
    assert vm.saved.threshold_for("pit") == 0.5
    assert not vm.apply("Ada", "1357", "   ")
    assert "reason" in view.message.text()
    assert not sink.received


def test_changer_refuses_bad_first_pin(station) -> None:
    recipe, _log, pins, _sink, changer, _state = station
    change = ThresholdChange("Ada", "why", recipe.thresholds, recipe.thresholds, MODEL)
    with pytest.raises(Exception, match="4 to 12 digits"):
        changer.apply(change, "12")
    assert not pins.is_set()
    pins.set_first("9999")
    with pytest.raises(WrongPinError):
        changer.apply(change, "9998")


def test_wrong_pins_lock_applying_for_a_while(station) -> None:
    recipe, _log, pins, _sink, changer, _state = station
    now = [1000.0]
    changer._clock = lambda: now[0]
    pins.set_first("2468")
    change = ThresholdChange("Eve", "guessing", recipe.thresholds, recipe.thresholds, MODEL)
    for guess in ("0000", "1111", "2222", "3333", "4444"):
        with pytest.raises(WrongPinError, match="wrong PIN"):
            changer.apply(change, guess)
    with pytest.raises(WrongPinError, match="too many wrong PINs: try again in 60 s"):
        changer.apply(change, "2468")  # even the right one, during the lockout
    now[0] += 61.0
    assert changer.apply(change, "2468").applied.model_sha256 == MODEL


def test_the_lockout_survives_open_recipe_and_restarts(station) -> None:
    """A new changer on the same PIN store (Open recipe…, a restart) is still locked out."""
    recipe, log, pins, _sink, changer, _state = station
    now = [5000.0]
    changer._clock = lambda: now[0]
    pins.set_first("2468")
    change = ThresholdChange("Eve", "guessing", recipe.thresholds, recipe.thresholds, MODEL)
    for guess in ("0000", "1111", "2222", "3333"):
        with pytest.raises(WrongPinError, match="wrong PIN"):
            changer.apply(change, guess)
    reopened = ThresholdChanger(PinStore(pins.path), log, changer.save, None, lambda: now[0])
    with pytest.raises(WrongPinError, match="wrong PIN"):
        reopened.apply(change, "4444")  # the fifth in a row, counted across the reopening
    restarted = ThresholdChanger(PinStore(pins.path), log, changer.save, None, lambda: now[0])
    with pytest.raises(WrongPinError, match="try again in 60 s"):
        restarted.apply(change, "2468")
    now[0] -= 86400.0  # the wall clock set back a day: still one lockout, not a day long
    with pytest.raises(WrongPinError, match="try again in 60 s"):
        restarted.apply(change, "2468")
    now[0] += 61.0
    assert restarted.apply(change, "2468").applied.model_sha256 == MODEL
    assert PinStore(pins.path).lockout().failures == 0
    pins.lockout_path.write_text("{broken", encoding="utf-8")
    with pytest.raises(Exception, match="damaged"):
        restarted.apply(change, "2468")  # a damaged lockout file never reads as "unlocked"


def test_build_tuning_from_the_shipped_recipe_and_model(qtbot, tmp_path) -> None:
    from station.detectors import load_detector
    from station.ui.tuning.wiring import build_tuning

    recipe = load_recipe(default_recipe_path())
    info = load_detector(recipe.model.path).info
    delivered: list[ThresholdSet] = []
    with SqliteInspectionLog(tmp_path / "log.sqlite3") as log:
        view, vm = build_tuning(
            recipe, info, log, delivered.append, pins=PinStore(tmp_path / "pin.json", cost=FAST)
        )
        keep(vm, view)
        assert vm.class_names == tuple(info.class_names)
        assert vm.costs.escape == recipe.costs.escape
        assert vm.costs.max_escape_rate == recipe.costs.max_escape_rate
        for name in info.class_names:
            assert view.sliders[name].value() == pytest.approx(
                recipe.thresholds.threshold_for(name)
            )
        assert (view.banner.text() == "") == (not recipe.thresholds_need_retuning(info.sha256))
        assert [e.kind for e in vm.sample_entries()] == ["shipped"]
