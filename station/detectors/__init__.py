"""ONNX detectors (one adapter per output family, chosen by a registry) and a heuristic one.

Public API: `load_detector(model, labels=None, family=None) -> Detector` and
`sha256_file(path) -> str`. See README "Detectors" for the formats.
"""

from station.detectors.hashing import sha256_file
from station.detectors.loading import load_detector
from station.detectors.onnx_detector import DETECTION_FLOOR, MAX_DETECTIONS, OnnxDetector
from station.detectors.registry import REGISTRY

__all__ = [
    "DETECTION_FLOOR",
    "MAX_DETECTIONS",
    "REGISTRY",
    "OnnxDetector",
    "load_detector",
    "sha256_file",
]
