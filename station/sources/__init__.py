"""Camera sources: one module per technology, chosen by the recipe's `[camera] kind`.

`open_source(config)` builds the source a recipe names and checks its options
(a StationError names the bad key) without touching the hardware; the pipeline
(`station.pipeline`) then calls `open()` and `read(timeout_s)` on one thread and
speaks the error vocabulary of `station.core.ports` (CameraLost is retried with the
pipeline's backoff; CorruptFrame, SourceExhausted and StationError are not).
Every Frame is a read-only copy with a `sequence` that keeps counting across
reconnects and a `timestamp_s` in seconds since the epoch (host clock) at acquisition.

Kinds are looked up in a registry of "module:Class" names and imported on first use,
so a station without PyGObject or pypylon still runs the synthetic line.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from station.core.errors import StationError
from station.core.ports import FrameSource

__all__ = ["PLC_TRIGGER", "SOURCE_KINDS", "open_source", "plc_triggered"]

#: kind -> "module:Class"; each class has `from_options(options) -> FrameSource`.
SOURCE_KINDS: dict[str, str] = {
    "synthetic": "station.sources.synthetic:SyntheticCamera",
    "folder": "station.sources.folder:FolderCamera",
    "opencv": "station.sources.opencv:OpenCvCamera",
    "gige": "station.sources.gige:GigECamera",
    "pylon": "station.sources.pylon:PylonCamera",
}


PLC_TRIGGER = "plc"
"""`[camera] trigger = "plc"`: one frame per PLC trigger_id, for every kind."""
SOFTWARE_TRIGGERED = ("gige", "pylon")
"""Kinds that fire a software trigger per read; the others give their next frame."""
UNPACED = {"synthetic": "parts_per_minute", "folder": "fps"}
"""The option that paces a replay: off when the PLC paces the line."""


class CameraConfigLike(Protocol):
    """What open_source needs of `station.services.recipe.CameraConfig`."""

    @property
    def kind(self) -> str: ...

    @property
    def options(self) -> Mapping[str, Any]: ...


def open_source(config: CameraConfigLike) -> FrameSource:
    """The (not yet opened) source for `config.kind` with `config.options` checked.

    Raises StationError for an unknown kind or a bad option; never touches hardware.
    """
    target = SOURCE_KINDS.get(config.kind)
    if target is None:
        raise StationError(
            f"[camera] kind = {config.kind!r}: expected one of {', '.join(SOURCE_KINDS)}"
        )
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    source: FrameSource = cls.from_options(_source_options(config))
    return source


def plc_triggered(config: CameraConfigLike) -> bool:
    """True when the PLC triggers each part (`trigger = "plc"`)."""
    return config.options.get("trigger") == PLC_TRIGGER


def _source_options(config: CameraConfigLike) -> dict[str, Any]:
    """The options the source itself takes: `trigger = "plc"` said in its own terms."""
    options = dict(config.options)
    if not plc_triggered(config):
        return options
    if config.kind in SOFTWARE_TRIGGERED:
        options["trigger"] = "software"
    else:
        del options["trigger"]
        pacing = UNPACED.get(config.kind)
        if pacing is not None:
            options[pacing] = 0
    return options
