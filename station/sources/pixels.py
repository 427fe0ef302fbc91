"""GenICam pixel formats to the station's image types: gray (H, W) or BGR (H, W, 3) uint8.

Shared by the GenICam sources (Aravis, pylon). Each converter reads a buffer copy
(`bytes` or a numpy array) of a `width` x `height` image without row padding.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

Converter = Callable[[bytes, int, int], npt.NDArray[np.uint8]]


def mono8(data: bytes, width: int, height: int) -> npt.NDArray[np.uint8]:
    return np.frombuffer(data, np.uint8, width * height).reshape(height, width)


def _mono_high(bits: int) -> Converter:
    def convert(data: bytes, width: int, height: int) -> npt.NDArray[np.uint8]:
        words = np.frombuffer(data, "<u2", width * height).reshape(height, width)
        return (words >> (bits - 8)).astype(np.uint8)

    return convert


def _color(code: int | None) -> Converter:
    def convert(data: bytes, width: int, height: int) -> npt.NDArray[np.uint8]:
        pixels = np.frombuffer(data, np.uint8, width * height * 3).reshape(height, width, 3)
        return pixels if code is None else np.asarray(cv2.cvtColor(pixels, code))

    return convert


def _bgra() -> Converter:
    def convert(data: bytes, width: int, height: int) -> npt.NDArray[np.uint8]:
        pixels = np.frombuffer(data, np.uint8, width * height * 4).reshape(height, width, 4)
        return pixels[:, :, :3]

    return convert


def _bayer(code: int) -> Converter:
    def convert(data: bytes, width: int, height: int) -> npt.NDArray[np.uint8]:
        return np.asarray(cv2.cvtColor(mono8(data, width, height), code))

    return convert


#: GenICam pixel format -> conversion to gray or BGR uint8. The Bayer names are the
#: GenICam ones (first row's first two pixels), which OpenCV spells BayerRGGB etc.
CONVERTERS: dict[str, Converter] = {
    "Mono8": mono8,
    "Mono10": _mono_high(10),
    "Mono12": _mono_high(12),
    "Mono16": _mono_high(16),
    "RGB8": _color(cv2.COLOR_RGB2BGR),
    "RGB8Packed": _color(cv2.COLOR_RGB2BGR),
    "BGR8": _color(None),
    "BGR8Packed": _color(None),
    "BGRa8": _bgra(),
    "BGRA8Packed": _bgra(),
    "BayerRG8": _bayer(cv2.COLOR_BayerRGGB2BGR),
    "BayerGR8": _bayer(cv2.COLOR_BayerGRBG2BGR),
    "BayerGB8": _bayer(cv2.COLOR_BayerGBRG2BGR),
    "BayerBG8": _bayer(cv2.COLOR_BayerBGGR2BGR),
}
