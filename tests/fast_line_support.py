"""The default recipe on a fast synthetic line: the station's real model, no real camera.

`line_recipe` writes the shipped recipe's text (station/resources/default_recipe.toml)
into tmp_path with the shipped model's absolute path, the test's [camera] table in place
of the recipe's, and any more tables appended; `fast_line(seed)` is a synthetic camera
that gives parts as fast as the station takes them.
"""

from __future__ import annotations

from pathlib import Path

from tests.model_variants import SHIPPED

DEFAULT_RECIPE = (
    Path(__file__).resolve().parents[1] / "station" / "resources" / "default_recipe.toml"
)


def fast_line(seed: int) -> str:
    """A [camera] table: synthetic 320 x 240 parts, unpaced (parts_per_minute = 0)."""
    return f'kind = "synthetic"\nseed = {seed}\nwidth = 320\nheight = 240\nparts_per_minute = 0.0'


def line_recipe(tmp_path: Path, camera: str, more: str = "") -> Path:
    """tmp_path/recipe.toml: the shipped recipe on `camera`, with `more` (tables) appended."""
    text = DEFAULT_RECIPE.read_text()
    text = text.replace('path = "../../models/defects.onnx"', f'path = "{SHIPPED}"')
    head, rest = text.split("[camera]", 1)
    rest = rest[rest.index("[shifts]") :]
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(f"{head}[camera]\n{camera}\n\n{rest}" + (f"\n{more}\n" if more else ""))
    return recipe
