"""`station run` flags (a contract) and plain `station` running it."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.cli import build_parser, main


@pytest.mark.parametrize(
    ("argv", "recipe", "db", "no_autostart"),
    [
        (["run"], None, None, False),
        (["run", "--recipe", "r.toml"], Path("r.toml"), None, False),
        (["run", "--db", "x.sqlite3", "--no-autostart"], None, Path("x.sqlite3"), True),
    ],
)
def test_run_flags(
    argv: list[str], recipe: Path | None, db: Path | None, no_autostart: bool
) -> None:
    args = build_parser().parse_args(argv)
    assert (args.command, args.recipe, args.db, args.no_autostart) == (
        "run",
        recipe,
        db,
        no_autostart,
    )


def test_plain_station_runs_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """`station` and `station --no-autostart` are `station run ...` (cli.py inserts "run")."""
    seen: list[tuple[object, object, object]] = []
    monkeypatch.setattr("station.app_gui.run", lambda r, d, a: seen.append((r, d, a)) or 0)
    assert main([]) == 0
    assert main(["--no-autostart", "--db", "l.sqlite3"]) == 0
    assert seen == [(None, None, None), (None, Path("l.sqlite3"), False)]


def test_no_display_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "station run: error: no display: set DISPLAY, "
        "or run without a window: station run --headless"
    )
