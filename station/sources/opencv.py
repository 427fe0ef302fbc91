"""`cv2.VideoCapture` as a camera: a device index, a video file, an RTSP/HTTP URL or a
GStreamer pipeline (`... ! appsink`).

A video file is a replay: at its end it loops or raises SourceExhausted. Anything
else is live: a failed read means the stream is gone (CameraLost), and the worker
reopens it with backoff.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from station.core.errors import StationError
from station.core.ports import CameraInfo, CameraLost, Frame, SourceExhausted
from station.sources.options import SourceOptions

OPTIONS = ("uri", "device", "backend", "width", "height", "fps", "loop", "timeout_s")
BACKENDS = {
    "any": cv2.CAP_ANY,
    "ffmpeg": cv2.CAP_FFMPEG,
    "gstreamer": cv2.CAP_GSTREAMER,
    "v4l2": cv2.CAP_V4L2,
    "images": cv2.CAP_IMAGES,
}


class OpenCvCamera:
    """One VideoCapture; `uri` (file, URL, pipeline) or `device` (index), not both."""

    def __init__(
        self,
        *,
        uri: str | None = None,
        device: int | None = None,
        backend: str = "any",
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        loop: bool = True,
        timeout_s: float = 5.0,
    ) -> None:
        if (uri is None) == (device is None):
            raise StationError("[camera] kind 'opencv' needs exactly one of uri or device")
        self.uri = uri
        self.device = device
        self.backend = backend
        self.width = width
        self.height = height
        self.fps = fps
        self.loop = loop
        self.timeout_s = timeout_s
        self.is_file = uri is not None and Path(uri).expanduser().is_file()
        self._capture: cv2.VideoCapture | None = None
        self._sequence = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> OpenCvCamera:
        opts = SourceOptions("opencv", options, OPTIONS)
        return cls(
            uri=opts.get_str("uri"),
            device=opts.get_int("device", None, minimum=0),
            backend=opts.get_choice("backend", "any", BACKENDS),
            width=opts.get_int("width", None, minimum=1),
            height=opts.get_int("height", None, minimum=1),
            fps=opts.get_float("fps", None, minimum=0.0),
            loop=opts.get_bool("loop", True),
            timeout_s=opts.get_float("timeout_s", 5.0, minimum=0.1) or 5.0,
        )

    @property
    def name(self) -> str:
        return f"device {self.device}" if self.uri is None else self.uri

    def open(self) -> CameraInfo:
        self.close()
        api = BACKENDS[self.backend]
        if self.uri is None:
            capture = cv2.VideoCapture(int(self.device or 0), api)
        elif "://" in self.uri:
            # Network streams honour these (FFmpeg); a dead RTSP server must not hang us.
            ms = int(self.timeout_s * 1000)
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
            capture = cv2.VideoCapture(self.uri, api, params)
        else:
            capture = cv2.VideoCapture(str(Path(self.uri).expanduser()), api)
        if not capture.isOpened():
            capture.release()
            if self.is_file:
                raise StationError(f"[camera] uri = '{self.uri}': not a video OpenCV can read")
            raise CameraLost(f"cannot open {self.name}")
        for prop, value in (
            (cv2.CAP_PROP_FRAME_WIDTH, self.width),
            (cv2.CAP_PROP_FRAME_HEIGHT, self.height),
            (cv2.CAP_PROP_FPS, self.fps),
        ):
            if value is not None and not self.is_file:
                capture.set(prop, float(value))
        self._capture = capture
        return CameraInfo(
            name=self.name,
            kind="opencv",
            width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            fps=float(capture.get(cv2.CAP_PROP_FPS)),
        )

    def read(self, timeout_s: float = 2.0) -> Frame:
        """The next frame. VideoCapture blocks; the backend's own timeout bounds it."""
        capture = self._capture
        if capture is None:
            raise CameraLost(f"{self.name} is not open")
        ok, image = capture.read()
        if not ok and self.is_file:
            if not self.loop:
                raise SourceExhausted(f"video {self.uri}: end of file")
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = capture.read()
        if not ok or image is None:
            self.close()
            raise CameraLost(f"{self.name}: no frame")
        meta: dict[str, Any] = {"source": "opencv"}
        if self.is_file:
            meta["pos_ms"] = float(capture.get(cv2.CAP_PROP_POS_MSEC))
        sequence = self._sequence
        self._sequence += 1
        return Frame(
            image=np.asarray(image, dtype=np.uint8),
            sequence=sequence,
            timestamp_s=time.time(),
            meta=meta,
        )

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
