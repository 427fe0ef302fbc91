"""open_source: the recipe's [camera] kind picks the module; options are checked by name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from station.core.errors import StationError
from station.core.ports import FrameSource
from station.sources import SOURCE_KINDS, open_source
from station.sources.folder import FolderCamera
from station.sources.gige import GigECamera
from station.sources.opencv import OpenCvCamera
from station.sources.synthetic import SyntheticCamera


@dataclass(frozen=True)
class Config:
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)


def test_every_kind_of_the_brief_is_registered() -> None:
    assert set(SOURCE_KINDS) == {"synthetic", "folder", "opencv", "gige", "pylon"}


@pytest.mark.parametrize(
    ("config", "cls"),
    [
        (Config("synthetic", {"seed": 3, "parts_per_minute": 0}), SyntheticCamera),
        (Config("folder", {"path": "/tmp", "loop": False, "fps": 2.5}), FolderCamera),
        (Config("opencv", {"device": 0}), OpenCvCamera),
        (Config("opencv", {"uri": "rtsp://10.0.0.9/stream", "backend": "ffmpeg"}), OpenCvCamera),
        (
            Config(
                "gige",
                {
                    "camera_id": "Basler-123",
                    "exposure_us": 800,
                    "gain_db": 2.5,
                    "pixel_format": "BayerRG8",
                    "region": [0, 0, 640, 480],
                    "trigger": "software",
                    "timeout_s": 1,
                },
            ),
            GigECamera,
        ),
    ],
)
def test_kind_chooses_the_module(config: Config, cls: type) -> None:
    source = open_source(config)
    assert isinstance(source, cls)
    assert isinstance(source, FrameSource)


def test_options_reach_the_source() -> None:
    source = open_source(
        Config("gige", {"exposure_us": 800, "region": [8, 16, 320, 240], "trigger": "software"})
    )
    assert isinstance(source, GigECamera)
    assert (source.exposure_us, source.region, source.trigger) == (
        800.0,
        (8, 16, 320, 240),
        "software",
    )
    assert source.camera_id is None  # the first camera found


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (Config("firewire"), r"\[camera\] kind = 'firewire': expected one of synthetic, folder"),
        (Config("synthetic", {"sed": 3}), r"option 'sed' is not known for kind 'synthetic'"),
        (Config("synthetic", {"seed": "3"}), r"\[camera\] seed = '3' .*an integer"),
        (Config("synthetic", {"parts_per_minute": -1}), r"parts_per_minute = -1 .*>= 0"),
        (Config("synthetic", {"width": True}), r"width = True .*an integer"),
        (Config("folder"), r"\[camera\] path: kind 'folder' needs"),
        (Config("folder", {"path": "x", "loop": "yes"}), r"loop = 'yes' .*true or false"),
        (Config("opencv"), r"exactly one of uri or device"),
        (Config("opencv", {"uri": "a.mp4", "device": 0}), r"exactly one of uri or device"),
        (Config("opencv", {"device": 0, "backend": "dshow"}), r"backend = 'dshow' .*'ffmpeg'"),
        (Config("gige", {"exposure_ms": 5}), r"option 'exposure_ms' is not known .*exposure_us"),
        (Config("gige", {"trigger": "hardware"}), r"trigger = 'hardware' .*'free-run', 'software'"),
        (Config("gige", {"region": [0, 0, 640]}), r"region = \[0, 0, 640\] .*\[x, y, width"),
        (Config("gige", {"exposure_us": float("nan")}), r"exposure_us = nan .*a number"),
        (Config("gige", {"pixel_format": "YUV422_8"}), r"pixel_format = 'YUV422_8'"),
    ],
)
def test_bad_camera_config_names_the_field(config: Config, message: str) -> None:
    with pytest.raises(StationError, match=message):
        open_source(config)


def test_kind_key_inside_options_is_ignored(tmp_path: Path) -> None:
    source = open_source(Config("folder", {"kind": "folder", "path": str(tmp_path)}))
    assert isinstance(source, FolderCamera)
