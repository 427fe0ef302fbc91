"""The tuning view's size controls (issue 12): editing one recomputes the sample's per-class
maxima from cached detections, and the figures shown equal `station evaluate`'s engine."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from tuning_support import keep, keeper  # noqa: F401 (keeper: autouse fixture)

from station.core import metrics
from station.core.sample import ScoredSample
from station.core.size_rules import SizeRules
from station.services.recipe_file import default_recipe_path, load_recipe
from station.services.tuning_samples import LoadedSample
from station.ui.tuning import TuningView, TuningViewModel
from station.ui.tuning.figures import escape_text, escapes_by_class_text, scrap_text


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    from station.detectors import load_detector
    from station.synthetic.dataset import write_yolo_sample

    recipe = load_recipe(default_recipe_path())
    if not recipe.model.path.exists():
        pytest.skip("models/defects.onnx is not built yet")
    root = tmp_path_factory.mktemp("tuning-size")
    write_yolo_sample(root / "s", 40, seed=4242)
    detector = load_detector(recipe.model.path)
    return recipe, detector, root


def make_view(scored: tuple, sample: ScoredSample | None = None, sizes: SizeRules | None = None):
    from station.evaluation import score_folder

    recipe, detector, root = scored
    paths: tuple[str | None, ...] = ()
    if sample is None:
        folder = score_folder(detector, root / "s", cache_dir=root / "c")
        sample, paths = folder.sample, tuple(str(p) for p in folder.yolo.image_paths)
    vm = TuningViewModel(
        detector.info.class_names,
        recipe.thresholds,
        detector.info.sha256,
        recipe.reject_classes,
        recipe.costs,
        size_rules=sizes,
    )
    vm.set_sample(LoadedSample("line", "folder", sample, paths))
    view = TuningView(vm, auto_load=False)
    keep(vm, view)
    view.resize(1500, 950)  # as scripts/screenshot_tuning.py
    view.show()
    return vm, view


def test_a_size_control_recomputes_the_maxima_as_evaluate_does(qtbot, scored) -> None:
    from station.evaluation import score_folder

    _recipe, detector, root = scored
    vm, view = make_view(scored)
    before = vm.last_figures
    spin = view.size_controls["pit"].spins["min_length"]
    spin.setValue(30)  # keyboard tracking off: one recompute per edit
    assert vm.sizes.min_length == {"pit": 30.0}
    rules = SizeRules(min_length={"pit": 30.0})
    expected = score_folder(detector, root / "s", cache_dir=root / "c", size_rules=rules).sample
    assert vm.loaded is not None
    np.testing.assert_array_equal(vm.loaded.sample.scores, expected.scores)
    conf = metrics.confusion(expected, vm.vector(vm.dragged), vm.rejecting)
    assert view.escape_label.text() == escape_text(conf.far)
    assert view.scrap_label.text() == scrap_text(conf.frr)
    assert vm.last_figures != before
    assert "color: #b35c00" in spin.styleSheet()  # differs from the recipe's (none)
    # Applying thresholds tuned under sizes the recipe lacks would make FAR/FRR untrue.
    assert not vm.apply("sup", "1234", "try")
    assert "size rules the recipe does not have" in view.message.text()
    assert view.figures.per_class_label.text() == escapes_by_class_text(conf)
    assert view.btn_revert.isEnabled() and not view.btn_apply.isEnabled()  # no changer
    shown: list[object] = []
    vm.point_moved.connect(shown.append)
    vm.revert()
    assert len(shown) == 1  # counted once: at the saved set, under the recipe's size rules
    assert not view.btn_revert.isEnabled()
    assert vm.sizes == SizeRules() and spin.value() == 0.0 and spin.text() == "any"
    np.testing.assert_array_equal(vm.loaded.sample.scores, vm.loaded.sample.unsized_scores)
    if os.environ.get("STATION_SCREENSHOTS"):  # docs: the tab with a size control in use
        spin.setValue(30)
        qtbot.wait(500)  # the changed-parts strip is rebuilt and its thumbnails load
        view.grab().save(str(Path(os.environ["STATION_SCREENSHOTS"]) / "tuning_size.png"))


def test_the_recipe_rules_apply_when_the_sample_loads(qtbot, scored) -> None:
    recipe = load_recipe(default_recipe_path())
    rules = SizeRules(min_length={"pit": 30.0})
    vm, view = make_view(scored, sizes=rules)
    assert view.size_controls["pit"].spins["min_length"].value() == 30.0
    assert vm.loaded is not None
    assert vm.loaded.sample.size_rules == rules
    assert vm.apply_summary()  # unchanged sizes: an apply is not refused for them
    assert recipe.size_rules == SizeRules()


def test_a_log_sample_greys_the_size_controls_saying_why(qtbot, scored) -> None:
    from station.evaluation import score_folder

    _recipe, detector, root = scored
    full = score_folder(detector, root / "s", cache_dir=root / "c").sample
    logged = ScoredSample(
        full.class_names, full.scores, full.truth, full.part_ids, full.model_sha256
    )
    vm, view = make_view(scored, logged, SizeRules(min_length={"pit": 30.0}))
    ctrl = view.size_controls["pit"]
    assert not ctrl.isEnabled() and "from logs" in ctrl.toolTip()
    vm.set_size_rule("pit", "min_length", 5.0)
    assert vm.sizes.min_length == {"pit": 30.0}  # unchanged, and said so
    assert "size rules not changed" in view.message.text()
    assert vm.loaded is not None
    np.testing.assert_array_equal(vm.loaded.sample.scores, full.scores)  # as logged
