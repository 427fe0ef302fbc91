"""The shipped held-out sample of the synthetic line, written on first use into the cache.

Deterministic: `station.synthetic.dataset.write_yolo_sample` with the `station
sample` defaults, in a folder keyed by the generator's version, seed and part
count, so the same files appear on every machine and a changed line never
reuses stale pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import platformdirs

from station import APP_NAME
from station.formats.image_file import IMAGE_SUFFIXES

Progress = Callable[[int, int], None]


def count_images(folder: Path) -> int | None:
    images = folder / "images"
    if not images.is_dir():
        return None
    return sum(1 for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def cache_root() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def shipped_defaults() -> tuple[int, int]:
    """(parts, seed) of the shipped held-out sample: `station sample`'s defaults."""
    from station.synthetic.dataset import DEFAULT_SAMPLE_PARTS, DEFAULT_SAMPLE_SEED

    return DEFAULT_SAMPLE_PARTS, DEFAULT_SAMPLE_SEED


def shipped_sample_dir(root: Path | None = None, shipped: tuple[int, int] | None = None) -> Path:
    """Keyed by the generator's version too, so a changed line never reuses stale pixels."""
    from station.synthetic.line import GENERATOR_VERSION

    parts, seed = shipped or shipped_defaults()
    base = root if root is not None else cache_root()
    return base / "samples" / f"synthetic-v{GENERATOR_VERSION}-seed{seed}-{parts}"


def ensure_shipped_sample(
    root: Path | None = None,
    shipped: tuple[int, int] | None = None,
    progress: Progress | None = None,
) -> Path:
    """The shipped held-out sample's folder, written on first use (same files every time).

    `progress` may raise to stop the writing; the folder is then rewritten next time.
    """
    from station.synthetic.dataset import write_yolo_sample

    parts, seed = shipped or shipped_defaults()
    folder = shipped_sample_dir(root, (parts, seed))
    done = folder / ".complete"
    if not done.exists():
        write_yolo_sample(folder, parts, seed, progress=progress)
        done.write_text("ok\n")
    return folder
