"""`station optimize`: real int8 quantisation of the shipped model, compared on a real sample."""

from __future__ import annotations

import json
import re
from pathlib import Path

import onnx
import pytest

from station.cli import main
from station.detectors import sha256_file
from station.services.recipe_file import default_recipe_path, load_recipe
from tests.model_variants import SHIPPED, wide_logits

pytestmark = pytest.mark.skipif(not SHIPPED.is_file(), reason="models/defects.onnx absent")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from station.synthetic.dataset import write_yolo_sample

    root = tmp_path_factory.mktemp("optimize") / "sample"
    write_yolo_sample(root, 60, 1001)
    return root


def optimize(capsys, model: Path, sample: Path, out: Path, *extra: str) -> tuple[int, dict, str]:
    argv = ["optimize", str(model), "--sample", str(sample), "--out", str(out), "--no-cache"]
    code = main([*argv, "--json", "--calibration-parts", "30", *extra])
    got = capsys.readouterr()
    return code, json.loads(got.out) if got.out.strip() else {}, got.err


def test_int8_copy_with_its_own_recipe(capsys, sample: Path, tmp_path: Path) -> None:
    # The default recipe at costs 1/1: a wide margin on this small sample
    text = default_recipe_path().read_text(encoding="utf-8")
    text = text.replace('"../../models/defects.onnx"', f'"{SHIPPED}"')
    text = re.sub(r"(?m)^escape = .*$", "escape = 1.0", text)
    text = re.sub(r"(?m)^scrap = .*$", "scrap = 1.0", text)
    text = re.sub(r"(?m)^max_escape_rate = .*$", "", text)
    base = tmp_path / "base.toml"
    base.write_text(text, encoding="utf-8")
    out = tmp_path / "defects.int8.onnx"
    code, rep, err = optimize(capsys, SHIPPED, sample, out, "--recipe", str(base))
    assert code == 0, err
    assert rep["refused"] == [] and rep["written_recipe"]
    graph = onnx.load(str(out)).graph
    ops = [n.op_type for n in graph.node]
    assert ops.count("QuantizeLinear") > 10 and ops.count("DequantizeLinear") > 10
    # the decode tail stays float: the final Concat joins float boxes and float scores
    producer = {o: n for n in graph.node for o in n.output}
    final = producer[graph.output[0].name]
    assert final.op_type == "Concat"
    assert all(producer[i].op_type != "DequantizeLinear" for i in final.input)
    assert set(rep["float_nodes"]) >= {final.name}
    # so does the convolution that reads the image
    first = next(n for n in graph.node if n.op_type == "Conv" and n.input[0] == "images")
    assert first.name in rep["float_nodes"]
    assert all(i not in producer or producer[i].op_type != "DequantizeLinear" for i in first.input)
    # the recipe: beside the model, bound to its hash, thresholds re-derived on it
    written = Path(rep["written_recipe"])
    assert written == tmp_path / "defects.int8.toml"
    recipe = load_recipe(written)
    sha = sha256_file(out)
    assert recipe.model.path == out and recipe.model.sha256 == sha
    assert recipe.thresholds.model_sha256 == sha == rep["candidate"]["model_sha256"]
    assert dict(recipe.thresholds.class_thresholds) == rep["candidate"]["thresholds"]
    assert recipe.costs == load_recipe(base).costs
    assert recipe.camera == load_recipe(base).camera
    # and the station evaluates with it, no re-tuning warning
    assert main(["evaluate", "--recipe", str(written), "--data", str(sample), "--no-cache"]) == 0
    assert "re-tuning" not in capsys.readouterr().err


def test_a_model_that_does_not_survive_int8_is_refused(capsys, sample, tmp_path) -> None:
    fragile = wide_logits(tmp_path / "fragile.onnx")
    out = tmp_path / "fragile.int8.onnx"
    code, rep, err = optimize(capsys, fragile, sample, out)
    assert code == 1
    assert "REFUSED" in err and "ranks nothing" in err
    assert rep["written_recipe"] is None and rep["refused"]
    assert not (tmp_path / "fragile.int8.toml").exists()
    assert out.is_file()  # kept for inspection


def test_the_original_is_untouched_and_bad_input_refused(capsys, sample, tmp_path) -> None:
    before = sha256_file(SHIPPED)
    assert main(["optimize", str(SHIPPED), "--sample", str(sample), "--out", str(SHIPPED)]) == 2
    assert "--out" in capsys.readouterr().err
    missing = tmp_path / "nope" / "m.onnx"
    assert main(["optimize", str(SHIPPED), "--sample", str(sample), "--out", str(missing)]) == 2
    assert "--out" in capsys.readouterr().err
    args = ["optimize", str(SHIPPED), "--sample", str(tmp_path / "none"), "--out", "x.onnx"]
    assert main(args) == 2
    assert "--sample" in capsys.readouterr().err
    assert sha256_file(SHIPPED) == before
    assert list(tmp_path.iterdir()) == []
