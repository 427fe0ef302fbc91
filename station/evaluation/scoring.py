"""Score a labeled sample with a detector once: per part, each class's highest score.

Every detection's class, score and size is kept beside the matrix (and in the
cache), so size rules apply to the maxima without running the model again.

An image that cannot be read, or a frame the detector fails on, gets NaN
scores: that part has no decision, and is never counted as passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from station.core.detections import Detections
from station.core.part_detections import PartDetections
from station.core.ports import Detector, DetectorError
from station.core.sample import ScoredSample
from station.core.size_rules import SizeRules
from station.evaluation.cache import ScoreCache, cache_key
from station.evaluation.yolo import YoloSample, read_yolo_sample
from station.formats.image_file import DEFAULT_MAX_IMAGE_PIXELS, ImageFileError, read_image_file

Progress = Callable[[int, int], None]
"""Called with (parts done, parts in total); raising from it cancels the scoring."""


@dataclass(frozen=True, slots=True, eq=False)
class ScoredFolder:
    """A scored YOLO sample: the matrix, where its files are, and how it was obtained."""

    sample: ScoredSample
    yolo: YoloSample
    unreadable: tuple[str, ...]
    from_cache: bool
    cache_path: Path | None


def score_sample(
    detector: Detector,
    yolo: YoloSample,
    progress: Progress | None = None,
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
) -> tuple[ScoredSample, npt.NDArray[np.bool_]]:
    """Run `detector` on every part once; returns the matrix and which images were unreadable."""
    info = detector.info
    n, n_cls = yolo.n_parts, len(info.class_names)
    scores = np.full((n, n_cls), -np.inf, dtype=np.float32)
    unreadable = np.zeros(n, dtype=bool)
    frames: list[tuple[int, Detections]] = []
    step = max(1, n // 100)
    for i, path in enumerate(yolo.image_paths):
        try:
            image = read_image_file(path, max_pixels)
        except ImageFileError:
            scores[i] = np.nan
            unreadable[i] = True
        else:
            try:
                dets = detector.detect(image)
                scores[i] = dets.max_score_per_class(n_cls)
                frames.append((i, dets))
            except DetectorError:
                scores[i] = np.nan
        if progress is not None and ((i + 1) % step == 0 or i + 1 == n):
            progress(i + 1, n)
    table = PartDetections.of_frames(frames)
    sample = ScoredSample(info.class_names, scores, yolo.truth, yolo.part_ids, info.sha256, table)
    return sample, unreadable


def score_folder(
    detector: Detector,
    folder: Path | str,
    *,
    progress: Progress | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
    size_rules: SizeRules | None = None,
) -> ScoredFolder:
    """Read and score a YOLO folder, from the cache when this model already scored this content.

    With `size_rules` (the recipe's), each part's maxima count only the detections
    reaching their class's size rule. Refuses (StationError) a sample without truth, an
    image above `max_pixels` and a size rule naming a class the model lacks.
    """
    rules = size_rules or SizeRules()
    rules.check_classes(detector.info.class_names)
    info = detector.info
    yolo = read_yolo_sample(folder, info.class_names, max_pixels)
    cache = ScoreCache(cache_dir)
    key = cache_key(info.sha256, yolo.content_sha256, info.class_names, info.family)
    if use_cache:
        hit = cache.load(key)
        if hit is not None and hit[0].n_parts == yolo.n_parts:
            sample, unreadable = hit
            ids = _ids(yolo, unreadable)
            return ScoredFolder(sample.sized(rules), yolo, ids, True, cache.path_for(key))
    sample, unreadable = score_sample(detector, yolo, progress, max_pixels)
    stored = cache.store(key, sample, unreadable) if use_cache else None
    return ScoredFolder(sample.sized(rules), yolo, _ids(yolo, unreadable), False, stored)


def _ids(yolo: YoloSample, unreadable: npt.NDArray[np.bool_]) -> tuple[str, ...]:
    return tuple(p for p, bad in zip(yolo.part_ids, unreadable.tolist(), strict=True) if bad)
