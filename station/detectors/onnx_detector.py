"""`OnnxDetector`: one onnxruntime session plus the output family that decodes it.

`detect` returns every candidate with confidence >= `DETECTION_FLOOR`
(0.001) after NMS, at most `MAX_DETECTIONS` (300) per frame, best first
(at most `MAX_CANDIDATES_PER_CLASS` per class enter NMS).
It does not apply the user's thresholds: the core does, so the tuning view
sees the whole score distribution, not just what cleared today's setting.
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from station.core.detections import Detections
from station.core.ports import DetectorError, ModelInfo
from station.detectors.nms import nms_class_aware
from station.detectors.preprocess import (
    Letterbox,
    boxes_to_frame,
    check_frame,
    plan_letterbox,
    to_input_tensor,
)
from station.detectors.registry import OutputFamily

DETECTION_FLOOR = 0.001
"""Candidates below this confidence are dropped before NMS (inclusive: >= is kept)."""
MAX_DETECTIONS = 300
"""About this many detections per frame leave `detect`: the highest-scoring, plus the
best of any class not among them (so every class's maximum is exact)."""
MAX_CANDIDATES_PER_CLASS = 20
"""Each class's best this-many candidates enter NMS, bounding its cost; a class's best
candidate always survives, so the per-class maximum a reject decision rests on is exact."""

_plan = functools.lru_cache(maxsize=8)(plan_letterbox)


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
        output_shape: tuple[int, ...],
        nhwc: bool = False,
    ) -> None:
        self._session = session
        self._info = info
        self._family = family
        self._input_hw = input_hw
        self._input_dtype = input_dtype
        self._output_shape = output_shape
        self._nhwc = nhwc
        self._input_name: str = session.get_inputs()[0].name
        self._output_names: list[str] = [session.get_outputs()[0].name]
        self._n_classes = len(info.class_names)
        self._nms_iou = family.nms_iou
        # One reusable input buffer per calling thread: detect() may run on several threads.
        self._local = threading.local()
        self._reuse_buffer = not nhwc and input_dtype is np.float32

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

    def prepare(self, frame: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.floating], Letterbox]:
        """A new model input for a frame and the letterbox used; DetectorError for a bad frame."""
        img = check_frame(frame)
        plan = _plan(img.shape[:2], self._input_hw)
        x: npt.NDArray[np.floating] = to_input_tensor(img, plan)
        if self._nhwc:
            x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        if self._input_dtype is not np.float32:
            x = x.astype(self._input_dtype)
        return x, plan

    def detect(self, frame: npt.NDArray[np.uint8]) -> Detections:
        """Detections in frame pixels, best first; DetectorError on a bad frame or model error."""
        if self._reuse_buffer:
            img = check_frame(frame)
            plan = _plan(img.shape[:2], self._input_hw)
            buf = getattr(self._local, "buffer", None)
            if buf is None:
                buf = self._local.buffer = np.empty((1, 3, *self._input_hw), np.float32)
            x: npt.NDArray[np.floating] = to_input_tensor(img, plan, out=buf)
        else:
            x, plan = self.prepare(frame)
        try:
            out = self._session.run(self._output_names, {self._input_name: x})[0]
        except Exception as exc:  # onnxruntime raises its own exception types
            raise DetectorError(f"model error: {str(exc).splitlines()[0][:200]}") from exc
        return self.decode(out, plan)

    def decode(self, output: npt.NDArray[np.generic], plan: Letterbox) -> Detections:
        """Raw model output -> Detections in frame pixels (floor, NMS, back-mapping)."""
        out = np.asarray(output, dtype=np.float32)
        if out.shape != self._output_shape:
            raise DetectorError(f"model output shape {out.shape}, expected {self._output_shape}")
        if not math.isfinite(float(out.sum())):
            # A NaN must never be filtered away as "below the floor": that would pass a part.
            # One sum catches NaN and inf alike (and absurd magnitudes, a broken model too).
            raise DetectorError("model output contains NaN or infinity")
        cand = self._family.decode(out, DETECTION_FLOOR, MAX_CANDIDATES_PER_CLASS, self._n_classes)
        if self._family.needs_nms:  # in model-input pixels, as Ultralytics does
            keep = nms_class_aware(cand.xyxy, cand.confidence, cand.class_id, self._nms_iou)
        else:
            keep = np.argsort(-cand.confidence, kind="stable")
        keep = cap_keeping_class_best(keep, cand.class_id, MAX_DETECTIONS)
        if self._family.per_image:
            h, w = plan.frame_hw
            xyxy = np.tile(np.array([[0, 0, w, h]], np.float32), (len(keep), 1))
        else:
            xyxy = boxes_to_frame(cand.xyxy[keep], plan)
        return Detections(xyxy, cand.confidence[keep], cand.class_id[keep])


def cap_keeping_class_best(
    order: npt.NDArray[np.intp], class_id: npt.NDArray[np.int64], limit: int
) -> npt.NDArray[np.intp]:
    """The first `limit` of `order` (best first), plus each class's first entry beyond them.

    A reject decision rests on each class's best score: a global cap must
    never drop it just because other classes filled the quota.
    """
    if len(order) <= limit:
        return order
    _, first = np.unique(class_id[order], return_index=True)
    take = np.zeros(len(order), dtype=bool)
    take[:limit] = True
    take[first] = True
    return order[take]
