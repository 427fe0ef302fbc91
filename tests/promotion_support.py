"""Promotion test support: a recipe on the shipped model and real `station compare` reports.

`compare_reports` (session-scoped, a plugin of conftest: computed once for the CLI and
the tuning tab's tests) compares the shipped model with variants of it
(tests/model_variants.py) on a synthetic labeled sample: `halved` (equivalent),
`blind` (worse) and `halved_at_other_costs` (made without the recipe). Each name maps to
the report; `NAME.onnx` to the candidate file.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from station.cli import main
from tests.model_variants import SHIPPED, scaled_scores

RECIPE = f"""# a product's recipe: comments are kept in the rollback copy
[product]
name = "widget"

[model]
path = "{SHIPPED}"

[thresholds]
default = 0.5
reject_classes = ["scratch", "pit", "stain", "crack", "missing_hole"]

[thresholds.classes]
scratch = 0.3
pit = 0.3

[costs]
escape = 20.0
scrap = 2.0
max_escape_rate = 0.10

[station]
db = "log.sqlite3"
"""


@pytest.fixture(scope="session")
def compare_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Compare reports of the shipped model against a halved and a blinded candidate."""
    from station.synthetic.dataset import write_yolo_sample

    root = tmp_path_factory.mktemp("promote")
    write_yolo_sample(root / "sample", 60, 1001)
    (root / "base.toml").write_text(RECIPE, encoding="utf-8")
    out = {}
    runs = (
        ("halved", [0.5] * 5, True),
        ("blind", [1.0, 0.0, 0.0, 1.0, 1.0], True),
        ("halved_at_other_costs", [0.5] * 5, False),
    )
    for name, factors, with_recipe in runs:
        model = scaled_scores(root / f"{name}.onnx", factors)
        argv = ["compare", "--current", str(SHIPPED), "--candidate", str(model)]
        argv += ["--data", str(root / "sample"), "--cache-dir", str(root / "cache"), "--json"]
        argv += ["--recipe", str(root / "base.toml")] if with_recipe else []
        buf = io.StringIO()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("sys.stdout", buf)
            assert main(argv) == 0
        (root / f"{name}.json").write_text(buf.getvalue(), encoding="utf-8")
        out[name], out[f"{name}.onnx"] = root / f"{name}.json", model
    return out
