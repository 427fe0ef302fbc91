"""GigE Vision and USB3 Vision cameras through Aravis (GObject introspection).

Needs Debian's `gir1.2-aravis-0.8` and PyGObject (the `gige` extra). Each frame is
copied out of the Aravis buffer, which goes straight back to the stream, and
converted to gray (Mono*) or BGR (RGB8, BGR8, Bayer*) uint8.

A lost camera shows up as a stream timeout or the device's `control-lost` signal
(heartbeat failure): `read` raises CameraLost, and `open` reconnects from scratch.

The stream's UDP receive buffer is set to max(2 x payload, 1 MiB) by default
(`socket_buffer_bytes` overrides it): Aravis 0.8 leaves the socket at the system's
`rmem_default` (about 208 KiB), smaller than one 512 x 512 frame sent in one burst,
and the kernel drops the rest of the frame's packets. The kernel caps the buffer at
`net.core.rmem_max`; the operator is told once when that cap bites.
"""

from __future__ import annotations

import contextlib
import threading
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
from station.sources.gige_host import socket_buffer_note, stream_buffer_bytes
from station.sources.options import SourceOptions
from station.sources.pixels import Converter, mono8

OPTIONS = (*COMMON_OPTIONS, "packet_size", "socket_buffer_bytes")


def _aravis() -> Any:
    """The Aravis module, or a StationError saying which package to install."""
    try:
        import gi

        gi.require_version("Aravis", "0.8")
        from gi.repository import Aravis
    except (ImportError, ValueError) as exc:
        raise StationError(
            "[camera] kind 'gige' needs Aravis through GObject introspection: install the "
            "Debian package gir1.2-aravis-0.8 and the station's 'gige' extra (PyGObject) "
            f"({exc})"
        ) from exc
    return Aravis


def list_cameras() -> list[str]:
    """The ids of the GigE Vision / USB3 Vision cameras Aravis can see now."""
    aravis = _aravis()
    aravis.update_device_list()
    return [aravis.get_device_id(i) for i in range(aravis.get_n_devices())]


class GigECamera:
    """An Aravis camera; `camera_id` None opens the first one found.

    `timeout_s`, when given, replaces the caller's read timeout (the recipe knows
    how slow its trigger is). Software trigger fires one frame per `read`.
    """

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
        packet_size: int | None = None,
        socket_buffer_bytes: int | None = None,
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
        self.packet_size = packet_size
        self.socket_buffer_bytes = socket_buffer_bytes
        self._buffer_noted = False
        self._camera: Any = None
        self._stream: Any = None
        self._device: Any = None
        self._lost_handler: int | None = None
        self._lost = threading.Event()
        self._convert: Converter = mono8
        self._format = ""
        self._sequence = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> GigECamera:
        opts = SourceOptions("gige", options, OPTIONS)
        return cls(
            **option_kwargs(opts),
            packet_size=opts.get_int("packet_size", None, minimum=576),
            socket_buffer_bytes=opts.get_int("socket_buffer_bytes", None, minimum=65_536),
        )

    @property
    def name(self) -> str:
        return self.camera_id or "first GigE/USB3 Vision camera"

    def open(self) -> CameraInfo:
        """Connects, configures and starts acquisition; after a loss, reconnects.

        CameraLost when the camera cannot be reached (retry later); StationError when
        an option does not fit this camera (retrying will not help).
        """
        self.close()
        aravis = _aravis()
        from gi.repository import GLib

        try:
            camera = aravis.Camera.new(self.camera_id)
        except GLib.Error as exc:
            raise CameraLost(f"GigE camera {self.name}: {exc.message}") from exc
        try:
            self._configure(aravis, camera)
            if camera.is_gv_device():
                device = camera.get_device()
                if device.get_device_address().get_address().get_is_loopback():
                    # The packet-socket fast path sees no traffic on loopback (fake camera).
                    camera.gv_set_stream_options(aravis.GvStreamOption.PACKET_SOCKET_DISABLED)
                if self.packet_size is not None:
                    camera.gv_set_packet_size(self.packet_size)
                self._lost.clear()
                self._device = device
                self._lost_handler = device.connect("control-lost", self._on_control_lost)
            stream = camera.create_stream(None, None)
            payload = camera.get_payload()
            notes = self._size_socket_buffer(aravis, camera, stream, payload)
            for _ in range(self.n_buffers):
                stream.push_buffer(aravis.Buffer.new_allocate(payload))
            camera.start_acquisition()
            self._warm_up(camera, stream)
        except GLib.Error as exc:
            self._device_disconnect()
            raise CameraLost(f"GigE camera {self.name}: {exc.message}") from exc
        self._camera, self._stream = camera, stream
        _, _, width, height = camera.get_region()
        fps = camera.get_frame_rate() if camera.is_frame_rate_available() else 0.0
        return CameraInfo(
            name=f"{camera.get_vendor_name()} {camera.get_model_name()} ({camera.get_device_id()})",
            kind="gige",
            width=width,
            height=height,
            fps=fps if self.trigger == "free-run" else 0.0,
            notes=notes,
        )

    def _warm_up(self, camera: Any, stream: Any) -> None:
        """Read and drop the stream's first frame. Aravis sizes the socket buffer when the
        first frame arrives, so that frame misses packets (or, triggered after a pause,
        times out); the first part must not pay for it."""
        if self.trigger == "software":
            camera.software_trigger()
        timeout_s = self.timeout_s if self.timeout_s is not None else 2.0
        buffer = stream.timeout_pop_buffer(int(timeout_s * 1e6))
        if buffer is not None:
            stream.push_buffer(buffer)

    def _size_socket_buffer(
        self, aravis: Any, camera: Any, stream: Any, payload: int
    ) -> tuple[str, ...]:
        """A fixed stream socket buffer (GigE Vision only); a note, once, when capped."""
        if not camera.is_gv_device():
            return ()
        wanted = stream_buffer_bytes(payload, self.socket_buffer_bytes)
        stream.set_property("socket-buffer", aravis.GvStreamSocketBuffer.FIXED)
        stream.set_property("socket-buffer-size", wanted)
        note = socket_buffer_note(self.name, wanted)
        if note is None or self._buffer_noted:
            return ()
        self._buffer_noted = True
        return (note,)

    def _configure(self, aravis: Any, camera: Any) -> None:
        """Applies the recipe's settings, refusing values this camera cannot take."""
        if self.pixel_format is not None:
            available = camera.dup_available_pixel_formats_as_strings()
            check_offered(self.name, self.pixel_format, available)
            camera.set_pixel_format_from_string(self.pixel_format)
        self._format = camera.get_pixel_format_as_string()
        self._convert = converter_for(self.name, self._format)
        if self.region is not None:
            check_region(self.name, self.region, *camera.get_sensor_size())
            camera.set_region(*self.region)
        if self.exposure_us is not None:
            low, high = camera.get_exposure_time_bounds()
            check_range(self.name, "exposure_us", self.exposure_us, low, high)
            camera.set_exposure_time(self.exposure_us)
        if self.gain_db is not None:
            low, high = camera.get_gain_bounds()
            check_range(self.name, "gain_db", self.gain_db, low, high)
            camera.set_gain(self.gain_db)
        camera.set_acquisition_mode(aravis.AcquisitionMode.CONTINUOUS)
        if self.trigger == "software":
            camera.set_trigger("Software")
        else:
            camera.clear_triggers()
            if self.frame_rate is not None:
                camera.set_frame_rate(self.frame_rate)

    def _on_control_lost(self, *_: object) -> None:
        # Runs on Aravis' heartbeat thread: only set a flag; `read` raises.
        self._lost.set()

    def read(self, timeout_s: float = 2.0) -> Frame:
        """The next frame; CameraLost on timeout or heartbeat loss, CorruptFrame when
        the frame arrived incomplete (missing packets)."""
        camera, stream = self._camera, self._stream
        if camera is None or stream is None:
            raise CameraLost(f"GigE camera {self.name} is not open")
        if self._lost.is_set():
            self._teardown(stop=False)
            raise CameraLost(f"GigE camera {self.name}: control connection lost")
        timeout_s = self.timeout_s if self.timeout_s is not None else timeout_s
        aravis = _aravis()
        if self.trigger == "software":
            camera.software_trigger()
        buffer = stream.timeout_pop_buffer(int(timeout_s * 1e6))
        if buffer is None:
            self._teardown(stop=False)
            raise CameraLost(f"GigE camera {self.name}: no frame for {timeout_s:g} s")
        sequence = self._sequence
        self._sequence += 1
        try:
            status = buffer.get_status()
            timestamp_s = buffer.get_system_timestamp() / 1e9
            if status != aravis.BufferStatus.SUCCESS:
                raise CorruptFrame(
                    f"GigE camera {self.name}: frame {buffer.get_frame_id()} {status.value_nick}",
                    sequence=sequence,
                    timestamp_s=timestamp_s,
                )
            width, height = buffer.get_image_width(), buffer.get_image_height()
            data = buffer.get_image_data()  # a bytes copy: the buffer can be reused now
            meta = {
                "source": "gige",
                "frame_id": buffer.get_frame_id(),
                "device_timestamp_ns": buffer.get_timestamp(),
                "pixel_format": self._format,
            }
        finally:
            stream.push_buffer(buffer)
        image = to_image(
            self._convert,
            data,
            width,
            height,
            who=f"GigE camera {self.name}",
            sequence=sequence,
            timestamp_s=timestamp_s,
        )
        return Frame(image=image, sequence=sequence, timestamp_s=timestamp_s, meta=meta)

    def _device_disconnect(self) -> None:
        if self._device is not None and self._lost_handler is not None:
            self._device.disconnect(self._lost_handler)
        self._device = None
        self._lost_handler = None

    def _teardown(self, *, stop: bool) -> None:
        """Drops the stream and camera; `stop` asks the camera to stop first, which a
        dead camera would answer only after several seconds of retries."""
        camera = self._camera
        self._camera = None
        self._stream = None
        self._device_disconnect()
        if stop and camera is not None:
            from gi.repository import GLib

            with contextlib.suppress(GLib.Error):
                camera.stop_acquisition()

    def close(self) -> None:
        self._teardown(stop=not self._lost.is_set())
