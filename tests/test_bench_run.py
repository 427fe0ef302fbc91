"""bench/run.py: discovery of bench_<name>.py modules and the figure lines it prints last."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
_spec = importlib.util.spec_from_file_location("bench_runner", BENCH / "run.py")
assert _spec is not None and _spec.loader is not None
bench_run = importlib.util.module_from_spec(_spec)
sys.modules["bench_runner"] = bench_run
_spec.loader.exec_module(bench_run)  # puts bench/ on sys.path, as running the script does

from benchlib import Figure  # noqa: E402


def write(dir_: Path, name: str, body: str) -> None:
    (dir_ / f"bench_{name}.py").write_text(body, encoding="utf-8")


def test_figure_line_format():
    assert bench_run.format_figure(Figure("detect.ratio", 1.0634, "x", "<= 1.10", True)) == (
        "detect.ratio: 1.063 x (target <= 1.10, met)"
    )
    assert bench_run.format_figure(Figure("a.b", 12.5, "ms")) == "a.b: 12.5 ms (target none)"
    assert bench_run.format_figure(Figure("r", 0.5, "", "target >= 0.9", False)) == (
        "r: 0.5 (target >= 0.9, MISSED)"
    )


def test_runs_named_or_all_benchmarks_and_prints_figures_last(tmp_path, capsys):
    write(tmp_path, "alpha", "def run():\n    return [('alpha.x', 2.0, 'ms', '<= 3')]\n")
    write(
        tmp_path,
        "beta",
        "from benchlib import Skip\n\ndef run():\n    raise Skip('no camera here')\n",
    )
    assert bench_run.main([], bench_dir=tmp_path) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["alpha.x: 2 ms (target <= 3)", "beta: skipped (no camera here)"]
    assert bench_run.main(["alpha"], bench_dir=tmp_path) == 0
    assert capsys.readouterr().out.splitlines() == ["alpha.x: 2 ms (target <= 3)"]


def test_failure_and_unknown_name(tmp_path, capsys):
    write(tmp_path, "broken", "def run():\n    raise RuntimeError('boom')\n")
    assert bench_run.main(["broken"], bench_dir=tmp_path) == 1
    assert capsys.readouterr().out.strip() == "broken: FAILED (see the traceback above)"
    assert bench_run.main(["nope"], bench_dir=tmp_path) == 2
    assert "unknown benchmark nope; available: broken" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["detect", "int8", "pipeline", "spinning", "peer", "archive"])
def test_project_benchmarks_are_discovered(name):
    assert name in bench_run.discover()
