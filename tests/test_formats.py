"""Image headers read without decoding, for every format and writer setting the station meets."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from station.formats.image_file import (
    ImageFileError,
    TooManyPixelsError,
    check_image_bytes,
    read_image_file,
)
from station.formats.image_header import ImageHeaderError, read_header

SIZES = [(1, 1), (31, 17), (480, 640), (1000, 3)]
WRITERS = [
    (".png", [], "PNG"),
    (".png", [cv2.IMWRITE_PNG_COMPRESSION, 0], "PNG"),
    (".jpg", [], "JPEG"),
    (".jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1], "JPEG"),
    (".jpg", [cv2.IMWRITE_JPEG_OPTIMIZE, 1, cv2.IMWRITE_JPEG_RST_INTERVAL, 4], "JPEG"),
    (".bmp", [], "BMP"),
    (".tif", [], "TIFF"),
    (".tiff", [cv2.IMWRITE_TIFF_COMPRESSION, 1], "TIFF"),
    (".webp", [cv2.IMWRITE_WEBP_QUALITY, 80], "WebP"),
    (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101], "WebP"),  # above 100: lossless
]


@pytest.mark.parametrize(("suffix", "params", "fmt"), WRITERS)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(("h", "w"), SIZES)
def test_the_header_gives_the_size_opencv_decodes(
    suffix: str, params: list[int], fmt: str, channels: int, h: int, w: int
) -> None:
    rng = np.random.default_rng(h * w)
    image = rng.integers(0, 255, (h, w, channels) if channels == 3 else (h, w), dtype=np.uint8)
    ok, buf = cv2.imencode(suffix, image, params)
    assert ok
    header = read_header(buf.tobytes())
    decoded = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    assert (header.format, header.height, header.width) == (fmt, *decoded.shape[:2])


def test_a_png_with_a_flipped_bit_is_damaged_not_decoded() -> None:
    _ok, buf = cv2.imencode(".png", np.full((20, 20, 3), 7, np.uint8))
    data = bytearray(buf.tobytes())
    data[60] ^= 0x10  # inside the IDAT chunk
    with pytest.raises(ImageHeaderError, match=r"damaged PNG \(checksum of its IDAT chunk\)"):
        read_header(bytes(data))


@pytest.mark.parametrize("cut", [10, 30, 100])
def test_a_truncated_jpeg_header_is_refused(cut: int) -> None:
    _ok, buf = cv2.imencode(".jpg", np.full((20, 20, 3), 7, np.uint8))
    data = buf.tobytes()
    header_end = data.index(b"\xff\xc0") + 9
    if cut >= header_end:
        assert read_header(data[:cut]).width == 20
    else:
        with pytest.raises(ImageHeaderError, match="JPEG"):
            read_header(data[:cut])


def test_the_limit_is_inclusive_and_named(tmp_path: Path) -> None:
    _ok, buf = cv2.imencode(".png", np.zeros((10, 20, 3), np.uint8))
    data = buf.tobytes()
    assert check_image_bytes(tmp_path / "a.png", data, 200).pixels == 200
    with pytest.raises(TooManyPixelsError, match=r"a.png: 20 x 10 = 200 pixels .* limit of 199"):
        check_image_bytes(tmp_path / "a.png", data, 199)


def test_a_jpeg_with_a_good_header_and_a_cut_scan_is_one_line_of_ours(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _ok, buf = cv2.imencode(".jpg", np.full((64, 64, 3), 90, np.uint8))
    data = buf.tobytes()
    path = tmp_path / "a.jpg"
    path.write_bytes(data[: data.index(b"\xff\xda") + 20])  # the scan cut short
    with pytest.raises(ImageFileError, match=r"a.jpg: damaged JPEG \(its pixels cannot be decoded"):
        read_image_file(path)
    assert capfd.readouterr().err == ""  # no decoder line beside ours
