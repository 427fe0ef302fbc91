"""The recipe's `[plc]` table and `[station] decision_deadline_ms`: read, refused, written back."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.core.errors import StationError
from station.outputs.plc.config import PlcConfig
from station.services.recipe_file import load_recipe
from station.services.recipe_write import write_recipe

BASE = """\
[product]
name = "bracket-7"

[model]
path = "heuristic:dark-blobs"
"""


def recipe(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "recipe.toml"
    path.write_text(BASE + extra)
    return path


def test_without_plc_table_there_is_no_plc(tmp_path: Path) -> None:
    loaded = load_recipe(recipe(tmp_path, ""))
    assert loaded.plc is None and loaded.decision_deadline_ms == 1000


def test_plc_table_and_deadline_are_read_and_written_back(tmp_path: Path) -> None:
    extra = """
[station]
decision_deadline_ms = 250

[plc]
kind = "modbus-tcp"
host = "127.0.0.1"
port = 1502
unit_id = 3
heartbeat_ms = 200
require_ack = true
"""
    loaded = load_recipe(recipe(tmp_path, extra))
    assert loaded.plc == PlcConfig("modbus-tcp", "127.0.0.1", 1502, 3, 200, True)
    assert loaded.decision_deadline_ms == 250
    (tmp_path / "out").mkdir()
    again = write_recipe(loaded, tmp_path / "out" / "copy.toml")
    assert (again.plc, again.decision_deadline_ms) == (loaded.plc, 250)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[plc]\nkind = "modbus-tcp"\nport = -1\n', "plc.port: expected an integer in [0, 65535]"),
        ("[plc]\nport = 502\n", "plc.kind: expected the PLC protocol"),
        ('[plc]\nkind = "modbus-tcp"\nheartbeat = 5\n', "plc.heartbeat: expected one of the keys"),
        ("[station]\ndecision_deadline_ms = 0\n", "station.decision_deadline_ms: expected an"),
        ('[station]\ndecision_deadline_ms = "1s"\n', "station.decision_deadline_ms: expected an"),
    ],
)
def test_bad_plc_settings_are_refused_naming_file_and_field(
    tmp_path: Path, extra: str, message: str
) -> None:
    path = recipe(tmp_path, extra)
    with pytest.raises(StationError) as err:
        load_recipe(path)
    text = str(err.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text
