"""Model input tensors handed from the acquisition thread to a run and back again.

The pipeline makes part n+1's input while part n is inferred, so each input needs its
own tensor; a fresh 640x640 float32 array per frame (4.9 MB) costs its page faults on
every frame (~0.7 ms of the acquisition thread's 1.3 ms, measured in `bench/run.py
pipeline`). A tensor goes back to the pool once its run returned, and the next frame is
written into memory already mapped.
"""

from __future__ import annotations

import queue
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from station.detectors.preprocess import Letterbox


class PooledInput(NamedTuple):
    """A prepared input whose tensor returns to its pool after the run."""

    x: npt.NDArray[np.float32]
    plan: Letterbox


class InputBuffers:
    """Free float32 input tensors; at most `keep` are held."""

    def __init__(self, keep: int = 8) -> None:
        self._free: queue.SimpleQueue[npt.NDArray[np.float32]] = queue.SimpleQueue()
        self._keep = keep

    def take(self, shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
        try:
            buf = self._free.get_nowait()
        except queue.Empty:
            return np.empty(shape, np.float32)
        return buf if buf.shape == shape else np.empty(shape, np.float32)

    def give(self, buf: npt.NDArray[np.float32]) -> None:
        if self._free.qsize() < self._keep:
            self._free.put(buf)
