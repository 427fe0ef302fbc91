"""One module per ONNX output family; importing this package registers them all."""

from station.detectors.families import (
    classifier,
    end2end,
    obb,
    rtdetr,
    segment,
    segment_end2end,
    yolov5,
    yolov8,
)

__all__ = [
    "classifier",
    "end2end",
    "obb",
    "rtdetr",
    "segment",
    "segment_end2end",
    "yolov5",
    "yolov8",
]
