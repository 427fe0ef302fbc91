"""Shadow mode on the live line: a candidate (the shipped model with its scores halved,
tests/model_variants.py) judges every part after production, with its own thresholds.

Real onnxruntime sessions, real SQLite logs, the real CLI for the recipe refusals and
`station report --json`. The shadow counts are checked against the log's rows,
computed here by a query of their own.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from station.app import compose, worker_setup
from station.core.detections import Detections
from station.core.ports import ModelInfo
from station.core.shadow import KEYS, ShadowCounts
from station.pipeline.headless import HeadlessRunner
from station.services.recipe_file import default_recipe_path, load_recipe
from tests.fast_line_support import fast_line, line_recipe
from tests.model_variants import SHIPPED, scaled_scores

ROOT = Path(__file__).resolve().parent.parent
FAST_LINE = fast_line(seed=3)


def shadow_recipe(tmp_path: Path, shadow: str) -> Path:
    """The shipped recipe on a fast synthetic line, with `shadow` appended (its own table)."""
    return line_recipe(tmp_path, FAST_LINE, shadow)


def halved(tmp_path: Path) -> tuple[Path, str]:
    import hashlib

    path = scaled_scores(tmp_path / "candidate.onnx", [0.5] * 5)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def shadow_table(sha: str, thresholds: dict[str, float]) -> str:
    classes = "\n".join(f"{k} = {v}" for k, v in thresholds.items())
    return (
        f'[shadow]\nmodel = "candidate.onnx"\ndefault = 0.25\n'
        f'tuned_on_model_sha256 = "{sha}"\n\n[shadow.classes]\n{classes}\n'
    )


# The production thresholds (not halved): the candidate passes parts production rejects.
UNMOVED = dict(load_recipe(default_recipe_path()).thresholds.class_thresholds)


def log_counts(db: Path) -> tuple[ShadowCounts, int]:
    """The shadow counts straight from the log's rows, and the number of parts logged."""
    conn = sqlite3.connect(db)
    try:
        counts = ShadowCounts()
        for production, shadow in conn.execute(
            "SELECT i.outcome, s.outcome FROM inspections i JOIN shadow_results s "
            "ON s.inspection_id = i.id"
        ):
            counts = counts.add(production, shadow)
        (parts,) = conn.execute("SELECT count(*) FROM inspections").fetchone()
    finally:
        conn.close()
    return counts, int(parts)


def report_json(db: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "station", "report", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(done.stdout))


def run_parts(recipe: Path, db: Path, parts: int, slow_s: float = 0.0, queue: int = 2) -> Any:
    station = compose(recipe, db, headless=True)
    assert station.shadow is not None
    shadow = replace(station.shadow, queue_parts=queue)
    if slow_s:
        shadow = replace(shadow, detector=SlowDetector(shadow.detector, slow_s))
    station = replace(station, shadow=shadow)
    return HeadlessRunner(worker_setup(station), max_parts=parts).run()


class SlowDetector:
    """The real candidate, made slower than production by a sleep before each frame."""

    def __init__(self, inner: Any, delay_s: float) -> None:
        self._inner, self._delay_s = inner, delay_s

    @property
    def info(self) -> ModelInfo:
        return self._inner.info  # type: ignore[no-any-return]

    def detect(self, frame: npt.NDArray[np.uint8]) -> Detections:
        time.sleep(self._delay_s)
        return self._inner.detect(frame)  # type: ignore[no-any-return]


def test_report_shadow_counts_equal_the_log(tmp_path: Path) -> None:
    _, sha = halved(tmp_path)
    recipe = shadow_recipe(tmp_path, shadow_table(sha, UNMOVED))
    db = tmp_path / "log.sqlite3"
    summary = run_parts(recipe, db, 40, queue=64)  # a queue the line cannot fill: no skips
    counts, logged = log_counts(db)
    assert logged == summary.inspected == 40
    assert counts.parts + counts.skipped == 40
    assert counts.skipped == 0
    assert counts.now_rejected_would_pass > 0  # halved scores, unmoved thresholds
    assert counts.now_passed_would_reject == 0
    doc = report_json(db)
    assert list(doc["shadow"]) == list(KEYS)
    assert doc["shadow"] == counts.as_dict()
    assert sum(s["shadow"]["parts"] for s in doc["shifts"]) == counts.parts


def test_halved_thresholds_for_halved_scores_agree(tmp_path: Path) -> None:
    _, sha = halved(tmp_path)
    table = shadow_table(sha, {k: v / 2 for k, v in UNMOVED.items()})
    db = tmp_path / "log.sqlite3"
    run_parts(shadow_recipe(tmp_path, table), db, 30, queue=64)
    counts, _ = log_counts(db)
    assert counts.parts == 30
    assert counts.agree >= 28  # the same decisions, up to float rounding at a threshold


def test_a_slow_candidate_skips_parts_and_production_logs_every_part(tmp_path: Path) -> None:
    _, sha = halved(tmp_path)
    recipe = shadow_recipe(tmp_path, shadow_table(sha, UNMOVED))
    db = tmp_path / "log.sqlite3"
    summary = run_parts(recipe, db, 30, slow_s=0.5, queue=1)
    counts, logged = log_counts(db)
    assert logged == summary.inspected == 30  # every production part committed
    assert counts.skipped > 0
    assert counts.parts + counts.skipped == 30
    assert summary.elapsed_s < 30 * 0.5  # production did not wait for the candidate
    assert report_json(db)["shadow"] == counts.as_dict()


def test_disagreements_of_passed_parts_keep_their_frame(tmp_path: Path) -> None:
    """The candidate rejecting what production passes: the frame joins the archive."""
    _, sha = halved(tmp_path)
    table = shadow_table(sha, {k: 0.0 for k in UNMOVED})  # rejects every part
    db = tmp_path / "log.sqlite3"
    run_parts(shadow_recipe(tmp_path, table), db, 12, queue=64)
    counts, _ = log_counts(db)
    assert counts.now_passed_would_reject > 0
    conn = sqlite3.connect(db)
    missing = conn.execute(
        "SELECT count(*) FROM inspections i JOIN shadow_results s ON s.inspection_id = i.id "
        "WHERE i.outcome = 'PASS' AND s.outcome = 'REJECT' AND i.image_path IS NULL"
    ).fetchone()[0]
    conn.close()
    assert missing == 0
    done = subprocess.run(
        [sys.executable, "-m", "station", "audit", "verify", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ('[shadow]\ndefault = 0.3\n', "shadow.model"),
        ('[shadow]\nmodel = "candidate.onnx"\ndefault = 1.5\n', "shadow.default"),
        ('[shadow]\nmodel = "candidate.onnx"\n[shadow.classes]\nscratch = -1\n', "shadow.classes"),
        ('[shadow]\nmodel = "candidate.onnx"\nthreshold = 0.3\n', "shadow.threshold"),
        ('[shadow]\nmodel = "candidate.onnx"\n[shadow.classes]\nsmudge = 0.3\n', "shadow.classes"),
        (f'[shadow]\nmodel = "candidate.onnx"\ntuned_on_model_sha256 = "{"0" * 64}"\n',
         "shadow.tuned_on_model_sha256"),
        ('[shadow]\nmodel = "nowhere.onnx"\n', "shadow.model"),
    ],
)  # fmt: skip
def test_a_bad_shadow_table_is_refused_in_one_line(tmp_path: Path, table: str, field: str) -> None:
    halved(tmp_path)
    recipe = shadow_recipe(tmp_path, table)
    db = tmp_path / "log.sqlite3"
    done = subprocess.run(
        [sys.executable, "-m", "station", "run", "--headless", "--recipe", str(recipe),
         "--db", str(db), "--parts", "1"],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(recipe) in lines[0] and field in lines[0], lines[0]
    assert not db.exists()


def test_confirmed_disagreements_become_a_sample_compare_reads(tmp_path: Path) -> None:
    from station.services.recipe_file import load_recipe
    from station.storage.log import SqliteInspectionLog
    from station.storage.shadow import disagreeing_rows

    candidate, sha = halved(tmp_path)
    recipe = shadow_recipe(tmp_path, shadow_table(sha, UNMOVED))
    db = tmp_path / "log.sqlite3"
    run_parts(recipe, db, 40, queue=64)
    rows = sorted(disagreeing_rows(db))
    assert len(rows) >= 2
    log = SqliteInspectionLog(db, schedule=load_recipe(recipe).shifts)
    try:
        for k, row_id in enumerate(rows):  # half really good, half really defective
            log.confirm(row_id, k % 2 == 1, None, "ana")
        log.confirm(1, False, None, "ana")  # a part both models agreed on: not exported
    finally:
        log.close()
    out = tmp_path / "sample"
    done = subprocess.run(
        [sys.executable, "-m", "station", "export-confirmed", str(out), "--db", str(db),
         "--shadow"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    labels = sorted((out / "labels").glob("*.txt"))
    assert [p.stem for p in labels] == sorted(f"log-{r}" for r in rows)
    defective = sum(1 for p in labels if p.read_text().strip())
    assert defective == len(rows) // 2
    assert f"wrote {len(rows)} confirmed parts ({defective} defective" in done.stdout
    compared = subprocess.run(
        [sys.executable, "-m", "station", "compare", "--current", str(SHIPPED),
         "--candidate", str(candidate), "--data", str(out), "--json", "--no-cache"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    doc = json.loads(compared.stdout)
    assert doc["verdict"] in ("better", "equivalent", "worse")
    again = subprocess.run(
        [sys.executable, "-m", "station", "export-confirmed", str(out), "--db", str(db)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0 and str(out) in again.stderr


def run_headless(recipe: Path, db: Path, parts: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station", "run", "--headless", "--recipe", str(recipe),
         "--db", str(db), "--parts", str(parts), "--json"],
        capture_output=True, text=True, timeout=180, check=False, cwd=ROOT,
    )  # fmt: skip


def test_headless_json_and_status_line_carry_the_shadow_counts(tmp_path: Path) -> None:
    """`"shadow"` follows the contract's keys (as `"plc"` does), equal to the log's rows."""
    from tests.test_headless import SUMMARY_KEYS

    _, sha = halved(tmp_path)
    recipe = shadow_recipe(tmp_path, shadow_table(sha, UNMOVED))
    db = tmp_path / "log.sqlite3"
    done = run_headless(recipe, db, 20)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert list(summary) == [*SUMMARY_KEYS, "shadow"]
    assert list(summary["shadow"]) == list(KEYS)
    counts, logged = log_counts(db)
    assert logged == summary["inspected"] == 20
    assert summary["shadow"] == counts.as_dict()
    assert counts.parts + counts.skipped == 20
    status = [ln for ln in done.stderr.splitlines() if ln.startswith("station: inspected")]
    assert status[-1].endswith(" · " + counts.words()), status[-1]
    assert "warning" not in done.stderr  # thresholds bound to the candidate: nothing to say


def test_shadow_thresholds_bound_to_no_model_are_accepted_with_one_warning(
    tmp_path: Path,
) -> None:
    """Production's rule: thresholds without `tuned_on_model_sha256` run, but need re-tuning."""
    _, sha = halved(tmp_path)
    table = shadow_table(sha, UNMOVED).replace(f'tuned_on_model_sha256 = "{sha}"\n', "")
    recipe = shadow_recipe(tmp_path, table)
    db = tmp_path / "log.sqlite3"
    done = run_headless(recipe, db, 3)
    assert done.returncode == 0, done.stderr
    warnings = [ln for ln in done.stderr.splitlines() if "warning" in ln]
    assert len(warnings) == 1, done.stderr
    assert str(recipe) in warnings[0] and "shadow.tuned_on_model_sha256" in warnings[0]
    assert "re-tuning" in warnings[0]
    shadow = json.loads(done.stdout)["shadow"]
    assert shadow["parts"] + shadow["skipped"] == 3
    conn = sqlite3.connect(db)
    (details,) = conn.execute(
        "SELECT details FROM events WHERE kind = 'shadow_model_loaded'"
    ).fetchone()
    conn.close()
    assert json.loads(details)["thresholds_need_retuning"] is True
