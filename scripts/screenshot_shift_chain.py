"""Screenshot of the Shift tab on a log edited after the fact (the audit-chain warning).

Writes a real log (a shift and a half of parts decided by the real decision
policy), flips one logged REJECT to PASS with the sqlite3 module as someone
with the sqlite3 shell would, opens the real Shift tab on it and saves
`widget.grab()`. Needs a display; on a headless machine:

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_shift_chain.py

Writes assets/shift_chain_broken.png (override with --out).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from station.core.decision import DecisionPolicy, no_decision
from station.core.detections import Detections
from station.core.inspection import Inspection, threshold_set_id
from station.core.shifts import ShiftSchedule
from station.core.thresholds import ThresholdSet
from station.storage.log import SqliteInspectionLog
from station.ui.view_models.part_vm import PartDetailViewModel
from station.ui.view_models.shift_vm import ShiftViewModel
from station.ui.widgets.shift_tab import ShiftTab

ROOT = Path(__file__).resolve().parent.parent
CLASSES = ("scratch", "crack", "dent")
THRESHOLDS = ThresholdSet({"crack": 0.5, "dent": 0.6}, 0.4, "f" * 64)
SCHEDULE = ShiftSchedule("Europe/Berlin")


def part(policy: DecisionPolicy, rng: np.random.Generator, seq: int, t: float) -> Inspection:
    """One part: mostly clean, now and then a defect or a camera hiccup."""
    n = int(rng.integers(0, 3))
    scores = rng.uniform(0.05, 0.98, n).astype(np.float32) ** 2
    dets = Detections(
        np.tile(np.array([[10, 10, 40, 40]], np.float32), (n, 1)),
        scores,
        rng.integers(0, len(CLASSES), n).astype(np.int64),
    )
    lost = rng.random() < 0.01
    decision = no_decision("camera lost: no frame within 2 s") if lost else policy.decide(dets)
    return Inspection(
        time_utc=t,
        station_id="line-3",
        product="widget",
        sequence=seq,
        decision=decision,
        class_names=CLASSES,
        max_scores=dets.max_score_per_class(len(CLASSES)),
        threshold_set_id=threshold_set_id(THRESHOLDS),
        model_sha256="f" * 64,
        latency_ms=4.5,
    )


def write_log(db: Path) -> int:
    """A log from the start of the previous shift to now; returns a logged REJECT's row id."""
    policy = DecisionPolicy.build(THRESHOLDS, CLASSES)
    rng = np.random.default_rng(7)
    now = time.time()
    start = SCHEDULE.shift_at(SCHEDULE.shift_at(now).start_utc - 1).start_utc
    with SqliteInspectionLog(db, schedule=SCHEDULE) as log:
        log.register_thresholds(THRESHOLDS)
        times = np.linspace(start, now - 1, 600)
        rows = [(log.record(p), p) for p in (part(policy, rng, i, t) for i, t in enumerate(times))]
    return next(row for row, p in rows if p.decision.outcome.value == "REJECT")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "assets" / "shift_chain_broken.png")
    args = ap.parse_args()
    app = QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "inspections.sqlite3"
        row = write_log(db)
        conn = sqlite3.connect(db)  # the edit: a rejected part now reads as passed
        conn.execute(f"UPDATE inspections SET outcome = 'PASS', reasons = '[]' WHERE id = {row}")
        conn.commit()
        conn.close()
        tab = ShiftTab(ShiftViewModel(db, SCHEDULE, refresh_s=3600), PartDetailViewModel(db))
        tab.resize(1500, 900)
        tab.show()
        saved: list[bool] = []

        def grab_when_read() -> None:
            vm = tab.shift_vm
            if vm.summary is None or vm.busy:
                QTimer.singleShot(100, grab_when_read)
                return
            saved.append(tab.grab().save(str(args.out)))
            app.quit()

        QTimer.singleShot(300, grab_when_read)
        QTimer.singleShot(30_000, app.quit)
        app.exec()
        tab.close_models()
    if not saved or not saved[0]:
        print(f"screenshot_shift_chain: no screenshot written to {args.out}", file=sys.stderr)
        return 1
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
