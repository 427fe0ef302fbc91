"""Per-frame failures a source can report without the camera being lost.

`CameraLost` (in `station.core.ports`) means no frame can be had until the source
is reopened. The two errors here are narrower: the worker records NO DECISION for
one part (`CorruptFrame`) or stops because a replay has ended (`SourceExhausted`),
and in neither case should it start reconnecting.
"""

from __future__ import annotations


class CorruptFrame(RuntimeError):  # noqa: N818 (reads like CameraLost)
    """One frame could not be decoded or arrived incomplete; the next read may succeed.

    `sequence` is the number the part would have carried, so the NO DECISION record
    keeps the numbering of the parts around it.
    """

    def __init__(self, message: str, *, sequence: int, timestamp_s: float) -> None:
        super().__init__(message)
        self.sequence = sequence
        self.timestamp_s = timestamp_s


class SourceExhausted(RuntimeError):  # noqa: N818 (reads like CameraLost)
    """A replay (image folder, video file) opened with `loop = false` has no more frames."""
