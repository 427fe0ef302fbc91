"""One definition of every number: the same confirmed parts give the same escapes and scrap
in `station report --json`, the Shift tab, the tuning live estimate and `station evaluate`.

A real onnxruntime session (`onnx_graphs.channel_mean_model`) inspects real PNG parts of a
labeled sample; each part is logged through the real decision policy and confirmed by the
operator through the part view. Two parts arrive as corrupt frames: NO DECISION in the log,
unreadable images for `station evaluate`. A good part without a decision did not ship: it
is scrap everywhere.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_graphs import channel_mean_model

from station.cli import main
from station.core import outcomes
from station.core.decision import DecisionPolicy, Outcome, no_decision
from station.core.inspection import Inspection, threshold_set_id
from station.core.shifts import ShiftSchedule
from station.core.thresholds import ThresholdSet
from station.detectors.loading import load_detector
from station.storage.log import SqliteInspectionLog
from station.ui.tuning.tuning_vm import TuningViewModel
from station.ui.view_models.part_vm import PartDetailViewModel
from station.ui.view_models.shift_vm import ShiftViewModel
from station.ui.widgets.shift_panel import ShiftPanel

NAMES = ("red", "green", "blue")
SCHEDULE = ShiftSchedule("UTC")
THRESHOLD = 0.38
CORRUPT = {4, 6}  # part 4 is defective, part 6 good: both get NO DECISION
MARKED = {0, 5, 9}  # good parts with a green mark: confirmed "defective (green)", yet good


def write_sample(root: Path, n: int = 30) -> list[bool]:
    """Flat-colour parts, defective ones (label `red`) redder, overlapping enough to err."""
    rng = np.random.default_rng(7)
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    defective = []
    for i in range(n):
        bad = i % 3 == 1
        r = int(rng.integers(140, 256) if bad else rng.integers(40, 170))
        img = np.zeros((24, 24, 3), np.uint8)
        img[:] = (100, 100, r)  # BGR
        cv2.imwrite(str(root / "images" / f"{i:03d}.png"), img)
        mark = "1 0.5 0.5 0.2 0.2\n" if i in MARKED else ""  # green: a class that never rejects
        (root / "labels" / f"{i:03d}.txt").write_text("0 0.5 0.5 0.2 0.2\n" if bad else mark)
        defective.append(bad)
    (root / "data.yaml").write_text("nc: 3\nnames: [red, green, blue]\n")
    return defective


def log_and_confirm(
    db: Path, model: Path, sample: Path, defective: list[bool], tuning: TuningViewModel
) -> None:
    """Inspect every part with the real model, log it, then confirm it in the part view."""
    detector = load_detector(model)
    thresholds = ThresholdSet({"red": THRESHOLD}, 0.25, detector.info.sha256)
    policy = DecisionPolicy.build(thresholds, NAMES, ["red"])
    rows = []
    with SqliteInspectionLog(db, schedule=SCHEDULE) as log:
        log.register_thresholds(thresholds)
        now = time.time()
        for i in range(len(defective)):
            path = sample / "images" / f"{i:03d}.png"
            if i in CORRUPT:
                path.write_bytes(b"\x89PNG not really")  # what evaluate reads, too
                decision = no_decision("corrupt frame: not a PNG")
                maxima = np.full(len(NAMES), np.nan, np.float32)
            else:
                dets = detector.detect(cv2.imread(str(path), cv2.IMREAD_COLOR))
                decision = policy.decide(dets)
                maxima = dets.max_score_per_class(len(NAMES))
            rows.append(
                log.record(
                    Inspection(
                        time_utc=now,
                        station_id="st-1",
                        product="widget",
                        sequence=i,
                        decision=decision,
                        class_names=NAMES,
                        max_scores=maxima,
                        threshold_set_id=threshold_set_id(thresholds),
                        model_sha256=detector.info.sha256,
                        latency_ms=1.0,
                        shift_id=SCHEDULE.shift_at(now).id,
                        extra=outcomes.reject_classes_note(NAMES, policy.rejecting),  # as logged
                    )
                )
            )
        part_view = PartDetailViewModel(db, confirm_sink=log)
        part_view.part_confirmed.connect(tuning.monitor.on_part_confirmed)
        said: list[str] = []
        part_view.confirmed.connect(said.append)
        for i, (row, bad) in enumerate(zip(rows, defective, strict=True)):
            part_view.load(row)
            if bad:
                part_view.confirm_defective("red")
            elif i in MARKED:
                part_view.confirm_defective("green")  # the operator's words; green ships
                assert said[-1].endswith("green does not reject under this recipe, counted as good")
            else:
                part_view.confirm_good()


def test_every_view_counts_the_same_escapes_and_scrap(
    qtbot, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    model = channel_mean_model(tmp_path / "colour.onnx", names=repr(dict(enumerate(NAMES))))
    sample = tmp_path / "sample"
    defective = write_sample(sample)
    db = tmp_path / "log.sqlite3"
    tuning = TuningViewModel(NAMES, ThresholdSet({"red": THRESHOLD}), "sha", ["red"])
    log_and_confirm(db, model, sample, defective, tuning)

    # station report --json
    assert main(["report", "--db", str(db), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (shift,) = doc["shifts"]
    report = shift["confirmed"]
    assert shift["no_decision"] == 2

    # station evaluate on the same parts (labels as confirmed, the corrupt frames unreadable)
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(model),
                "--data",
                str(sample),
                "--thresholds",
                json.dumps({"red": THRESHOLD}),
                "--reject-classes",
                "red",
                "--cache-dir",
                str(tmp_path / "cache"),
                "--json",
            ]
        )
        == 0
    )
    evaluated = json.loads(capsys.readouterr().out)

    # the Shift tab
    shift_vm = ShiftViewModel(db, SCHEDULE, refresh_s=3600)
    try:
        panel = ShiftPanel(shift_vm)
        qtbot.addWidget(panel)
        qtbot.waitUntil(lambda: shift_vm.summary is not None, timeout=10000)
        tab = {k: int(panel.values[k].text()) for k in ("escapes", "scrap")}
    finally:
        shift_vm.close()

    live = tuning.live.confirmed
    good_nd = sum(1 for i in CORRUPT if not defective[i])
    assert good_nd == 1 and report["scrap"] >= good_nd  # the good NO DECISION part is scrap
    assert (report["escapes"], report["scrap"]) == (tab["escapes"], tab["scrap"])
    assert (report["escapes"], report["scrap"]) == (live.escapes, live.scrap)
    assert (report["escapes"], report["scrap"]) == (
        evaluated["false_accepts"],
        evaluated["false_rejects"],
    )
    assert (report["defective"], report["good"]) == (
        evaluated["defective_parts"],
        evaluated["good_parts"],
    )
    assert report["escapes"] > 0 and report["scrap"] > good_nd  # the sample really errs
    assert "escape" in tuning.live_text() and f"{live.scrap} of {live.good}" in tuning.live_text()


@pytest.mark.parametrize(
    ("defective", "outcome", "escape", "scrap"),
    [
        (True, Outcome.PASS, True, False),
        (True, Outcome.REJECT, False, False),
        (True, Outcome.NO_DECISION, False, False),
        (False, Outcome.PASS, False, False),
        (False, Outcome.REJECT, False, True),
        (False, Outcome.NO_DECISION, False, True),  # held back: a good part scrapped
    ],
)
def test_the_counting_rule(defective: bool, outcome: Outcome, escape: bool, scrap: bool) -> None:
    shipped = outcomes.ships(outcome)
    assert outcomes.is_escape(defective, shipped) is escape
    assert outcomes.is_scrap(defective, shipped) is scrap
    t = outcomes.Tally()
    t.add_outcome(defective, outcome.value)
    assert (t.escapes, t.scrap, t.parts) == (int(escape), int(scrap), 1)


@pytest.mark.parametrize(
    ("defective", "before", "after", "words"),
    [
        (True, Outcome.PASS, Outcome.REJECT, "escape fixed"),
        (True, Outcome.REJECT, Outcome.PASS, "new escape"),
        (True, Outcome.PASS, Outcome.NO_DECISION, "escape fixed"),
        (False, Outcome.REJECT, Outcome.PASS, "scrap fixed"),
        (False, Outcome.PASS, Outcome.NO_DECISION, "new scrap"),
        (False, Outcome.REJECT, Outcome.NO_DECISION, "still held"),  # ships neither way
        (True, Outcome.NO_DECISION, Outcome.REJECT, "still held"),
    ],
)
def test_what_an_outcome_change_does(
    defective: bool, before: Outcome, after: Outcome, words: str
) -> None:
    effect = outcomes.change_effect(defective, outcomes.ships(before), outcomes.ships(after))
    assert effect == words
    t0, t1 = outcomes.Tally(), outcomes.Tally()
    t0.add_outcome(defective, before)
    t1.add_outcome(defective, after)
    moved = (t1.escapes - t0.escapes, t1.scrap - t0.scrap)
    assert (moved == (0, 0)) is (words == "still held")  # only "still held" moves no count


def test_a_part_without_a_decision_has_no_scores() -> None:
    old_log_row = np.full(3, -np.inf, np.float32)  # what logs stored before: "nothing detected"
    assert np.isnan(outcomes.decided_scores(Outcome.NO_DECISION, old_log_row)).all()
    assert (outcomes.decided_scores("PASS", old_log_row) == -np.inf).all()
    scores = np.array([[0.9, -np.inf], [np.nan, np.nan], [0.1, 0.2]], np.float32)
    held = outcomes.not_shipped(scores, np.array([0.5, 0.5], np.float32), [True, True])
    assert held.tolist() == [True, True, False]
    assert outcomes.outcome_of(scores[1], [0.5, 0.5], [True, True]) is Outcome.NO_DECISION


def test_the_part_view_reads_no_scores_for_a_part_without_a_decision(tmp_path: Path) -> None:
    """A log written before the rule stored -inf ("nothing detected") for such a part."""
    from storage_support import make_inspection

    from station.storage.opening import connect_reader
    from station.storage.queries import load_part

    db = tmp_path / "log.sqlite3"
    with SqliteInspectionLog(db) as log:
        outage = log.record(make_inspection(1, time.time(), nan=True))  # stores -inf maxima
        passed = log.record(make_inspection(2, time.time(), scores={}))
    conn = connect_reader(db)
    try:
        assert np.isnan(load_part(conn, db, outage).max_scores).all()
        assert (load_part(conn, db, passed).max_scores == -np.inf).all()
    finally:
        conn.close()
