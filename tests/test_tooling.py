"""The standing checks CI runs: lint, format, types, and the import contracts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / cmd[0]
    if not exe.exists():
        found = shutil.which(cmd[0])
        if found is None:
            pytest.fail(
                f"{cmd[0]} is not installed: install the test extra (scripts/setup.sh test)"
            )
        exe = Path(found)
    return subprocess.run(
        [str(exe), *cmd[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize(
    "cmd",
    [
        ("ruff", "check", "station", "tests", "bench", "scripts"),
        ("ruff", "format", "--check", "station", "tests", "bench", "scripts"),
        ("mypy",),
        ("lint-imports",),
    ],
    ids=["ruff-check", "ruff-format", "mypy", "import-contracts"],
)
def test_standing_check_passes(cmd: tuple[str, ...]) -> None:
    result = _run(*cmd)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
