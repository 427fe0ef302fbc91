"""Operator confirmations become a labeled ScoredSample for the tuning view."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest
from storage_support import CLASSES, MODEL, make_inspection

from station.core.errors import StationError
from station.core.metrics import confusion
from station.core.sample import ScoredSample
from station.core.thresholds import ThresholdSet
from station.storage.log import SqliteInspectionLog
from station.storage.samples import confirmed_sample


def test_confirmed_parts_become_a_scored_sample(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    now = time.time()
    with SqliteInspectionLog(db) as log:
        good = log.record(make_inspection(1, now, scores={"scratch": 0.3}))
        reject = log.record(
            make_inspection(2, now, scores={"crack": 0.8, "dent": 0.7}, image_seed=2)
        )
        escape = log.record(make_inspection(3, now, scores={"dent": 0.4}))
        unknown = log.record(make_inspection(4, now, scores={}))
        log.record(make_inspection(5, now, scores={"crack": 0.9}))  # never confirmed
        log.confirm(good, True, None, operator="a")
        log.confirm(good, False, None, operator="b")  # corrected: the latest wins
        log.confirm(reject, True, None, operator="a")  # the classes that rejected it
        log.confirm(escape, True, "dent", operator="a")
        log.confirm(unknown, True, None, operator="a")  # passed, class unknown: left out
    got = confirmed_sample(db)
    s = got.sample
    assert isinstance(s, ScoredSample)
    assert s.class_names == CLASSES and s.model_sha256 == MODEL
    assert got.row_ids == (good, reject, escape)
    assert s.part_ids == (f"log#{good}", f"log#{reject}", f"log#{escape}")
    np.testing.assert_array_equal(
        s.truth, [[False, False, False], [False, True, True], [False, False, True]]
    )
    assert s.scores[1, 1] == np.float32(0.8) and s.scores[0, 1] == -np.inf
    assert got.image_paths[0] is None and got.image_paths[1] is not None
    assert got.image_paths[1].is_file()
    assert got.skipped == {"defective, class not confirmed": 1}
    # the tuning maths runs on it as on any labeled sample
    rejecting = np.ones(3, bool)
    c = confusion(s, ThresholdSet({"dent": 0.3}, 0.5).vector(CLASSES), rejecting)
    assert (c.false_accepts, c.false_rejects) == (0, 0)
    c = confusion(s, ThresholdSet({"dent": 0.5}, 0.5).vector(CLASSES), rejecting)
    assert c.false_accepts == 1


def test_parts_without_a_decision_never_join_the_sample(tmp_path: Path) -> None:
    """A camera outage is not a run of clean parts: NO DECISION rows have no scores (old logs
    stored -inf for them, which read as "nothing detected")."""
    db = tmp_path / "log.sqlite3"
    now = time.time()
    with SqliteInspectionLog(db) as log:
        good = log.record(make_inspection(1, now, scores={"scratch": 0.3}))
        outage = [log.record(make_inspection(2 + i, now, nan=True)) for i in range(3)]
        log.confirm(good, False, None, operator="a")
        for row in outage:
            log.confirm(row, False, None, operator="a")
    got = confirmed_sample(db)
    assert got.row_ids == (good,)
    assert got.skipped == {"no decision (no scores)": 3}


def test_only_one_models_scores_are_mixed(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    with SqliteInspectionLog(db) as log:
        old = log.record(make_inspection(1, time.time(), scores={"crack": 0.9}))
        other = dataclasses.replace(make_inspection(2, time.time()), model_sha256="0" * 64)
        new = log.record(other)
        log.confirm(old, True, "crack", operator="a")
        log.confirm(new, False, None, operator="a")
    latest = confirmed_sample(db)
    assert latest.sample.model_sha256 == "0" * 64 and latest.row_ids == (new,)
    assert latest.skipped == {"scored by another model": 1}
    assert confirmed_sample(db, MODEL).row_ids == (old,)


def test_no_confirmations_is_a_user_error(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    with SqliteInspectionLog(db) as log:
        log.record(make_inspection(1, time.time()))
    with pytest.raises(StationError, match="no confirmed parts yet"):
        confirmed_sample(db)
