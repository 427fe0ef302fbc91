"""masks: what segmentation costs per frame, and the decode of single- vs multi-label.

Times `decode` (floor, NMS, back-mapping and, for a segmentation model, rendering,
measuring and outlining every mask at or above the mask floor) on one model output for a
640 x 480 synthetic line frame: the tiny YOLOv8-seg test fixture (random weights, so
nearly every candidate scores high and carries a mask: a worst case) and the shipped
model decoded both ways.
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchlib import Figure, Skip, median, time_ms

ROOT = Path(__file__).resolve().parent.parent
SEG = ROOT / "tests" / "fixtures" / "reference" / "yolov8-seg.onnx"
SHIPPED = ROOT / "models" / "defects.onnx"
REPEAT = 30


def _decode_ms(model: Path, family: str | None = None) -> tuple[float, int, int]:
    from station.detectors import load_detector
    from station.synthetic.line import PartGenerator

    det = load_detector(model, family=family)
    frame = PartGenerator(seed=0, width=640, height=480).part(1).image
    x, plan = det.prepare(frame)
    out = det.session.run(det.output_names, {det.input_name: x})  # type: ignore[attr-defined]
    dets = det.decode(out, plan)  # type: ignore[attr-defined]
    masks = int((dets.data["mask_area_px"] >= 0).sum()) if "mask_area_px" in dets.data else 0
    return median(time_ms(lambda: det.decode(out, plan), REPEAT)), len(dets), masks  # type: ignore[attr-defined]


def run() -> list[Figure]:
    if not SEG.is_file() or not SHIPPED.is_file():
        raise Skip("the segmentation fixture or the shipped model is absent")
    seg_ms, seg_n, seg_masks = _decode_ms(SEG)
    single_ms, single_n, _ = _decode_ms(SHIPPED)
    multi_ms, multi_n, _ = _decode_ms(SHIPPED, "yolov8-multilabel")
    print(
        f"[bench] masks: segment fixture {seg_n} detections, {seg_masks} masks rendered; "
        f"shipped model {single_n} (single-label) and {multi_n} (multi-label) detections",
        file=sys.stderr,
        flush=True,
    )
    return [
        Figure("masks.segment_decode_median", seg_ms, "ms"),
        Figure("masks.per_mask", seg_ms / max(seg_masks, 1), "ms"),
        Figure("masks.single_label_decode_median", single_ms, "ms"),
        Figure("masks.multi_label_decode_median", multi_ms, "ms"),
    ]
