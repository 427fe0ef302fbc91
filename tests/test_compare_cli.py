"""`station compare`: real onnxruntime sessions on the shipped model and variants of it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from station.cli import main
from station.core.comparison import Verdict, auroc, verdict
from station.core.metrics import Confusion
from station.core.rates import Rate
from station.services.recipe_file import default_recipe_path
from tests.model_variants import SHIPPED, scaled_scores

pytestmark = pytest.mark.skipif(not SHIPPED.is_file(), reason="models/defects.onnx absent")

NAMES = ("scratch", "pit", "stain", "crack", "missing_hole")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from station.synthetic.dataset import write_yolo_sample

    root = tmp_path_factory.mktemp("compare")
    write_yolo_sample(root / "sample", 160, 1001)
    scaled_scores(root / "halved.onnx", [0.5] * 5)
    scaled_scores(root / "blind.onnx", [1.0, 0.0, 0.0, 1.0, 1.0])  # never sees pit or stain
    return root


def compare(
    capsys: pytest.CaptureFixture[str], work: Path, current: Path, candidate: Path, *extra: str
) -> tuple[int, dict, str]:
    argv = ["compare", "--current", str(current), "--candidate", str(candidate)]
    argv += ["--data", str(work / "sample"), "--cache-dir", str(work / "cache"), *extra]
    code = main([*argv, "--json"])
    out = capsys.readouterr()
    return code, json.loads(out.out) if code == 0 else {}, out.err


def test_halved_scores_are_equivalent_with_thresholds_halved(capsys, work: Path) -> None:
    recipe = str(default_recipe_path())
    code, rep, _ = compare(capsys, work, SHIPPED, work / "halved.onnx", "--recipe", recipe)
    assert code == 0
    assert set(rep) >= {"current", "candidate", "changed_parts", "verdict", "reason"}
    assert rep["verdict"] == "equivalent", rep["reason"]
    assert rep["changed_parts"] == []
    now, new = rep["current"], rep["candidate"]
    assert now["model_sha256"] != new["model_sha256"]
    for name in NAMES:  # re-derived: every threshold moved with the scores, exactly
        assert np.float32(new["thresholds"][name]) == np.float32(now["thresholds"][name]) / 2
        assert (
            new["per_class"][name]["scores"]["auroc"] == now["per_class"][name]["scores"]["auroc"]
        )
    for key in ("far", "frr", "far_ci95", "frr_ci95", "false_accepts", "false_rejects"):
        assert new[key] == now[key]


def test_sides_carry_the_fields_of_evaluate_json(capsys, work: Path) -> None:
    code, rep, _ = compare(capsys, work, SHIPPED, work / "halved.onnx")
    assert code == 0
    argv = ["evaluate", "--model", str(SHIPPED), "--data", str(work / "sample"), "--json"]
    assert (
        main([*argv, "--cache-dir", str(work / "cache"), "--cost-escape", "1", "--cost-scrap", "1"])
        == 0
    )
    evaluated = json.loads(capsys.readouterr().out)
    for side in ("current", "candidate"):
        assert set(evaluated) <= set(rep[side])
        assert set(evaluated["per_class"]["pit"]) <= set(rep[side]["per_class"]["pit"])
    assert rep["current"]["model_sha256"] == evaluated["model_sha256"]
    # no recipe: costs 1/1, least expected cost
    assert rep["current"]["rule"] == "min_cost"
    assert rep["current"]["thresholds"] == evaluated["recommended"]["min_cost"]["thresholds"]


def test_a_blinded_candidate_is_worse_and_its_escapes_are_listed(capsys, work: Path) -> None:
    code, rep, _ = compare(capsys, work, SHIPPED, work / "blind.onnx")
    assert code == 0
    assert rep["verdict"] == "worse"
    assert "FAR" in rep["reason"]
    assert rep["candidate"]["false_accepts"] > rep["current"]["false_accepts"]
    escapes = [p for p in rep["changed_parts"] if p["effect"] == "new escape"]
    assert escapes
    assert all(p["defective"] and p["candidate"] == "PASS" for p in escapes)
    assert all({"pit", "stain"} & set(p["labels"]) for p in escapes)
    assert rep["candidate"]["per_class"]["stain"]["scores"]["auroc"] == 0.5  # ranks nothing


def test_the_other_way_round_is_better_and_the_table_says_so(capsys, work: Path) -> None:
    code, rep, _ = compare(capsys, work, work / "blind.onnx", SHIPPED)
    assert code == 0 and rep["verdict"] == "better"
    argv = ["compare", "--current", str(work / "blind.onnx"), "--candidate", str(SHIPPED)]
    assert main([*argv, "--data", str(work / "sample"), "--cache-dir", str(work / "cache")]) == 0
    text = capsys.readouterr().out
    assert "verdict: BETTER" in text
    assert "escape fixed" in text


def test_refusals_are_one_line_exit_2(capsys, work: Path, tmp_path: Path) -> None:
    code, _, err = compare(capsys, work, SHIPPED, tmp_path / "nope.onnx")
    assert code == 2 and "--candidate" in err and "nope.onnx" in err
    assert len(err.strip().splitlines()) == 1
    argv = ["compare", "--current", str(SHIPPED), "--candidate", str(SHIPPED)]
    assert main([*argv, "--data", str(tmp_path / "none")]) == 2
    assert "--data" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("pos", "neg", "expected"),
    [
        ([0.9, 0.8], [0.1, 0.2], 1.0),
        ([0.1], [0.9], 0.0),
        ([0.5, 0.5], [0.5], 0.5),  # ties count half
        ([-np.inf, 0.3], [-np.inf, 0.1], 0.625),
        ([0.2, np.nan], [0.1], 1.0),  # NaN left out
        ([], [0.1], None),
    ],
)
def test_auroc(pos: list[float], neg: list[float], expected: float | None) -> None:
    assert auroc(pos, neg) == expected


def _conf(fa: int, n_def: int, fr: int, n_good: int) -> Confusion:
    return Confusion(
        n_def + n_good,
        n_def,
        n_good,
        fa,
        fr,
        n_def - fa,
        n_good - fr,
        0,
        Rate.of(fa, n_def),
        Rate.of(fr, n_good),
        {},
    )


@pytest.mark.parametrize(
    ("now", "new", "expected"),
    [
        (_conf(10, 100, 30, 300), _conf(12, 100, 33, 300), Verdict.EQUIVALENT),
        (_conf(10, 100, 30, 300), _conf(1, 100, 30, 300), Verdict.BETTER),
        (_conf(10, 100, 30, 300), _conf(30, 100, 30, 300), Verdict.WORSE),
        # one each way: decided by the cost (20 per escape, 2 per scrap)
        (_conf(10, 100, 30, 300), _conf(1, 100, 80, 300), Verdict.BETTER),
        (_conf(10, 100, 80, 300), _conf(30, 100, 5, 300), Verdict.WORSE),
    ],
)
def test_verdict(now: Confusion, new: Confusion, expected: Verdict) -> None:
    v, reason = verdict(now, new, 20.0, 2.0)
    assert v is expected, reason
    assert reason
