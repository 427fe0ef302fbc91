"""Writing a recipe: new thresholds into the file in place, or a whole new recipe file.

Both replace the file atomically (`station.core.files`: the old file's mode is kept, a
symbolic link is written through) and return the recipe as read back, so what was
written is what the station checks.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import replace
from pathlib import Path

from station.core.errors import StationError
from station.core.files import atomic_write_text
from station.core.thresholds import ThresholdSet
from station.services.recipe import Recipe
from station.services.recipe_file import load_recipe, thresholds_from
from station.services.recipe_toml import recipe_toml, replace_threshold_tables, thresholds_toml


def write_recipe_text(path: Path, text: str) -> None:
    """Replace `path` with `text`; a failure is one line naming the file."""
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise StationError(f"{path}: cannot write the recipe ({exc.strerror or exc})") from None


def check_unchanged(recipe: Recipe) -> None:
    """StationError when the file is no longer what `recipe` was read from: a window holding
    a recipe must not write its thresholds over a model that `station promote`, an editor or
    another station put there meanwhile (the thresholds would land on the wrong model)."""
    if not recipe.source_sha256:
        return
    try:
        now = hashlib.sha256(recipe.path.read_bytes()).hexdigest()
    except OSError:
        return  # gone or unreadable: the write says what is wrong
    if now != recipe.source_sha256:
        raise StationError(
            f"{recipe.path}: changed on disk since this station read it (`station promote`, an "
            "editor or another station); nothing written: reopen it and apply again"
        )


def save_recipe_thresholds(recipe: Recipe, new: ThresholdSet) -> Recipe:
    """Write `new` into the recipe file atomically and return the recipe as re-read.

    Only the threshold tables change; the rest of the file (comments too) is
    kept. If the file cannot be edited in place it is rewritten whole. A file changed
    since `recipe` was read is refused (`check_unchanged`).
    """
    check_unchanged(recipe)
    path = recipe.path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        text = ""
    tables = thresholds_toml(new, recipe.reject_classes)
    edited = replace_threshold_tables(text, tables) if text else None
    if edited is not None:
        try:
            ok = thresholds_from(path, tomllib.loads(edited)) == new
        except (tomllib.TOMLDecodeError, StationError):
            ok = False
        if not ok:
            edited = None
    if edited is None:
        edited = recipe_toml(replace(recipe, thresholds=new))
    write_recipe_text(path, edited)
    return load_recipe(path)


def write_recipe(recipe: Recipe, out: Path) -> Recipe:
    """Write `recipe` as a new file `out` (paths relative to its folder); returns it re-read."""
    out = Path(out)
    if not out.parent.is_dir():
        raise StationError(f"{out}: folder {out.parent} does not exist")
    camera = recipe.camera
    frames = camera.options.get("path")  # a folder replay: relative to the recipe's folder
    if isinstance(frames, str) and not Path(frames).expanduser().is_absolute():
        target = os.path.normpath(recipe.path.parent / frames)
        try:
            moved = os.path.relpath(target, out.parent)
        except ValueError:  # another drive on Windows
            moved = target
        camera = replace(camera, options={**camera.options, "path": moved})
    write_recipe_text(out, recipe_toml(replace(recipe, path=out, camera=camera)))
    return load_recipe(out)
