"""Samples: the shipped one written on first use, folders, switching without re-scoring."""

from __future__ import annotations

from pathlib import Path

import pytest
from tuning_support import keep, keeper  # noqa: F401 (keeper: autouse fixture)

from station.core.thresholds import ThresholdSet
from station.services.shipped_sample import shipped_sample_dir
from station.services.tuning_samples import SampleCatalog, SampleEntry
from station.synthetic.dataset import write_yolo_sample
from station.synthetic.line import CLASS_NAMES
from station.ui.tuning import TuningView, TuningViewModel

HEURISTIC = "heuristic:dark-blobs"


class CountingCatalog(SampleCatalog):
    """The real catalog; counts how many scoring jobs it had to build."""

    jobs = 0

    def job(self, entry):
        CountingCatalog.jobs += 1
        return super().job(entry)


def test_shipped_sample_scored_by_a_real_onnx_model_then_switching_never_rescans(
    qtbot, tmp_path: Path
) -> None:
    from onnx_graphs import write_yolov8_model

    from station.detectors import load_detector

    # A real ONNX session (YOLOv8 layout, the synthetic line's five classes) that reports a
    # 0.6 scratch and a 0.3 pit on every part.
    model = write_yolov8_model(
        tmp_path / "m.onnx", [(0, 0.6, (4, 4, 20, 20)), (1, 0.3, (30, 30, 40, 40))], CLASS_NAMES
    )
    det = load_detector(model)
    base = SampleCatalog.for_model(model, cache_dir=tmp_path, shipped=(6, 1001))
    catalog = CountingCatalog(base.score_folder, None, None, tmp_path, (6, 1001))
    names = det.info.class_names
    vm = TuningViewModel(names, ThresholdSet({}, 0.5, None), det.info.sha256, catalog=catalog)
    view = TuningView(vm)
    keep(vm, view)
    view.show()
    assert view.sample_combo.count() == 1
    assert view.sample_combo.itemText(0) == "shipped held-out sample (6 parts)"

    # Shown for the first time: the shipped sample is written and scored by itself.
    qtbot.waitUntil(lambda: vm.loaded is not None and not vm.runner.running, timeout=60000)
    folder = shipped_sample_dir(tmp_path, (6, 1001))
    assert (folder / "data.yaml").is_file() and len(list((folder / "images").iterdir())) == 6
    assert "6 parts" in view.sample_size.text()
    assert vm.loaded.sample.scores[:, 0].tolist() == pytest.approx([0.6] * 6)
    assert vm.loaded.image_paths[0].endswith(".png")

    other = tmp_path / "other"
    write_yolo_sample(other, 4, seed=5)
    entry = SampleEntry.folder(other)
    assert entry.display == "folder other (4 parts)"
    vm.load_sample(entry)
    qtbot.waitUntil(lambda: vm.loaded is not None and vm.loaded.sample.n_parts == 4, timeout=60000)
    qtbot.waitUntil(lambda: not vm.runner.running)
    assert view.sample_combo.count() == 2
    assert CountingCatalog.jobs == 2

    # Back to the shipped sample: no job, no model run.
    vm.load_sample(catalog.entries()[0])
    assert not vm.runner.running and vm.loaded.sample.n_parts == 6
    assert CountingCatalog.jobs == 2
    # A fresh session scores from the evaluation cache on disk (keyed by model hash).
    assert any((tmp_path / "scores").glob("*.npz"))
    vm.shutdown()


def test_heuristic_detector_on_a_folder_shows_the_reason_not_curves(qtbot, tmp_path: Path) -> None:
    """`heuristic:dark-blobs` reports 1.0 for whatever it finds: nothing to tune."""
    from station.detectors import load_detector

    folder = tmp_path / "blobs"
    write_yolo_sample(folder, 8, seed=3)
    # The heuristic has one class: relabel every defect as it.
    (folder / "data.yaml").write_text("names:\n  0: dark_blob\n")
    for lab in (folder / "labels").glob("*.txt"):
        lines = [ln.split(maxsplit=1) for ln in lab.read_text().splitlines() if ln.strip()]
        lab.write_text("".join(f"0 {rest}\n" for _, rest in lines))
    det = load_detector(HEURISTIC)
    catalog = SampleCatalog.for_model(HEURISTIC, cache_dir=tmp_path)
    vm = TuningViewModel(
        det.info.class_names, ThresholdSet({}, 0.5, None), det.info.sha256, catalog=catalog
    )
    view = TuningView(vm)
    keep(vm, view)
    vm.load_sample(SampleEntry.folder(folder))
    qtbot.waitUntil(lambda: vm.loaded is not None and not vm.runner.running, timeout=60000)
    assert view.plot.stack.currentWidget() is view.plot.problem
    text = view.plot.problem.text()
    assert "constant score ranks nothing" in text or "detected nothing" in text
    assert not view.btn_min_cost.isEnabled()
    vm.shutdown()


def test_a_bad_folder_says_why(qtbot, tmp_path: Path) -> None:
    base = SampleCatalog.for_model(HEURISTIC, cache_dir=tmp_path, shipped=(6, 1001))
    vm = TuningViewModel(("dark_blob",), ThresholdSet({}, 0.5, None), "x", catalog=base)
    view = TuningView(vm)
    keep(vm, view)
    (tmp_path / "empty").mkdir()
    vm.load_sample(SampleEntry.folder(tmp_path / "empty"))
    qtbot.waitUntil(lambda: "sample not loaded" in view.message.text(), timeout=30000)
    assert "images/" in view.message.text()
    vm.shutdown()


def test_operator_confirmed_parts_from_the_log(qtbot, tmp_path: Path) -> None:
    import time

    from storage_support import CLASSES, MODEL, make_inspection

    from station.storage.log import SqliteInspectionLog

    db = tmp_path / "log.sqlite3"
    now = time.time()
    with SqliteInspectionLog(db) as log:
        good = log.record(make_inspection(1, now, scores={"scratch": 0.3}))
        reject = log.record(make_inspection(2, now, scores={"crack": 0.8}, image_seed=2))
        escape = log.record(make_inspection(3, now, scores={"dent": 0.4}))
        log.confirm(good, False, None, operator="a")
        log.confirm(reject, True, None, operator="a")
        log.confirm(escape, True, "dent", operator="a")
    catalog = SampleCatalog.for_model(HEURISTIC, db_path=db, model_sha256=MODEL)
    vm = TuningViewModel(
        CLASSES, ThresholdSet({"crack": 0.5, "dent": 0.6}, 0.4, MODEL), MODEL, catalog=catalog
    )
    view = TuningView(vm, auto_load=False)
    keep(vm, view)
    entry = next(e for e in vm.sample_entries() if e.kind == "confirmed")
    vm.load_sample(entry)
    qtbot.waitUntil(lambda: vm.loaded is not None and not vm.runner.running, timeout=30000)
    assert vm.loaded.sample.n_parts == 3
    assert view.sample_size.text().endswith("3 parts (2 defective, 1 good)")
    # The dent escape shows at the saved thresholds (dent 0.4 < 0.6): 1 of 2 escape.
    assert view.escape_label.text().startswith("1 of 2 defective parts escape")
    # The size is now known in the chooser.
    assert any(
        view.sample_combo.itemText(i) == "operator-confirmed parts (3 parts)"
        for i in range(view.sample_combo.count())
    )
    # The rejected part's archived frame is its image.
    assert vm.loaded.image_paths[1] is not None and vm.loaded.image_paths[0] is None
