"""Basler cameras through pypylon (the `pylon` extra); `PYLON_CAMEMU=n` emulates n cameras.

Same recipe options as `gige` where pylon has them. Each grab result's buffer is
copied and released at once, so pylon's buffer pool never runs dry. A removed camera
or a grab timeout raises CameraLost; `open` reconnects.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Any

from station.core.errors import StationError
from station.core.ports import CameraInfo, CameraLost, CorruptFrame, Frame
from station.sources.genicam import (
    COMMON_OPTIONS,
    check_choices,
    check_offered,
    check_range,
    check_region,
    converter_for,
    option_kwargs,
    to_image,
)
from station.sources.options import SourceOptions
from station.sources.pixels import Converter, mono8

OPTIONS = COMMON_OPTIONS


def _pylon() -> tuple[Any, Any]:
    """(pylon, genicam), or a StationError saying which extra to install."""
    try:
        from pypylon import genicam, pylon
    except ImportError as exc:
        raise StationError(
            f"[camera] kind 'pylon' needs pypylon: install the station's 'pylon' extra ({exc})"
        ) from exc
    return pylon, genicam


def _set_first(camera: str, nodemap: Any, names: tuple[str, ...], value: Any, what: str) -> None:
    """Sets the first of `names` the camera has (SFNC and older Basler names differ)."""
    _, genicam = _pylon()
    for name in names:
        node = nodemap.GetNode(name)
        if node is not None and genicam.IsWritable(node):
            if hasattr(node, "Min"):
                check_range(camera, what, value, node.Min, node.Max)
            node.SetValue(value)
            return
    raise StationError(f"[camera] {what}: this camera has none of {', '.join(names)}")


class PylonCamera:
    """A Basler camera; `camera_id` matches serial number, user name or friendly name."""

    def __init__(
        self,
        *,
        camera_id: str | None = None,
        exposure_us: float | None = None,
        gain_db: float | None = None,
        pixel_format: str | None = None,
        region: tuple[int, int, int, int] | None = None,
        trigger: str = "free-run",
        frame_rate: float | None = None,
        timeout_s: float | None = None,
        n_buffers: int = 4,
    ) -> None:
        check_choices(pixel_format, trigger)
        self.camera_id = camera_id
        self.exposure_us = exposure_us
        self.gain_db = gain_db
        self.pixel_format = pixel_format
        self.region = region
        self.trigger = trigger
        self.frame_rate = frame_rate
        self.timeout_s = timeout_s
        self.n_buffers = n_buffers
        self._camera: Any = None
        self._convert: Converter = mono8
        self._format = ""
        self._sequence = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PylonCamera:
        return cls(**option_kwargs(SourceOptions("pylon", options, OPTIONS)))

    @property
    def name(self) -> str:
        return self.camera_id or "first Basler camera"

    def _device_info(self, pylon: Any) -> Any:
        devices = pylon.TlFactory.GetInstance().EnumerateDevices()
        for info in devices:
            ids = (info.GetSerialNumber(), info.GetUserDefinedName(), info.GetFriendlyName())
            if self.camera_id is None or self.camera_id in ids:
                return info
        raise CameraLost(f"Basler camera {self.name}: not found ({len(devices)} cameras seen)")

    def open(self) -> CameraInfo:
        """Connects, configures and starts grabbing; CameraLost if unreachable."""
        self._teardown()
        pylon, genicam = _pylon()
        info = self._device_info(pylon)
        try:
            camera = pylon.InstantCamera(pylon.TlFactory.GetInstance().CreateDevice(info))
            camera.Open()
        except genicam.GenericException as exc:
            raise CameraLost(f"Basler camera {self.name}: {exc}") from exc
        try:
            self._configure(camera)
            camera.MaxNumBuffer.Value = self.n_buffers
            camera.StartGrabbing(pylon.GrabStrategy_OneByOne)
        except StationError:
            camera.Close()
            raise
        except genicam.GenericException as exc:
            camera.Close()
            raise CameraLost(f"Basler camera {self.name}: {exc}") from exc
        self._camera = camera
        nodemap = camera.GetNodeMap()
        fps = 0.0
        for name in ("ResultingFrameRate", "ResultingFrameRateAbs"):
            node = nodemap.GetNode(name)
            if node is not None and genicam.IsReadable(node):
                fps = float(node.Value)
                break
        return CameraInfo(
            name=f"{info.GetModelName()} ({info.GetSerialNumber()})",
            kind="pylon",
            width=int(camera.Width.Value),
            height=int(camera.Height.Value),
            fps=fps if self.trigger == "free-run" else 0.0,
        )

    def _configure(self, camera: Any) -> None:
        nodemap = camera.GetNodeMap()
        if self.pixel_format is not None:
            check_offered(self.name, self.pixel_format, tuple(camera.PixelFormat.Symbolics))
            camera.PixelFormat.Value = self.pixel_format
        self._format = str(camera.PixelFormat.Value)
        self._convert = converter_for(self.name, self._format)
        if self.region is not None:
            x, y, w, h = self.region
            sensor = (int(camera.WidthMax.Value), int(camera.HeightMax.Value))
            check_region(self.name, self.region, *sensor)
            camera.OffsetX.Value, camera.OffsetY.Value = 0, 0
            camera.Width.Value, camera.Height.Value = w, h
            camera.OffsetX.Value, camera.OffsetY.Value = x, y
        if self.exposure_us is not None:
            exposure_names = ("ExposureTime", "ExposureTimeAbs")
            _set_first(self.name, nodemap, exposure_names, self.exposure_us, "exposure_us")
        if self.gain_db is not None:
            _set_first(self.name, nodemap, ("Gain", "GainAbs"), self.gain_db, "gain_db")
        camera.TriggerSelector.Value = "FrameStart"
        if self.trigger == "software":
            camera.TriggerMode.Value = "On"
            camera.TriggerSource.Value = "Software"
        else:
            camera.TriggerMode.Value = "Off"
            if self.frame_rate is not None:
                enable = nodemap.GetNode("AcquisitionFrameRateEnable")
                if enable is not None:
                    enable.Value = True
                _set_first(
                    self.name,
                    nodemap,
                    ("AcquisitionFrameRate", "AcquisitionFrameRateAbs"),
                    self.frame_rate,
                    "frame_rate",
                )

    def read(self, timeout_s: float = 2.0) -> Frame:
        """The next frame; CameraLost on timeout or removal, CorruptFrame on a failed grab."""
        camera = self._camera
        if camera is None:
            raise CameraLost(f"Basler camera {self.name} is not open")
        pylon, genicam = _pylon()
        timeout_ms = int(1000 * (self.timeout_s if self.timeout_s is not None else timeout_s))
        try:
            if self.trigger == "software" and camera.WaitForFrameTriggerReady(
                timeout_ms, pylon.TimeoutHandling_Return
            ):
                camera.ExecuteSoftwareTrigger()
            result = camera.RetrieveResult(timeout_ms, pylon.TimeoutHandling_Return)
        except genicam.GenericException as exc:
            self._teardown()
            raise CameraLost(f"Basler camera {self.name}: {exc}") from exc
        if result is None or not result.IsValid():
            removed = camera.IsCameraDeviceRemoved()
            self._teardown()
            why = "removed" if removed else f"no frame for {timeout_ms / 1000:g} s"
            raise CameraLost(f"Basler camera {self.name}: {why}")
        sequence = self._sequence
        self._sequence += 1
        timestamp_s = time.time()
        try:
            if not result.GrabSucceeded():
                raise CorruptFrame(
                    f"Basler camera {self.name}: {result.GetErrorDescription()}",
                    sequence=sequence,
                    timestamp_s=timestamp_s,
                )
            width, height = int(result.GetWidth()), int(result.GetHeight())
            data = bytes(result.GetBuffer())  # a copy: the pylon buffer goes back now
            meta = {
                "source": "pylon",
                "frame_id": int(result.GetBlockID()),
                "device_timestamp": int(result.GetTimeStamp()),
                "pixel_format": self._format,
            }
        finally:
            result.Release()
        image = to_image(
            self._convert,
            data,
            width,
            height,
            who=f"Basler camera {self.name}",
            sequence=sequence,
            timestamp_s=timestamp_s,
        )
        return Frame(image=image, sequence=sequence, timestamp_s=timestamp_s, meta=meta)

    def _teardown(self) -> None:
        camera = self._camera
        self._camera = None
        if camera is not None:
            _, genicam = _pylon()
            with contextlib.suppress(genicam.GenericException):
                camera.StopGrabbing()
                camera.Close()

    def close(self) -> None:
        self._teardown()
