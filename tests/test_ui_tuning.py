"""The tuning view: sliders drive the numbers, which must equal the core's."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from tuning_support import keep, keeper  # noqa: F401 (keeper: autouse fixture)

from station.core import costs, metrics
from station.core.costs import Costs
from station.core.sample import ScoredSample
from station.core.sweep import sweep_class
from station.core.thresholds import ThresholdSet
from station.services.tuning_samples import LoadedSample, benchmark_matrix
from station.ui.tuning import TuningView, TuningViewModel
from station.ui.tuning.figures import DEFAULT_KEY, escape_text, scrap_text

SHA = "a" * 64


@pytest.fixture
def matrix() -> LoadedSample:
    return benchmark_matrix(3000, 5, seed=7, model_sha256=SHA)


def make_view(qtbot, loaded: LoadedSample, saved: ThresholdSet | None = None, **kw):
    names = loaded.sample.class_names
    saved = saved or ThresholdSet({n: 0.5 for n in names}, 0.25, SHA)
    vm = TuningViewModel(names, saved, SHA, costs=kw.pop("costs", Costs(50.0, 2.0, 0.05)), **kw)
    vm.set_sample(loaded)
    view = TuningView(vm)
    keep(vm, view)
    view.resize(1300, 850)
    view.show()
    return vm, view


def core_numbers(vm: TuningViewModel) -> tuple[metrics.Confusion, costs.CostEstimate]:
    assert vm.loaded is not None
    conf = metrics.confusion(vm.loaded.sample, vm.vector(vm.dragged), vm.rejecting)
    return conf, costs.expected_cost(conf, vm.costs.escape, vm.costs.scrap)


def assert_shown_equals_core(vm: TuningViewModel, view: TuningView) -> None:
    conf, cost = core_numbers(vm)
    assert view.escape_label.text() == escape_text(conf.far)
    assert view.scrap_label.text() == scrap_text(conf.frr)
    assert f"{cost.per_1000_parts:,.1f} per 1,000 parts" in view.cost_label.text()


def test_keyboard_and_setvalue_drive_the_numbers(qtbot, matrix) -> None:
    vm, view = make_view(qtbot, matrix)
    assert_shown_equals_core(vm, view)
    s = view.sliders["class2"].slider
    s.setFocus()
    for _ in range(7):
        qtbot.keyClick(s, Qt.Key.Key_Left)  # 0.50 -> 0.43
    assert vm.threshold("class2") == pytest.approx(0.43)
    assert view.sliders["class2"].value_label.text() == "0.43"
    assert view.sliders["class2"].saved_label.text() == "saved 0.50 *"
    assert_shown_equals_core(vm, view)
    qtbot.keyClick(s, Qt.Key.Key_PageUp)  # +0.10
    assert vm.threshold("class2") == pytest.approx(0.53)
    assert_shown_equals_core(vm, view)
    view.sliders["class0"].slider.setValue(12)
    assert vm.threshold("class0") == pytest.approx(0.12)
    assert vm.selected == "class0"
    assert_shown_equals_core(vm, view)
    # The text reads like the spec: "N of M defective parts escape: x% (lo–hi%)".
    conf, _ = core_numbers(vm)
    assert view.escape_label.text().startswith(
        f"{conf.false_accepts} of {conf.defective_parts} defective parts escape: "
    )


def test_default_slider_moves_only_unlisted_classes(qtbot, matrix) -> None:
    names = matrix.sample.class_names
    saved = ThresholdSet({names[0]: 0.5}, 0.25, SHA)  # the others use the default
    vm, view = make_view(qtbot, matrix, saved)
    view.sliders[DEFAULT_KEY].slider.setValue(60)
    assert vm.dragged.default_threshold == pytest.approx(0.6)
    assert vm.vector(vm.dragged).tolist() == pytest.approx([0.5, 0.6, 0.6, 0.6, 0.6])
    assert vm.selected in names[1:]
    assert_shown_equals_core(vm, view)


def test_changed_parts_match_brute_force(qtbot, matrix) -> None:
    vm, view = make_view(qtbot, matrix)
    view.sliders["class1"].slider.setValue(30)
    view.sliders["class3"].slider.setValue(80)
    s = matrix.sample
    t_saved, t_now = vm.vector(vm.saved), vm.vector(vm.dragged)
    before = ((s.scores >= t_saved) & vm.rejecting).any(axis=1)
    now = ((s.scores >= t_now) & vm.rejecting).any(axis=1)
    f = vm.last_figures
    assert f is not None
    assert f.changed.newly_rejected.tolist() == np.flatnonzero(now & ~before).tolist()
    assert f.changed.newly_passed.tolist() == np.flatnonzero(~now & before).tolist()
    assert f.changed.caught == int((now & ~before & s.defective).sum())
    view.changed.flush()
    assert view.changed.list.count() == min(24, f.changed.total)
    assert f"{f.changed.total} parts change outcome" in view.changed.summary.text()
    # Moving back to the saved value: nothing changes any more.
    view.sliders["class1"].slider.setValue(50)
    view.sliders["class3"].slider.setValue(50)
    assert vm.last_figures is not None and vm.last_figures.changed.total == 0


def test_curves_follow_the_selected_class_and_ranges_do_not_jump(qtbot, matrix) -> None:
    vm, view = make_view(qtbot, matrix)
    view.sliders["class4"].slider.setValue(40)
    xr, yr = view.plot.rates.viewRange()
    hist_range = view.plot.hist.viewRange()
    assert "class4" in view.plot.rates.titleLabel.text
    sweep = sweep_class(matrix.sample, vm.vector(vm.dragged), vm.rejecting, 4)
    _x, y = view.plot.c_far.getData()
    assert np.allclose(y, sweep.far, equal_nan=True)
    assert view.plot.h_line.value() == pytest.approx(0.40)
    view.sliders["class4"].slider.setValue(70)
    assert view.plot.rates.viewRange() == [xr, yr]
    assert view.plot.hist.viewRange() == hist_range
    assert view.plot.h_line.value() == pytest.approx(0.70)
    far_pt = view.plot.far_point.xy[1]
    assert far_pt == pytest.approx(vm.last_figures.far)


def test_min_cost_recommendation_moves_sliders_without_echo(qtbot) -> None:
    loaded = benchmark_matrix(800, 3, seed=3, model_sha256=SHA)
    vm, view = make_view(qtbot, loaded)
    moved: list[tuple[str, float]] = []
    for s in view.sliders.values():
        s.moved.connect(lambda k, v: moved.append((k, v)))
    view.btn_min_cost.click()
    qtbot.waitUntil(lambda: "Minimum cost" in view.message.text(), timeout=20000)
    assert moved == []  # programmatic moves never echo as user drags
    for n in loaded.sample.class_names:
        assert view.sliders[n].value() == pytest.approx(vm.threshold(n))
    assert "\n" not in view.message.text()
    assert "search reported" not in view.message.text()  # shown = the core's optimum
    assert_shown_equals_core(vm, view)
    conf, _ = core_numbers(vm)
    assert f"{conf.false_accepts} escapes and {conf.false_rejects} scrapped" in view.message.text()


def test_closing_during_a_search_cancels_it(qtbot) -> None:
    """A big multi-class search is cancelled at its next progress report: the window never
    waits for it to finish, and the sliders stay where they were."""
    loaded = benchmark_matrix(60000, 8, seed=11, model_sha256=SHA)
    vm, view = make_view(qtbot, loaded)
    progress: list[tuple[int, int]] = []
    vm.progress.connect(lambda d, t: progress.append((d, t)))
    before = vm.dragged
    view.btn_min_cost.click()
    assert vm.rec_runner.running
    qtbot.waitUntil(lambda: bool(progress), timeout=60000)  # the search says how far it is
    vm.shutdown()
    assert not vm.rec_runner.running
    qtbot.wait(50)  # a result queued meanwhile is dropped, never applied
    assert vm.dragged == before and "Minimum cost" not in view.message.text()


def test_the_cancel_button_stops_a_search(qtbot) -> None:
    loaded = benchmark_matrix(60000, 8, seed=11, model_sha256=SHA)
    vm, view = make_view(qtbot, loaded)
    before = vm.dragged
    view.btn_min_cost.click()
    assert view.btn_cancel.isVisible() and view.progress.isVisible()
    view.btn_cancel.click()
    qtbot.waitUntil(lambda: "cancelled" in view.message.text(), timeout=60000)
    assert not vm.rec_runner.running and vm.dragged == before
    assert not view.btn_cancel.isVisible() and not view.progress.isVisible()


def test_escape_cap_unmet_on_a_small_sample_says_so(qtbot) -> None:
    loaded = benchmark_matrix(300, 3, seed=5, model_sha256=SHA)
    vm, view = make_view(qtbot, loaded, costs=Costs(50.0, 2.0, 0.005))
    before = vm.dragged
    view.btn_cap.click()
    qtbot.waitUntil(lambda: "no recommendation" in view.message.text(), timeout=20000)
    assert "too small" in view.message.text() or "no thresholds meet" in view.message.text()
    assert vm.dragged == before


def test_constant_score_detector_shows_the_reason_not_curves(qtbot) -> None:
    n = 60
    truth = np.zeros((n, 2), dtype=bool)
    truth[:20, 0] = True
    scores = np.full((n, 2), -np.inf, dtype=np.float32)
    scores[:30, 0] = 1.0  # a heuristic: found or not, always 1.0
    scores[40:45, 1] = 1.0
    sample = ScoredSample(("dark_blob", "other"), scores, truth, [f"p{i}" for i in range(n)], SHA)
    vm, view = make_view(qtbot, LoadedSample("heuristic:dark-blobs", "matrix", sample))
    assert view.plot.stack.currentWidget() is view.plot.problem
    assert "constant score ranks nothing" in view.plot.problem.text()
    assert not view.btn_min_cost.isEnabled() and not view.btn_cap.isEnabled()
    # The figures themselves are still honest counts.
    assert_shown_equals_core(vm, view)


def test_foreign_model_hash_shows_a_banner(qtbot, matrix) -> None:
    names = matrix.sample.class_names
    other = ThresholdSet({n: 0.5 for n in names}, 0.25, "b" * 64)
    _vm, view = make_view(qtbot, matrix, other)
    assert not view.banner.isHidden()
    assert "re-tuning" in view.banner.text() and "bbbbbbbbbbbb" in view.banner.text()
    _vm2, view2 = make_view(qtbot, matrix)
    assert view2.banner.isHidden()


def test_operator_without_changer_can_drag_but_not_apply(qtbot, matrix) -> None:
    vm, view = make_view(qtbot, matrix)
    view.sliders["class0"].slider.setValue(20)
    assert not view.btn_apply.isEnabled()
    assert not vm.apply("op", "1234", "try")
    assert vm.saved.threshold_for("class0") == 0.5


def test_part_detail_shows_image_boxes_and_scores(qtbot, tmp_path) -> None:
    from station.synthetic.dataset import write_yolo_sample
    from station.synthetic.line import CLASS_NAMES

    write_yolo_sample(tmp_path, 6, seed=11)
    labels = sorted((tmp_path / "labels").glob("*.txt"))
    images = sorted((tmp_path / "images").glob("*.png"))
    truth = np.zeros((6, len(CLASS_NAMES)), dtype=bool)
    for i, lab in enumerate(labels):
        for line in lab.read_text().splitlines():
            truth[i, int(line.split()[0])] = True
    rng = np.random.default_rng(0)
    scores = np.where(truth, 0.8, rng.uniform(0.05, 0.45, truth.shape)).astype(np.float32)
    sample = ScoredSample(CLASS_NAMES, scores, truth, [p.stem for p in images], SHA)
    loaded = LoadedSample(
        "six parts", "folder", sample, tuple(map(str, images)), tuple(map(str, labels))
    )
    vm, view = make_view(qtbot, loaded)
    view.sliders["scratch"].slider.setValue(1)  # now every part is rejected by scratch
    view.changed.flush()
    assert view.changed.list.count() > 0
    item = view.changed.list.item(0)
    caption = item.text().splitlines()[1]  # every part is rejected now: right or a new scrap
    assert caption in ("escape fixed", "new scrap")
    from station.ui.tuning.changed_parts import BETTER_COLOR, WORSE_COLOR

    colour = BETTER_COLOR if caption == "escape fixed" else WORSE_COLOR
    assert item.foreground().color() == colour
    view.changed._open(item)
    dlg = view.changed.last_dialog
    i = int(item.data(Qt.ItemDataRole.UserRole))
    d = vm.part_detail(i)
    assert d.dragged_outcome == "REJECT"
    assert dlg.table.rowCount() == len(CLASS_NAMES)
    assert dlg.table.item(0, 1).text() == f"{scores[i, 0]:.3f}"
    assert len(d.truth_boxes) == int(truth[i].sum()) or not truth[i].any()
    assert not view.changed._thumbs[i].isNull()
    dlg.close()


def _inspection(seq: int, scores, truth: bool | None, outcome, shift: str = "s1"):
    from station.core.decision import Decision, RejectReason
    from station.core.inspection import Inspection

    reasons = (RejectReason("class0", 0.9, 0.5),) if outcome.value == "REJECT" else ()
    return Inspection(
        time_utc=1000.0 + seq,
        station_id="st",
        product="p",
        sequence=seq,
        decision=Decision(outcome, reasons),
        class_names=tuple(f"class{c}" for c in range(5)),
        max_scores=np.asarray(scores, dtype=np.float32),
        threshold_set_id="x",
        model_sha256=SHA,
        latency_ms=1.0,
        truth_defective=truth,
        shift_id=shift,
    )


def test_live_estimate_and_drift_alarm(qtbot, matrix) -> None:
    from station.core.decision import Outcome
    from station.core.drift import MIN_LIVE_PARTS

    vm, view = make_view(qtbot, matrix)
    # Synthetic line truth: 2 defective parts (1 passed = an escape), 3 good (1 rejected).
    parts = [
        (True, Outcome.PASS),
        (True, Outcome.REJECT),
        (False, Outcome.PASS),
        (False, Outcome.PASS),
        (False, Outcome.REJECT),
    ]
    ref = matrix.sample.scores
    for i, (truth, outcome) in enumerate(parts):
        vm.monitor.on_part(_inspection(i, ref[i], truth, outcome))
    text = view.live_label.text()
    assert "1 of 2 defective parts escape: 50.0%" in text
    assert "1 of 3 good parts scrapped: 33.3%" in text
    vm.monitor.on_confirmation(True, True)
    assert "Operator-confirmed parts:\n1 of 1 defective parts escape" in view.live_label.text()
    # A new shift starts afresh.
    vm.monitor.on_part(_inspection(99, ref[5], None, Outcome.PASS, shift="s2"))
    assert "no parts with known truth" in view.live_label.text()

    # Live scores like the sample's: no alarm. Then class2's scores all move up: alarm.
    for i in range(MIN_LIVE_PARTS):
        vm.monitor.live_scores(ref[i])
    rep = vm.monitor.drift_report()
    assert rep is not None and not rep.alarm
    for i in range(MIN_LIVE_PARTS * 2):
        row = ref[i].copy()
        row[2] = 0.95
        vm.monitor.live_scores(row)
    rep = vm.monitor.drift_report()
    assert rep is not None and rep.alarm
    assert "class2" in view.drift_label.text() and "may no longer mean" in view.drift_label.text()


def test_changed_parts_say_whether_each_change_is_right() -> None:
    """In `station compare`'s words; the strip colours the right changes green, the wrong red."""
    from station.ui.tuning.figures import change_words

    assert change_words(now_rejected=True, defective=True) == ("escape fixed", True)
    assert change_words(now_rejected=True, defective=False) == ("new scrap", False)
    assert change_words(now_rejected=False, defective=True) == ("new escape", False)
    assert change_words(now_rejected=False, defective=False) == ("scrap fixed", True)
