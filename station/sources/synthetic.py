"""The seeded synthetic line as a camera: one generated part per frame, with its truth.

Each Frame carries the part's GroundTruth, so the station can estimate its escape and
scrap rates live. `parts_per_minute = 0` delivers parts as fast as they are read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from station.core.ports import CameraInfo, CameraLost, Frame, GroundTruth, ReadInterrupted
from station.sources.options import SourceOptions
from station.sources.pacing import Pacer
from station.synthetic.line import CLASS_NAMES, PartGenerator

OPTIONS = ("parts_per_minute", "seed", "width", "height")


class SyntheticCamera:
    """Frames of `PartGenerator(seed, width, height)`, part n at sequence n.

    The wait between parts is the line's pace, not a fault: `read` waits for the next
    part even beyond `timeout_s` (at 30 parts/min and above that is at most 2 s).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        width: int = 640,
        height: int = 480,
        parts_per_minute: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.seed = seed
        self.width = width
        self.height = height
        self.parts_per_minute = parts_per_minute
        self._pacer = Pacer(parts_per_minute / 60.0, clock=clock, sleep=sleep)
        self._generator: PartGenerator | None = None
        self._next_index = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SyntheticCamera:
        opts = SourceOptions("synthetic", options, OPTIONS)
        return cls(
            seed=opts.get_int("seed", 0, minimum=0) or 0,
            width=opts.get_int("width", 640, minimum=32) or 640,
            height=opts.get_int("height", 480, minimum=32) or 480,
            parts_per_minute=opts.get_float("parts_per_minute", 60.0, minimum=0.0) or 0.0,
        )

    def open(self) -> CameraInfo:
        """Starts (or resumes after a close) the line; the part numbering continues."""
        if self._generator is None:
            self._generator = PartGenerator(self.seed, width=self.width, height=self.height)
        self._pacer.restart()
        return CameraInfo(
            name=f"synthetic line (seed {self.seed})",
            kind="synthetic",
            width=self.width,
            height=self.height,
            fps=self.parts_per_minute / 60.0,
        )

    def read(self, timeout_s: float = 2.0) -> Frame:
        if self._generator is None:
            raise CameraLost("synthetic line is not open")
        if not self._pacer.wait_next():
            raise ReadInterrupted("inspection is stopping")
        index = self._next_index
        part = self._generator.part(index)
        self._next_index += 1
        truth = GroundTruth(xyxy=part.boxes_xyxy, class_id=part.class_ids, class_names=CLASS_NAMES)
        return Frame(
            image=part.image,
            sequence=index,
            timestamp_s=time.time(),
            truth=truth,
            meta={"source": "synthetic", "part_index": index, "defective": part.defective},
        )

    def interrupt(self) -> None:
        """Cut a read waiting for its frame's time short (any thread): inspection stops."""
        self._pacer.interrupt()

    def close(self) -> None:
        self._generator = None
