"""`station evaluate` end to end: real onnxruntime sessions on real ONNX files and PNG samples.

The model is a tiny graph whose three class scores are the softmax of the
image's mean R, G and B (`onnx_graphs.channel_mean_model`), so every score is
known in advance and the counts can be checked against an independent
computation. The shipped model runs too, once it is built.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_graphs import channel_mean_model, constant_output_model

from station.cli import main
from station.services.recipe_file import load_recipe

NAMES = ("red", "green", "blue")
ROOT = Path(__file__).resolve().parent.parent


def expected_red_score(r: int) -> np.float32:
    """The classifier family's softmax of the channel means, as the model computes it."""
    means = np.array([r, 100, 100], np.float64) / 255.0
    e = np.exp(means - means.max())
    return np.float32((e / e.sum())[0])


def make_sample(root: Path, n: int = 45, seed: int = 0) -> tuple[Path, list[int], list[bool]]:
    """Flat-colour parts: defective ones (label `red`) tend to be redder; some overlap."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    reds, defective = [], []
    for i in range(n):
        bad = i % 3 == 0
        r = int(rng.integers(140, 256) if bad else rng.integers(40, 170))
        img = np.zeros((24, 24, 3), np.uint8)
        img[:] = (100, 100, r)  # BGR
        cv2.imwrite(str(root / "images" / f"{i:03d}.png"), img)
        if bad:
            (root / "labels" / f"{i:03d}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
        elif i % 2:
            (root / "labels" / f"{i:03d}.txt").write_text("")  # empty label: good part
        reds.append(r)
        defective.append(bad)
    (root / "data.yaml").write_text("nc: 3\nnames: [red, green, blue]\n")
    return root, reds, defective


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    return channel_mean_model(tmp_path / "colour.onnx", names=repr(dict(enumerate(NAMES))))


@pytest.fixture()
def sample(tmp_path: Path) -> tuple[Path, list[int], list[bool]]:
    return make_sample(tmp_path / "sample")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["evaluate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_json_schema_and_counts_match_an_independent_computation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, sample: tuple
) -> None:
    folder, reds, defective = sample
    t = 0.38
    out = run_json(
        capsys,
        "--model",
        str(model),
        "--data",
        str(folder),
        "--thresholds",
        json.dumps({"red": t}),
        "--reject-classes",
        "red",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    scores = np.array([expected_red_score(r) for r in reds])
    rejected = scores >= np.float32(t)
    bad = np.array(defective)
    fa, fr = int((bad & ~rejected).sum()), int((~bad & rejected).sum())
    assert {
        "parts",
        "defective_parts",
        "good_parts",
        "false_accepts",
        "false_rejects",
        "true_rejects",
        "true_passes",
        "far",
        "frr",
        "far_ci95",
        "frr_ci95",
        "thresholds",
        "default_threshold",
        "model_sha256",
        "per_class",
    } <= set(out)
    assert "recommended" not in out  # neither costs nor a cap given
    assert (out["parts"], out["defective_parts"], out["good_parts"]) == (45, 15, 30)
    assert (out["false_accepts"], out["false_rejects"]) == (fa, fr)
    assert out["true_rejects"] == 15 - fa and out["true_passes"] == 30 - fr
    assert out["far"] == pytest.approx(fa / 15) and out["frr"] == pytest.approx(fr / 30)
    assert out["far_ci95"][0] <= out["far"] <= out["far_ci95"][1]
    assert out["thresholds"] == {"red": 0.38, "green": 0.25, "blue": 0.25}
    assert out["default_threshold"] == 0.25
    assert out["model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert out["per_class"]["red"] == {
        "defective_parts": 15,
        "escapes": fa,
        "threshold": 0.38,
        "reject": True,
    }
    assert out["per_class"]["green"]["escapes"] is None  # not a reject class
    assert 0 < fa < 15 and 0 < fr < 30  # the sample really overlaps


def test_recommendations_and_write_recipe_round_trip(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, sample: tuple
) -> None:
    folder, reds, defective = sample
    cache = str(tmp_path / "cache")
    out_recipe = tmp_path / "tuned.toml"
    out = run_json(
        capsys,
        "--model",
        str(model),
        "--data",
        str(folder),
        "--reject-classes",
        "red",
        "--cost-escape",
        "10",
        "--cost-scrap",
        "1",
        "--max-escape-rate",
        "1%",
        "--cache-dir",
        cache,
        "--write-recipe",
        str(out_recipe),
    )
    mc = out["recommended"]["min_cost"]
    assert set(mc) >= {"thresholds", "escapes", "scrap", "expected_cost"}
    # independent brute force over every observed score level
    scores = np.array([expected_red_score(r) for r in reds])
    bad = np.array(defective)
    costs = [
        10 * int((bad & (scores < lv)).sum()) + int((~bad & (scores >= lv)).sum())
        for lv in [*np.unique(scores), np.float32(1.0)]
    ]
    assert mc["expected_cost"] == pytest.approx(min(costs))
    assert mc["expected_cost"] == 10 * mc["escapes"] + mc["scrap"]
    assert "too small" in out["recommended"]["escape_cap"]["reason"]  # 15 defective parts
    recipe = load_recipe(out_recipe)
    assert recipe.thresholds.model_sha256 == out["model_sha256"]
    assert not recipe.thresholds_need_retuning(out["model_sha256"])
    assert recipe.thresholds.class_thresholds["red"] == mc["thresholds"]["red"]
    again = run_json(
        capsys, "--recipe", str(out_recipe), "--data", str(folder), "--cache-dir", cache
    )
    assert (again["false_accepts"], again["false_rejects"]) == (mc["escapes"], mc["scrap"])
    assert again["thresholds_need_retuning"] is False
    assert again["scores_from_cache"] is True


def test_human_table_progress_and_cache(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, sample: tuple
) -> None:
    folder = sample[0]
    args = ["--model", str(model), "--data", str(folder), "--cache-dir", str(tmp_path / "c")]
    code, out, err = run(capsys, *args, "--cost-escape", "5", "--cost-scrap", "1")
    assert code == 0
    assert "FAR (escapes)" in out and "FRR (scrap)" in out and "recommended" in out
    assert "shipped (pass)" in out and "scored 45 parts" in err
    code, _, err = run(capsys, *args)
    assert "scores from cache" in err
    (folder / "labels" / "001.txt").write_text("1 0.5 0.5 0.1 0.1\n")  # relabel a part
    code, out, err = run(capsys, *args)
    assert "scored 45 parts" in err  # new content, new cache key: scored again


def test_constant_score_detector_gets_the_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sample: tuple
) -> None:
    m = constant_output_model(
        tmp_path / "const.onnx",
        np.array([[1.0, 0.0, 0.0]], np.float32),
        metadata={"names": repr(dict(enumerate(NAMES))), "task": "classify"},
    )
    out = run_json(
        capsys,
        "--model",
        str(m),
        "--data",
        str(sample[0]),
        "--cost-escape",
        "1",
        "--cost-scrap",
        "1",
        "--max-escape-rate",
        "0.1",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert "constant" in out["ranking_problem"]
    assert set(out["recommended"]["min_cost"]) == {"reason"}
    assert set(out["recommended"]["escape_cap"]) == {"reason"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--thresholds", '{"red": 1.5}'], "class_thresholds.red: 1.5 is outside [0, 1]"),
        (["--thresholds", '{"red": "x"}'], "class_thresholds.red: expected a number"),
        (["--thresholds", '{"rd": 0.5}'], "the model's classes are: red, green, blue"),
        (["--default-threshold", "nan"], "--default-threshold"),
        (["--reject-classes", "red,purple"], "'purple' not a class of the model"),
        (["--max-escape-rate", "2"], "--max-escape-rate: expected a number in [0, 1]"),
        (["--cost-escape", "-3"], "--cost-escape: expected a number >= 0"),
        (["--thresholds", "nofile.json"], "neither a JSON object nor a file"),
        (["--cost-escape", "3"], "--cost-scrap: expected with the other cost"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], model: Path, sample: tuple, extra: list[str], message: str
) -> None:
    code, out, err = run(capsys, "--model", str(model), "--data", str(sample[0]), *extra)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_samples_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, sample: tuple
) -> None:
    folder = sample[0]
    code, _, err = run(capsys, "--model", str(model), "--data", str(tmp_path / "nope"))
    assert code == 2 and "--data" in err
    (folder / "labels" / "002.txt").write_text("7 0.5 0.5 0.1 0.1\n")
    code, _, err = run(capsys, "--model", str(model), "--data", str(folder), "--no-cache")
    assert code == 2 and "002.txt:1: class 7 is outside" in err


def test_recipe_pinned_to_another_model_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, sample: tuple
) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        f'[product]\nname = "p"\n[model]\npath = "{model.name}"\nsha256 = "{"0" * 64}"\n'
    )
    code, _, err = run(capsys, "--recipe", str(recipe), "--data", str(sample[0]))
    assert code == 2 and "model.sha256" in err


def test_recipe_tuned_on_another_model_is_flagged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, sample: tuple
) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        f'[product]\nname = "p"\n[model]\npath = "{model.name}"\n'
        f'[thresholds]\ntuned_on_model_sha256 = "{"1" * 64}"\n'
    )
    args = ["--recipe", str(recipe), "--data", str(sample[0]), "--cache-dir", str(tmp_path / "c")]
    code, out, err = run(capsys, *args)
    assert code == 0 and "THRESHOLDS NEED RE-TUNING" in out and "need re-tuning" in err
    assert run_json(capsys, *args)["thresholds_need_retuning"] is True


def test_unreadable_image_is_no_decision_never_a_pass(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, sample: tuple
) -> None:
    folder = sample[0]
    (folder / "images" / "000.png").write_bytes(b"not a png")  # a defective part
    out = run_json(
        capsys,
        "--model",
        str(model),
        "--data",
        str(folder),
        "--no-cache",
        "--thresholds",
        '{"red": 1.0}',
        "--reject-classes",
        "red",
    )
    assert out["no_decision"] == 1 and out["unreadable_images"] == ["000.png"]
    assert out["false_accepts"] == 14  # 15 defective, all passed at T = 1 except the unreadable


def test_shipped_model_on_a_generated_sample(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from station.services.recipe_file import default_recipe_path

    recipe = load_recipe(default_recipe_path())
    if not recipe.model.path.exists():
        pytest.skip("models/defects.onnx is not built yet")
    from station.synthetic.dataset import write_yolo_sample

    write_yolo_sample(tmp_path / "s", 24, seed=4242)
    out = run_json(
        capsys,
        "--recipe",
        str(default_recipe_path()),
        "--data",
        str(tmp_path / "s"),
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert out["parts"] == 24
    assert out["false_accepts"] + out["true_rejects"] == out["defective_parts"]
    assert set(out["recommended"]) == {"min_cost", "escape_cap"}  # the recipe has costs and a cap


def test_recipe_naming_a_class_the_model_lacks_is_refused_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: Path, sample: tuple
) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        f'[product]\nname = "p"\n[model]\npath = "{model.name}"\n[thresholds.classes]\nrde = 0.5\n'
    )
    code, _, err = run(capsys, "--recipe", str(recipe), "--data", str(sample[0]))
    assert code == 2 and str(recipe) in err and "thresholds.classes: 'rde'" in err
    assert "red, green, blue" in err
