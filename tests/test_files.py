"""Atomic file replacement: one permission rule, links written through, nothing half-written."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.core.files import atomic_write_bytes, atomic_write_text
from station.services.recipe_file import default_recipe_path, load_recipe
from station.services.recipe_write import save_recipe_thresholds, write_recipe


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path: Path, umask_022: None) -> None:
    atomic_write_text(tmp_path / "a.toml", "x = 1\n")
    assert _mode(tmp_path / "a.toml") == 0o644
    os.umask(0o077)
    atomic_write_text(tmp_path / "b.toml", "x = 1\n")
    assert _mode(tmp_path / "b.toml") == 0o600


def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "a.toml"
    path.write_text("old\n")
    path.chmod(0o664)
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n" and _mode(path) == 0o664


def test_a_secret_is_owner_only_whatever_the_umask(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "pin.json"
    path.write_text("{}")
    path.chmod(0o644)
    atomic_write_text(path, "{}\n", secret=True)
    assert _mode(path) == 0o600


def test_a_symbolic_link_is_written_through_to_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real" / "recipe.toml"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "recipe.toml"
    link.symlink_to(target)
    atomic_write_text(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["recipe.toml"]  # no temp left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_a_recipe_the_station_writes_is_readable_by_others(tmp_path: Path, umask_022: None) -> None:
    out = tmp_path / "r.toml"
    write_recipe(load_recipe(default_recipe_path()), out)
    assert _mode(out) == 0o644


def test_tuning_a_linked_recipe_edits_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "recipes" / "line3.toml"
    real.parent.mkdir()
    write_recipe(load_recipe(default_recipe_path()), real)
    real.chmod(0o640)
    link = tmp_path / "current.toml"
    link.symlink_to(real)
    recipe = load_recipe(link)
    saved = save_recipe_thresholds(recipe, recipe.thresholds.with_thresholds({"pit": 0.42}))
    assert link.is_symlink() and _mode(real) == 0o640
    assert saved.thresholds.class_thresholds["pit"] == pytest.approx(0.42)
    assert load_recipe(real).thresholds.class_thresholds["pit"] == pytest.approx(0.42)
