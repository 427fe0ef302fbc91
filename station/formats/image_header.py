"""An image file's pixel size from its header, so an oversized image is refused before decoding.

OpenCV has no header-only reader (it checks its own limit, `OPENCV_IO_MAX_IMAGE_PIXELS`, 2^30
by default, only inside the decoder), so the few formats the station reads are parsed here:
PNG, JPEG, BMP, TIFF and WebP. A PNG's chunk structure and checksums are walked too: a
truncated or damaged PNG is refused here in words instead of libpng printing its own line.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # start-of-frame markers
_JPEG_STANDALONE = frozenset(range(0xD0, 0xDA)) | {0x01, 0xFF}


@dataclass(frozen=True, slots=True)
class ImageHeader:
    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


class ImageHeaderError(ValueError):
    """The file is not an image in a format the station reads, or is damaged."""


def read_header(data: bytes) -> ImageHeader:
    """The format and pixel size of a whole image file's bytes; ImageHeaderError otherwise."""
    if data.startswith(PNG_SIGNATURE):
        return _png(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data.startswith(b"BM"):
        return _bmp(data)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    raise ImageHeaderError("not a PNG, JPEG, BMP, TIFF or WebP image")


def _png(data: bytes) -> ImageHeader:
    """Walks every chunk: lengths, checksums, IHDR first and IEND last."""
    pos = len(PNG_SIGNATURE)
    header: ImageHeader | None = None
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            break
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        if zlib.crc32(kind + body) != crc:
            raise ImageHeaderError(f"damaged PNG (checksum of its {kind.decode('latin-1')} chunk)")
        if header is None:
            if kind != b"IHDR" or length < 8:
                raise ImageHeaderError("damaged PNG (no IHDR chunk first)")
            width, height = struct.unpack_from(">II", body)
            header = ImageHeader("PNG", width, height)
        if kind == b"IEND":
            return header
        pos = end
    raise ImageHeaderError("truncated PNG (it ends before its IEND chunk)")


def _jpeg(data: bytes) -> ImageHeader:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ImageHeaderError("damaged JPEG (no marker where one is expected)")
        marker = data[pos + 1]
        if marker in _JPEG_STANDALONE:
            pos += 1 if marker == 0xFF else 2  # fill byte, or a marker without a length
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in _JPEG_SOF:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return ImageHeader("JPEG", width, height)
        if marker == 0xDA:  # start of scan before any frame header
            raise ImageHeaderError("damaged JPEG (image data before its frame header)")
        pos += 2 + length
    raise ImageHeaderError("truncated JPEG (it ends before its frame header)")


def _bmp(data: bytes) -> ImageHeader:
    if len(data) < 26:
        raise ImageHeaderError("truncated BMP header")
    (dib,) = struct.unpack_from("<I", data, 14)
    if dib == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        width, height = struct.unpack_from("<HH", data, 18)
    else:
        width, height = struct.unpack_from("<ii", data, 18)
    return ImageHeader("BMP", abs(width), abs(height))


def _tiff(data: bytes) -> ImageHeader:
    """The first image's ImageWidth (256) and ImageLength (257) tags."""
    order = "<" if data[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack_from(order + "I", data, 4)
        (count,) = struct.unpack_from(order + "H", data, ifd)
        size: dict[int, int] = {}
        for i in range(count):
            tag, kind, _n = struct.unpack_from(order + "HHI", data, ifd + 2 + 12 * i)
            if tag in (256, 257):
                fmt = order + ("H" if kind == 3 else "I")
                size[tag] = struct.unpack_from(fmt, data, ifd + 2 + 12 * i + 8)[0]
    except struct.error:
        raise ImageHeaderError("truncated TIFF header") from None
    if 256 not in size or 257 not in size:
        raise ImageHeaderError("damaged TIFF (no image width and height)")
    return ImageHeader("TIFF", size[256], size[257])


def _webp(data: bytes) -> ImageHeader:
    chunk = data[12:16]
    try:
        if chunk == b"VP8X":
            w = int.from_bytes(data[24:27], "little") + 1
            h = int.from_bytes(data[27:30], "little") + 1
            if len(data) < 30:
                raise ImageHeaderError("truncated WebP header")
            return ImageHeader("WebP", w, h)
        if chunk == b"VP8L":
            (bits,) = struct.unpack_from("<I", data, 21)
            return ImageHeader("WebP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        if chunk == b"VP8 ":
            w, h = struct.unpack_from("<HH", data, 26)
            return ImageHeader("WebP", w & 0x3FFF, h & 0x3FFF)
    except struct.error:
        raise ImageHeaderError("truncated WebP header") from None
    raise ImageHeaderError("damaged WebP (unknown first chunk)")
