"""The tuning tab's model buttons: promote a candidate, roll it back; real widgets offscreen,
real compare reports (tests/promotion_support.py), real onnxruntime, a real SQLite log.

The tab uses `station promote`'s service, so its rules are the CLI's: the same refusals,
the same audit entries, the same rollback copy. After a switch the station's window
reopens the recipe as File → Open recipe… does.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tuning_support import keep, keeper  # noqa: F401 (keeper: autouse fixture)

from station.detectors import load_detector, sha256_file
from station.services.recipe_file import load_recipe
from station.services.tuning_store import PinStore
from station.storage.log import SqliteInspectionLog
from station.ui.tuning.promote_vm import candidate_named_in
from station.ui.tuning.wiring import build_tuning
from tests.model_variants import SHIPPED
from tests.promotion_support import RECIPE

pytestmark = pytest.mark.skipif(not SHIPPED.is_file(), reason="models/defects.onnx absent")

FAST = {"n": 2**10, "r": 8, "p": 1}
SUPERVISOR = ("Sam Supervisor", "24680", "halved export qualified by compare")


class Tab:
    """The tuning tab as `station run` builds it, its dialogs answered by the test."""

    def __init__(self, qtbot: Any, tmp_path: Path, pick: tuple[Path, Path] | None) -> None:
        self.recipe_path = tmp_path / "widget.toml"
        self.recipe_path.write_text(RECIPE, encoding="utf-8")
        self.db = tmp_path / "log.sqlite3"
        recipe = load_recipe(self.recipe_path)
        self.log = SqliteInspectionLog(self.db, schedule=recipe.shifts)
        info = load_detector(recipe.model.path).info
        pins = PinStore(tmp_path / "cfg" / "pin.json", cost=FAST)
        self.view, self.vm = build_tuning(
            recipe, info, self.log, lambda _ts: None, self.db, pins, tmp_path / "cache"
        )
        self.view.auto_load = False  # no sample scoring: this test is about the model
        keep(self.vm, self.view)
        self.view.show()
        self.panel = self.view.promote_panel
        assert self.panel is not None and self.view.promoter is not None
        self.promoter = self.view.promoter
        self.asked: list[tuple[str, bool, str, str]] = []
        self.answers: list[tuple[str, str, str] | None] = []
        self.panel.pick = lambda: pick
        self.panel.ask = self._ask
        self.switched: list[str] = []
        self.promoter.switched.connect(self.switched.append)
        self.qtbot = qtbot

    def _ask(self, summary: str, first_use: bool, title: str, reason: str) -> Any:
        self.asked.append((summary, first_use, title, reason))
        return self.answers.pop(0)

    def click(self, button: Any) -> None:
        button.click()
        self.qtbot.waitUntil(lambda: not self.promoter.runner.running, timeout=60000)

    def kinds(self) -> list[str]:
        with sqlite3.connect(self.db) as conn:
            return [k for (k,) in conn.execute("SELECT kind FROM events ORDER BY id")]

    def message(self) -> str:
        return str(self.view.message.text())


@pytest.fixture
def tab_for(qtbot: Any, tmp_path: Path) -> Any:
    made: list[Tab] = []

    def make(pick: tuple[Path, Path] | None) -> Tab:
        made.append(Tab(qtbot, tmp_path, pick))
        return made[-1]

    yield make
    for tab in made:
        tab.promoter.wait()
        tab.log.close()


def test_promote_shows_the_evidence_then_rolls_back(tab_for: Any, compare_reports: Any) -> None:
    report, candidate = compare_reports["halved"], compare_reports["halved.onnx"]
    rep = json.loads(report.read_text(encoding="utf-8"))
    tab = tab_for((report, candidate))
    original = tab.recipe_path.read_bytes()
    assert tab.panel.btn_promote.isEnabled() and not tab.panel.btn_rollback.isEnabled()

    tab.answers.append(SUPERVISOR)
    tab.click(tab.panel.btn_promote)  # checks the report and the candidate off the GUI thread
    assert len(tab.asked) == 1
    summary, first_use, title, reason = tab.asked[0]
    assert first_use and title == "Promote model"
    assert reason.startswith("station compare verdict equivalent: ")
    assert "verdict EQUIVALENT: " in summary and candidate.name in summary
    for name, t in rep["candidate"]["thresholds"].items():  # the re-derived thresholds
        assert f"{name}  " in summary and f"→ {t:.3g}" in summary
    now, new = rep["current"], rep["candidate"]
    for side, role in ((now, "current"), (new, "candidate")):  # rates with counts and intervals
        lo, hi = side["far_ci95"]
        line = next(ln for ln in summary.splitlines() if ln.strip().startswith(role))
        assert line.split()[:4] == [role, str(side["false_accepts"]), "of",
                                    f"{side['defective_parts']}:"]  # fmt: skip
        assert f"{100 * lo:.1f}" in line and f"{100 * hi:.1f}%)" in line
    tab.qtbot.waitUntil(lambda: tab.switched == [str(tab.recipe_path)], timeout=60000)

    promoted = load_recipe(tab.recipe_path)
    sha = sha256_file(candidate)
    assert promoted.model.path == candidate and promoted.model.sha256 == sha
    assert dict(promoted.thresholds.class_thresholds) == rep["candidate"]["thresholds"]
    assert promoted.thresholds.model_sha256 == sha
    assert tab.kinds()[-3:] == ["supervisor_pin_set", "threshold_change", "model_promoted"]
    assert "promoted: widget.toml now runs halved.onnx" in tab.message()
    assert (tmp_rollback := tab.recipe_path.with_name("widget.rollback.toml")).is_file()
    assert tab.panel.btn_rollback.isEnabled()

    tab.answers.append(("Sam Supervisor", "24680", "line complaint"))
    tab.click(tab.panel.btn_rollback)
    assert tab.asked[-1][2] == "Roll back model" and not tab.asked[-1][1]
    tab.qtbot.waitUntil(lambda: len(tab.switched) == 2, timeout=60000)
    assert tab.recipe_path.read_bytes() == original  # comments and all
    assert not tmp_rollback.exists() and not tab.panel.btn_rollback.isEnabled()
    assert tab.kinds()[-2:] == ["threshold_change", "model_rolled_back"]


@pytest.mark.parametrize(
    ("candidate", "report", "expected"),
    [
        ("blind.onnx", "blind", "verdict 'worse'"),
        ("halved.onnx", "blind", "judged candidate"),  # the report is about another file
        ("halved_at_other_costs.onnx", "halved_at_other_costs", "derived at costs"),
    ],
)
def test_the_clis_refusals_hold_in_the_tab(
    tab_for: Any, compare_reports: Any, candidate: str, report: str, expected: str
) -> None:
    tab = tab_for((compare_reports[report], compare_reports[candidate]))
    tab.click(tab.panel.btn_promote)
    assert tab.asked == []  # nothing to confirm: refused before the PIN is asked
    assert tab.message().startswith("not promoted: --from-compare: ")
    assert expected in tab.message()
    assert tab.recipe_path.read_text(encoding="utf-8") == RECIPE
    assert not tab.recipe_path.with_name("widget.rollback.toml").exists()
    assert "model_promoted" not in tab.kinds() and tab.switched == []


def test_a_wrong_pin_changes_nothing_and_is_audited(tab_for: Any, compare_reports: Any) -> None:
    tab = tab_for((compare_reports["halved"], compare_reports["halved.onnx"]))
    tab.promoter.pins.set_first("13579")
    tab.answers.append(SUPERVISOR)  # 24680: not the PIN
    tab.click(tab.panel.btn_promote)
    tab.qtbot.waitUntil(lambda: "wrong PIN" in tab.message(), timeout=60000)
    assert not tab.asked[0][1]  # the PIN is set: asked once, not chosen
    assert tab.recipe_path.read_text(encoding="utf-8") == RECIPE
    assert tab.kinds()[-1] == "threshold_change_refused" and tab.switched == []


def test_cancelled_pick_or_dialog_does_nothing(tab_for: Any, compare_reports: Any) -> None:
    tab = tab_for(None)
    tab.click(tab.panel.btn_promote)
    assert tab.asked == [] and not tab.promoter.runner.running
    tab.panel.pick = lambda: (compare_reports["halved"], compare_reports["halved.onnx"])
    tab.answers.append(None)  # the supervisor cancels the confirmation
    tab.click(tab.panel.btn_promote)
    assert len(tab.asked) == 1
    assert tab.recipe_path.read_text(encoding="utf-8") == RECIPE and tab.switched == []


def test_the_report_names_its_candidate(compare_reports: Any, tmp_path: Path) -> None:
    assert candidate_named_in(compare_reports["halved"]) == compare_reports["halved.onnx"]
    (tmp_path / "r.json").write_text('{"candidate": {"model": "/nowhere.onnx"}}')
    assert candidate_named_in(tmp_path / "r.json") is None


def test_the_window_reopens_the_promoted_recipe(
    qtbot: Any, tmp_path: Path, compare_reports: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As File → Open recipe… does: a new window, running the candidate at its thresholds."""
    from PySide6.QtCore import QSettings

    from station.app_gui import StationApp
    from station.ui.tuning import TuningView

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # the PIN file goes here
    recipe = tmp_path / "widget.toml"
    recipe.write_text(RECIPE + '\n[camera]\nkind = "synthetic"\nseed = 1\n', encoding="utf-8")
    app = StationApp(
        db_path=tmp_path / "db.sqlite3",
        autostart=False,
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
        load_tuning_sample_at_start=False,
        tuning_cache_dir=tmp_path / "cache",
    )
    first = app.open(recipe)
    qtbot.addWidget(first)
    panel = first.findChild(TuningView).promote_panel
    panel.pick = lambda: (compare_reports["halved"], compare_reports["halved.onnx"])
    panel.ask = lambda summary, first_use, title, reason: SUPERVISOR
    panel.btn_promote.click()
    qtbot.waitUntil(lambda: app.window is not None and app.window is not first, timeout=60000)
    second = app.window
    qtbot.addWidget(second)
    assert first.vm.closed
    sha = sha256_file(compare_reports["halved.onnx"])
    assert second.vm.context.model.sha256 == sha
    assert not second.vm.thresholds_need_retuning  # bound to the candidate by the promotion
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        rows = conn.execute("SELECT kind, details FROM events ORDER BY id").fetchall()
    kinds = [k for k, _ in rows]
    promoted_at = kinds.index("model_promoted")
    assert "station_stopped" in kinds[promoted_at:]  # the old window closed its line and log
    loaded = [json.loads(d)["sha256"] for k, d in rows[promoted_at:] if k == "model_loaded"]
    assert loaded == [sha]
    second.close()


def test_one_writer_of_the_recipe_at_a_time(tab_for: Any, compare_reports: Any) -> None:
    """While a model change runs, no threshold apply; while an apply runs, no model change."""
    tab = tab_for((compare_reports["halved"], compare_reports["halved.onnx"]))
    view, panel = tab.view, tab.panel
    assert view.btn_apply.isEnabled()  # the recipe's thresholds are bound to no model
    tab.promoter.busy.emit(True, "checking the PIN")
    assert not view.btn_apply.isEnabled() and not view.btn_undo.isEnabled()
    tab.promoter.busy.emit(False, "")
    assert view.btn_apply.isEnabled()
    tab.vm.applier.busy.emit(True, "checking the PIN")
    assert not panel.btn_promote.isEnabled()
    tab.vm.applier.busy.emit(False, "")
    assert panel.btn_promote.isEnabled()
