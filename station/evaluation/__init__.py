"""Measuring thresholds on a labeled sample: read it, score it once, cache the matrix.

Qt-free adapters around the numpy core (`station.core.metrics`,
`station.core.recommend`): `read_yolo_sample`, `score_folder` (with a
progress callback and the score cache), `ScoreCache`.
"""

from station.evaluation.cache import ScoreCache, cache_key, default_cache_dir
from station.evaluation.scoring import Progress, ScoredFolder, score_folder, score_sample
from station.evaluation.yolo import YoloSample, read_yolo_sample
from station.formats.yolo_names import parse_data_yaml_names

__all__ = [
    "Progress",
    "ScoreCache",
    "ScoredFolder",
    "YoloSample",
    "cache_key",
    "default_cache_dir",
    "parse_data_yaml_names",
    "read_yolo_sample",
    "score_folder",
    "score_sample",
]
