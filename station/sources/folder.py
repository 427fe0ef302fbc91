"""Replay of an image folder, optionally a YOLO-layout sample whose labels become truth.

Layout: any folder of images (sorted by path, subfolders included), or a YOLO sample
where `.../images/x.png` has its boxes in `.../labels/x.txt` (`class cx cy w h`,
normalised). With a `labels/` folder beside `images/`, an image without a label file
is a good part (empty truth); without a `labels/` folder the truth is unknown (None).

A folder with no image the station can read is refused at `open` (a configuration error,
not a lost camera). A file that cannot be read, is damaged or is above the pixel limit
(`max_image_pixels`, checked from its header before decoding) is one CorruptFrame (a NO
DECISION part, logged with the reason) and is then left out of the replay, so a folder of
bad files cannot fill the shift log with thousands of identical rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from station.core.errors import StationError
from station.core.ports import (
    BadLabelFile,
    CameraInfo,
    CameraLost,
    CorruptFrame,
    Frame,
    GroundTruth,
    ReadInterrupted,
    SourceExhausted,
)
from station.formats.image_file import (
    DEFAULT_MAX_IMAGE_PIXELS,
    IMAGE_SUFFIXES,
    MAX_PIXELS_KEY,
    ImageFileError,
    TooManyPixelsError,
    max_pixels_option,
    read_image_file,
)
from station.formats.yolo_label import parse_label_line
from station.formats.yolo_names import parse_data_yaml_names
from station.sources.options import SourceOptions
from station.sources.pacing import Pacer

OPTIONS = ("path", "loop", "fps", MAX_PIXELS_KEY)


def label_path(image: Path) -> Path | None:
    """The YOLO label file of `image`: the last `images` folder swapped for `labels`."""
    parts = image.parts
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            return Path(*parts[:i], "labels", *parts[i + 1 : -1], image.stem + ".txt")
    return None


def read_yolo_labels(
    path: Path, width: int, height: int, names: tuple[str, ...] | None = None
) -> GroundTruth:
    """Boxes of a YOLO label file in frame pixels; a missing file means no defect. `names`
    (the sample's data.yaml) name the class ids.

    Raises ValueError naming the file and line for a malformed row, a box off the image or
    a class id that `names` do not have.
    """
    rows: list[list[float]] = []
    if path.is_file():
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            try:
                box = parse_label_line(line, path, n)
            except StationError as exc:
                raise ValueError(str(exc)) from None
            if box is not None and names is not None and box.class_id >= len(names):
                raise ValueError(
                    f"{path}:{n}: class {box.class_id}: data.yaml names {len(names)} classes"
                )
            if box is not None:
                rows.append([box.class_id, box.cx, box.cy, box.w, box.h])
    table = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
    cx, cy = table[:, 1] * width, table[:, 2] * height
    half_w, half_h = table[:, 3] * width / 2, table[:, 4] * height / 2
    xyxy = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    class_id = table[:, 0].astype(np.int64)
    return GroundTruth(xyxy=xyxy.astype(np.float32), class_id=class_id, class_names=names)


def _frame_error(exc: ImageFileError) -> str:
    what = "image too large" if isinstance(exc, TooManyPixelsError) else "cannot decode image"
    return f"{what} {exc}; left out of the replay from now on"


class FolderCamera:
    """Replays the images under `path` at `fps` (0: as fast as read), looping or once."""

    def __init__(
        self,
        path: Path,
        *,
        loop: bool = True,
        fps: float = 0.0,
        max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.path = path
        self.loop = loop
        self.fps = fps
        self.max_pixels = max_pixels
        self._pacer = Pacer(fps, clock=clock, sleep=sleep)
        self._files: list[Path] | None = None
        self._labeled = False
        self._names: tuple[str, ...] | None = None
        self._position = 0
        self._sequence = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> FolderCamera:
        opts = SourceOptions("folder", options, OPTIONS)
        path = opts.get_str("path")
        if not path:
            raise StationError("[camera] path: kind 'folder' needs the image folder's path")
        return cls(
            Path(path).expanduser(),
            loop=opts.get_bool("loop", True),
            fps=opts.get_float("fps", 0.0, minimum=0.0) or 0.0,
            max_pixels=max_pixels_option(options.get(MAX_PIXELS_KEY), f"[camera] {MAX_PIXELS_KEY}"),
        )

    def open(self) -> CameraInfo:
        if not self.path.is_dir():
            raise StationError(f"[camera] path = '{self.path}': not a folder")
        root = self.path / "images" if (self.path / "images").is_dir() else self.path
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise StationError(f"[camera] path = '{self.path}': no images found")
        first_label = label_path(files[0])
        self._labeled = first_label is not None and first_label.parent.is_dir()
        self._names = self._class_names() if self._labeled else None
        first, skipped = self._first_readable(files)
        self._files = files[skipped:]
        self._pacer.restart()
        height, width = first.shape[:2]
        return CameraInfo(
            name=f"folder {self.path.name} ({len(self._files)} images)",
            kind="folder",
            width=width,
            height=height,
            fps=self.fps,
        )

    def _class_names(self) -> tuple[str, ...] | None:
        """The sample's `data.yaml` names, which its label ids index (None without one)."""
        data_yaml = self.path / "data.yaml"
        if not data_yaml.is_file():
            return None
        text = data_yaml.read_bytes().decode("utf-8", "replace")
        return parse_data_yaml_names(text, data_yaml)

    def _first_readable(self, files: list[Path]) -> tuple[npt.NDArray[np.uint8], int]:
        """The first image that reads, and how many files before it did not (left out)."""
        first_error: ImageFileError | None = None
        for i, path in enumerate(files):
            try:
                return read_image_file(path, self.max_pixels), i
            except ImageFileError as exc:
                first_error = first_error or exc
        raise StationError(
            f"[camera] path = '{self.path}': none of its {len(files)} image files can be read "
            f"(first: {first_error}); point it at a folder of PNG, JPEG, BMP, TIFF or WebP images"
        )

    def read(self, timeout_s: float = 2.0) -> Frame:
        """The next image; CorruptFrame for an undecodable image or a malformed label file.

        After a CorruptFrame the replay has moved past the bad file.
        """
        if self._files is None:
            raise CameraLost("folder replay is not open")
        if not self._files:
            raise CameraLost(f"folder {self.path}: no readable image is left in the replay")
        if self._position >= len(self._files):
            if not self.loop:
                raise SourceExhausted(f"folder {self.path}: all {len(self._files)} images read")
            self._position = 0
        if not self._pacer.wait_next():
            raise ReadInterrupted("inspection is stopping")
        path = self._files[self._position]
        sequence = self._sequence
        self._position += 1
        self._sequence += 1
        try:
            image = read_image_file(path, self.max_pixels)
        except ImageFileError as exc:
            self._leave_out(path)
            raise CorruptFrame(
                _frame_error(exc), sequence=sequence, timestamp_s=time.time()
            ) from None
        truth = None
        labels = label_path(path) if self._labeled else None
        if labels is not None:
            try:
                truth = read_yolo_labels(labels, image.shape[1], image.shape[0], self._names)
            except (ValueError, OSError) as exc:
                self._leave_out(path)
                raise BadLabelFile(str(exc), sequence=sequence, timestamp_s=time.time()) from exc
        return Frame(
            image=image,
            sequence=sequence,
            timestamp_s=time.time(),
            truth=truth,
            meta={"source": "folder", "path": str(path)},
        )

    def _leave_out(self, path: Path) -> None:
        """Drop a bad file from the replay: reported once, never read again."""
        assert self._files is not None
        self._files.remove(path)
        self._position -= 1

    def interrupt(self) -> None:
        """Cut a read waiting for its frame's time short (any thread): inspection stops."""
        self._pacer.interrupt()

    def close(self) -> None:
        self._files = None
