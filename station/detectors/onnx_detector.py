"""`OnnxDetector`: one onnxruntime session plus the output family that decodes it.

`detect` returns every candidate with confidence >= `DETECTION_FLOOR`
(0.001) after NMS, at most `MAX_DETECTIONS` (300) per frame, best first
(at most `MAX_CANDIDATES` enter NMS, plus each class's best).
It does not apply the user's thresholds: the core does, so the tuning view
sees the whole score distribution, not just what cleared today's setting.

Suppression is greedy, so the detections at or above any threshold T are
exactly those NMS keeps among the candidates at or above T: filtering after
`detect` equals the exporter's `predict(conf=T)` as long as fewer than
`MAX_CANDIDATES` candidates clear T.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from station.core import size_rules
from station.core.detections import Detections, InstanceMasks
from station.core.ports import DetectorError, ModelInfo
from station.detectors.families._common import cap_keeping_class_best
from station.detectors.input_buffers import InputBuffers, PooledInput
from station.detectors.masks import box_masks, mask_length, mask_polygon
from station.detectors.nms import nms_class_aware
from station.detectors.preprocess import (
    Letterbox,
    boxes_to_frame,
    check_frame,
    plan_letterbox,
    plan_stretch,
    to_input_tensor,
)
from station.detectors.registry import OutputFamily

__all__ = [
    "DETECTION_FLOOR",
    "MAX_CANDIDATES",
    "MAX_DETECTIONS",
    "OnnxDetector",
    "cap_keeping_class_best",
]

DETECTION_FLOOR = 0.001
"""Candidates below this confidence are dropped before NMS (inclusive: >= is kept)."""
MAX_DETECTIONS = 300
"""About this many detections per frame leave `detect`: the highest-scoring, plus the
best of any class not among them (so every class's maximum is exact)."""
MAX_CANDIDATES = 300
"""The best this-many candidates enter NMS (plus each class's best), bounding its cost: the
exporter's `predict` suppresses up to 30000, so results equal it while fewer than this many
candidates clear the threshold. A class's best candidate always survives, so the per-class
maximum a reject decision rests on is exact."""
MASK_AREA = size_rules.MASK_AREA
"""`Detections.data` column of a segmentation model: each mask's area in frame pixels."""
MASK_LENGTH = size_rules.MASK_LENGTH
"""`Detections.data` column of a segmentation model: the longer side of each mask's
minimum-area rectangle (cv2.minAreaRect of its outline, + 1 pixel: outline points are pixel
centres), in frame pixels; -1 where not measured (station.core.size_rules)."""
MASK_FLOOR = 0.05
"""Masks are rendered, measured and outlined for detections at or above this confidence
(inclusive); weaker ones keep their box with `mask_area_px` -1 (Ultralytics' `predict` runs
at conf 0.25 by default, so its results are matched at any threshold >= this floor)."""
POLYGON = "polygon"
"""`Detections.data` column of a segmentation model: each mask's outline, an object array of
(k, 2) int32 x, y frame-pixel points (the largest region; (0, 2) for none)."""

_plan = functools.lru_cache(maxsize=8)(plan_letterbox)
_plan_stretch = functools.lru_cache(maxsize=8)(plan_stretch)


class OnnxDetector:
    """A Detector for any registered output family. Thread-safe: it keeps no per-call state.

    Build it with `station.detectors.load_detector`, which validates the
    model; the constructor trusts its arguments.
    """

    def __init__(
        self,
        session: ort.InferenceSession,
        info: ModelInfo,
        family: OutputFamily,
        input_hw: tuple[int, int],
        input_dtype: type[np.floating],
        output_shapes: tuple[tuple[int, ...], ...],
        nhwc: bool = False,
        dynamic_stride: int | None = None,
    ) -> None:
        self._session = session
        self._info = info
        self._family = family
        self._input_hw = input_hw
        self._input_dtype = input_dtype
        self._output_shapes = output_shapes
        self._nhwc = nhwc
        self._input_name: str = session.get_inputs()[0].name
        self._output_names: list[str] = [o.name for o in session.get_outputs()][
            : len(output_shapes)
        ]
        self._stride = None if family.stretch else dynamic_stride
        self._plan = _plan_stretch if family.stretch else _plan
        # Dimensions the graph leaves free (a dynamic model's anchors) are not checked.
        self._fixed = [tuple(isinstance(d, int) for d in o.shape) for o in session.get_outputs()][
            : len(output_shapes)
        ]
        self._n_classes = len(info.class_names)
        self._nms_iou = family.nms_iou
        # Input tensors are reused (a pool: detect() and the pipeline's lanes run on several
        # threads); an NHWC or non-float32 input is made fresh by `prepare`.
        self._reuse_buffer = not nhwc and input_dtype is np.float32
        self._buffers = InputBuffers()

    @property
    def info(self) -> ModelInfo:
        return self._info

    @property
    def family(self) -> OutputFamily:
        return self._family

    @property
    def session(self) -> ort.InferenceSession:
        """The onnxruntime session (the benchmark times bare `run` calls on it)."""
        return self._session

    @property
    def input_name(self) -> str:
        return self._input_name

    @property
    def output_names(self) -> list[str]:
        return list(self._output_names)

    @property
    def input_hw(self) -> tuple[int, int]:
        """(height, width) frames are fitted into: the fixed input, or a dynamic model's
        `imgsz` (its input is then cut to stride multiples: a 640 x 480 frame stays so)."""
        return self._input_hw

    def prepare(self, frame: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.floating], Letterbox]:
        """A new model input for a frame and the letterbox used; DetectorError for a bad frame."""
        img = check_frame(frame)
        plan = self._geometry(img.shape[:2])
        x: npt.NDArray[np.floating] = to_input_tensor(img, plan)
        if self._nhwc:
            x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        if self._input_dtype is not np.float32:
            x = x.astype(self._input_dtype)
        return x, plan

    def _geometry(self, frame_hw: tuple[int, int]) -> Letterbox:
        if self._stride:
            return _plan(frame_hw, self._input_hw, self._stride)
        return self._plan(frame_hw, self._input_hw)

    def prepare_input(
        self, frame: npt.NDArray[np.uint8]
    ) -> tuple[npt.NDArray[np.floating], Letterbox]:
        """`prepare` in a tensor from the pool that `detect_prepared` returns it to (the
        pipeline makes it on the acquisition thread)."""
        if not self._reuse_buffer:
            return self.prepare(frame)
        img = check_frame(frame)
        plan = self._geometry(img.shape[:2])
        buf = self._buffers.take((1, 3, *plan.input_hw))
        return PooledInput(to_input_tensor(img, plan, out=buf), plan)

    def detect_prepared(self, prepared: tuple[npt.NDArray[np.floating], Letterbox]) -> Detections:
        """`detect` on an input made by `prepare_input` (inference overlaps acquisition)."""
        x, plan = prepared
        try:
            outs = self._session.run(self._output_names, {self._input_name: x})
        except Exception as exc:  # onnxruntime raises its own exception types
            raise DetectorError(f"model error: {str(exc).splitlines()[0][:200]}") from exc
        finally:
            if isinstance(prepared, PooledInput):
                self._buffers.give(prepared.x)
        return self.decode(outs, plan)

    def detect(self, frame: npt.NDArray[np.uint8]) -> Detections:
        """Detections in frame pixels, best first; DetectorError on a bad frame or model error."""
        return self.detect_prepared(self.prepare_input(frame))

    def decode(
        self, outputs: npt.NDArray[np.generic] | list[npt.NDArray[np.generic]], plan: Letterbox
    ) -> Detections:
        """Raw model outputs -> Detections in frame pixels (floor, NMS, back-mapping, masks)."""
        raw = outputs if isinstance(outputs, list) else [outputs]
        outs = [np.asarray(o, dtype=np.float32) for o in raw]
        shapes = tuple(o.shape for o in outs)
        if not self._shapes_fit(shapes):
            expected = self._output_shapes
            raise DetectorError(f"model output shape {_text(shapes)}, expected {_text(expected)}")
        if not all(math.isfinite(float(o.sum())) for o in outs):
            # A NaN must never be filtered away as "below the floor": that would pass a part.
            # One sum catches NaN and inf alike (and absurd magnitudes, a broken model too).
            raise DetectorError("model output contains NaN or infinity")
        cand = self._family.decode(outs, DETECTION_FLOOR, MAX_CANDIDATES, self._n_classes)
        boxes = cand.xyxy
        if self._family.normalised_boxes:
            in_h, in_w = self._input_hw
            boxes = boxes * np.array([in_w, in_h, in_w, in_h], np.float32)
        if self._family.needs_nms:  # in model-input pixels, as Ultralytics does
            keep = nms_class_aware(boxes, cand.confidence, cand.class_id, self._nms_iou)
        else:
            keep = np.argsort(-cand.confidence, kind="stable")
        keep = cap_keeping_class_best(keep, cand.class_id, MAX_DETECTIONS)
        if self._family.per_image:
            h, w = plan.frame_hw
            xyxy = np.tile(np.array([[0, 0, w, h]], np.float32), (len(keep), 1))
        else:
            xyxy = boxes_to_frame(boxes[keep], plan)
        dets = Detections(xyxy, cand.confidence[keep], cand.class_id[keep])
        if self._family.has_masks and cand.mask_coef is not None:
            dets = self._with_masks(dets, cand.mask_coef[keep], outs[1][0], plan)
        return dets

    def _shapes_fit(self, shapes: tuple[tuple[int, ...], ...]) -> bool:
        if len(shapes) != len(self._output_shapes):
            return False
        return all(
            len(got) == len(want)
            and all(g == w or not f for g, w, f in zip(got, want, fixed, strict=False))
            for got, want, fixed in zip(shapes, self._output_shapes, self._fixed, strict=False)
        )

    def _with_masks(
        self,
        dets: Detections,
        coef: npt.NDArray[np.float32],
        prototypes: npt.NDArray[np.float32],
        plan: Letterbox,
    ) -> Detections:
        """Detections carrying their masks, areas and outlines.

        At or above `MASK_FLOOR` each mask is rendered (exactly, at frame resolution) and
        an empty one drops its detection, as the exporter's `predict` does (a segment with
        no pixel is not reported). Below it, rendering hundreds of weak candidates per
        frame would cost more than the model: they keep their box, area -1 (not measured)
        and an empty outline.
        """
        masks = InstanceMasks(coef, prototypes, plan.input_hw)
        n = len(dets)
        areas = np.full(n, -1, np.int64)
        lengths = np.full(n, -1.0, np.float32)
        outlines = np.empty(n, dtype=object)
        outlines[:] = [_NO_OUTLINE] * n
        measured = np.flatnonzero(dets.confidence >= np.float32(MASK_FLOOR))
        regions = box_masks(masks.select(measured), dets.xyxy[measured], plan.frame_hw)
        for i, (top, left, m) in zip(measured, regions, strict=True):
            areas[i] = int(m.sum())
            outlines[i] = mask_polygon(m) + np.array([left, top], np.int32)
            lengths[i] = mask_length(outlines[i])
        data: dict[str, npt.NDArray[Any]] = {
            MASK_AREA: areas,
            MASK_LENGTH: lengths,
            POLYGON: outlines,
        }
        withmasks = Detections(dets.xyxy, dets.confidence, dets.class_id, data, masks)
        return withmasks.select(np.flatnonzero(areas != 0))


_NO_OUTLINE = np.zeros((0, 2), np.int32)


def _text(shapes: tuple[tuple[int, ...], ...]) -> str:
    return str(shapes[0]) if len(shapes) == 1 else " + ".join(map(str, shapes))
