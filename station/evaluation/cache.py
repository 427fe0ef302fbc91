"""A cache of scored samples: the model runs once per (model, sample) pair.

Keyed by the model's SHA-256, the sample's content hash and the class names
and family the detector used, stored as `.npz` in the user cache folder
(platformdirs; `STATION_CACHE_DIR` or an explicit folder overrides it).
Re-tuning thresholds reads the matrix back instead of re-running the model.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from station import APP_NAME
from station.core.files import atomic_write_bytes
from station.core.part_detections import PartDetections
from station.core.sample import ScoredSample

FORMAT = 3  # 2: single-label YOLO decode by default (issue 12): scores cached before differ
# 3: every detection's part, class, score, area and length kept (size rules, issue 12)
_COLUMNS = ("part", "class_id", "confidence", "area_px", "length_px")


def default_cache_dir() -> Path:
    """`$STATION_CACHE_DIR` if set, else `<user cache dir>/inspection-station/scores`."""
    env = os.environ.get("STATION_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "scores"


def cache_key(
    model_sha256: str, sample_sha256: str, class_names: Sequence[str], family: str
) -> str:
    blob = "\0".join([str(FORMAT), model_sha256, sample_sha256, family, *class_names])
    return hashlib.sha256(blob.encode()).hexdigest()


class ScoreCache:
    """Score matrices on disk; a corrupt or mismatched entry is ignored (the model re-runs)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    def path_for(self, key: str) -> Path:
        return self.folder / f"{key[:32]}.npz"

    def load(self, key: str) -> tuple[ScoredSample, np.ndarray] | None:
        """(sample, unreadable mask) stored under `key`, or None."""
        path = self.path_for(key)
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["key"]) != key:
                    return None
                sample = ScoredSample(
                    tuple(str(x) for x in z["class_names"]),
                    z["scores"],
                    z["truth"],
                    tuple(str(x) for x in z["part_ids"]),
                    str(z["model_sha256"]),
                    _detections(z),
                )
                return sample, np.asarray(z["unreadable"], dtype=bool)
        except (OSError, KeyError, ValueError, EOFError):
            return None
        except Exception:  # a damaged cache file must never stop an evaluation
            return None

    def store(self, key: str, sample: ScoredSample, unreadable: np.ndarray) -> Path | None:
        """Write atomically; returns the path, or None when the cache folder is not writable."""
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            key=np.array(key),
            class_names=np.array(sample.class_names, dtype=str),
            scores=sample.unsized_scores,
            truth=sample.truth,
            part_ids=np.array(sample.part_ids, dtype=str),
            model_sha256=np.array(sample.model_sha256),
            unreadable=np.asarray(unreadable, dtype=bool),
            **{f"det_{c}": getattr(sample.detections, c) for c in _COLUMNS if sample.detections},
        )
        path = self.path_for(key)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, buf.getvalue())
        except OSError:
            return None
        return path


def _detections(z: Any) -> PartDetections | None:
    """The per-detection columns, when the entry kept them (score_sample always does)."""
    if f"det_{_COLUMNS[0]}" not in z.files:
        return None
    return PartDetections(*(z[f"det_{c}"] for c in _COLUMNS))
