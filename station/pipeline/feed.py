"""How acquired parts reach inspection: inline (serial) or from a prefetching thread.

Both keep the order in which parts were acquired and drop nothing: a part that
cannot be inspected arrives as an `Acquired` with its NO DECISION reason.
"""

from __future__ import annotations

from typing import Protocol

from station.pipeline.acquisition import CameraLink, Item


class Feed(Protocol):
    """Parts and camera changes for the inspection side, in acquisition order."""

    def demand(self, *, running: bool, parts: int) -> None:
        """Acquire continuously (`running`), and/or `parts` more parts."""

    def next(self) -> tuple[list[Item], float]:
        """What happened since the last call, and seconds until the next call helps."""
        ...

    def ready(self) -> bool:
        """Is the next part already acquired (so the pipeline may overlap work with it)?"""
        ...

    def close(self) -> list[Item]:
        """Stop acquiring and close the camera; the items not yet handed out, in order."""
        ...

    def interrupt(self) -> None:
        """From any thread, ahead of a stop: cut short a read waiting for a paced frame."""

    def shutdown(self) -> None:
        """End any thread of the feed (after `close`)."""


class InlineFeed:
    """Acquisition on the caller's thread: one part per `next()`."""

    def __init__(self, link: CameraLink) -> None:
        self._link = link

    def demand(self, *, running: bool, parts: int) -> None:
        return None

    def next(self) -> tuple[list[Item], float]:
        return self._link.acquire()

    def ready(self) -> bool:
        return False

    def close(self) -> list[Item]:
        return self._link.close()

    def interrupt(self) -> None:
        self._link.interrupt()

    def shutdown(self) -> None:
        return None


def make_feed(link: CameraLink, prefetch: int) -> Feed:
    """Inline for `prefetch` 0; else a thread acquiring up to `prefetch` parts ahead."""
    if prefetch <= 0:
        return InlineFeed(link)
    from station.pipeline.prefetch import PrefetchFeed

    return PrefetchFeed(link, depth=prefetch)
