"""archive: encode cost and size of lossless formats for the reject archive's frames.

Each candidate encodes the same 16 synthetic-line frames (640x480 BGR with the
generator's sensor noise, as a camera's frames have) in turn, 96 calls in all, on
one thread; the figures are the median encode wall ms, the median CPU ms of that
thread, the mean bytes per frame and the median decode ms. Every encoded frame is
decoded and compared with the original: a candidate that changes one pixel is
reported `lossless 0` (JPEG is there as the lossy reference). Set
``STATION_BENCH_ARCHIVE_CALLS`` for another number of calls.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt
from benchlib import Figure

N_FRAMES = 16
CALLS = int(os.environ.get("STATION_BENCH_ARCHIVE_CALLS", "96"))
Frame = npt.NDArray[np.uint8]


def _cv2(ext: str, *params: int) -> Callable[[Frame], bytes]:
    def enc(frame: Frame) -> bytes:
        ok, buf = cv2.imencode(ext, frame, list(params))
        if not ok:
            raise RuntimeError(f"cv2 cannot encode {ext} {params}")
        return buf.tobytes()

    return enc


def _npy(frame: Frame) -> bytes:
    out = io.BytesIO()
    np.save(out, frame, allow_pickle=False)
    return out.getvalue()


def _decode(data: bytes) -> Frame:
    if data[:6] == b"\x93NUMPY":
        return np.load(io.BytesIO(data), allow_pickle=False)  # type: ignore[no-any-return]
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)  # type: ignore[no-any-return]


P, S, F = cv2.IMWRITE_PNG_COMPRESSION, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_FILTER
T, TP = cv2.IMWRITE_TIFF_COMPRESSION, cv2.IMWRITE_TIFF_PREDICTOR
CANDIDATES: dict[str, Callable[[Frame], bytes]] = {
    "png_c1": _cv2(".png", P, 1),  # the archive's format before
    "png_c0": _cv2(".png", P, 0),
    "png_c1_filtered": _cv2(".png", P, 1, S, cv2.IMWRITE_PNG_STRATEGY_FILTERED),
    "png_c1_rle": _cv2(".png", P, 1, S, cv2.IMWRITE_PNG_STRATEGY_RLE),
    "png_c1_huffman": _cv2(".png", P, 1, S, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY),
    "png_c1_sub_rle": _cv2(
        ".png", P, 1, S, cv2.IMWRITE_PNG_STRATEGY_RLE, F, cv2.IMWRITE_PNG_FILTER_SUB
    ),
    "png_c1_sub_huffman": _cv2(
        ".png", P, 1, S, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY, F, cv2.IMWRITE_PNG_FILTER_SUB
    ),
    "png_c1_up_huffman": _cv2(
        ".png", P, 1, S, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY, F, cv2.IMWRITE_PNG_FILTER_UP
    ),
    "png_c1_none_huffman": _cv2(
        ".png", P, 1, S, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY, F, cv2.IMWRITE_PNG_FILTER_NONE
    ),
    "png_c0_none": _cv2(".png", P, 0, F, cv2.IMWRITE_PNG_FILTER_NONE),
    "tiff_none": _cv2(".tif", T, cv2.IMWRITE_TIFF_COMPRESSION_NONE),
    "tiff_lzw": _cv2(".tif", T, cv2.IMWRITE_TIFF_COMPRESSION_LZW),
    "tiff_packbits": _cv2(".tif", T, cv2.IMWRITE_TIFF_COMPRESSION_PACKBITS),
    "tiff_deflate_pred": _cv2(
        ".tif",
        T,
        cv2.IMWRITE_TIFF_COMPRESSION_ADOBE_DEFLATE,
        TP,
        cv2.IMWRITE_TIFF_PREDICTOR_HORIZONTAL,
    ),
    "bmp": _cv2(".bmp"),
    "webp_lossless": _cv2(".webp", cv2.IMWRITE_WEBP_QUALITY, 101),
    "npy": _npy,
    "jpeg_q95": _cv2(".jpg", cv2.IMWRITE_JPEG_QUALITY, 95),
}


def _frames() -> list[Frame]:
    from station.sources.synthetic import SyntheticCamera

    line = SyntheticCamera(seed=0, width=640, height=480, parts_per_minute=0.0)
    line.open()
    frames = [np.ascontiguousarray(line.read().image) for _ in range(N_FRAMES)]
    line.close()
    return frames


def measure(enc: Callable[[Frame], bytes], frames: list[Frame]) -> dict[str, float]:
    """Median encode wall and CPU ms, mean bytes, median decode ms, 1.0 when lossless."""
    wall, cpu, dec, sizes = [], [], [], []
    lossless = True
    for i in range(CALLS):
        frame = frames[i % len(frames)]
        c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
        data = enc(frame)
        wall.append((time.perf_counter_ns() - t0) / 1e6)
        cpu.append((time.thread_time_ns() - c0) / 1e6)
        sizes.append(len(data))
        t0 = time.perf_counter_ns()
        back = _decode(data)
        dec.append((time.perf_counter_ns() - t0) / 1e6)
        lossless = lossless and back.shape == frame.shape and bool(np.array_equal(back, frame))
    return {
        "encode_ms": float(np.median(wall)),
        "encode_cpu_ms": float(np.median(cpu)),
        "bytes": float(np.mean(sizes)),
        "decode_ms": float(np.median(dec)),
        "lossless": float(lossless),
    }


def run() -> list[Figure]:
    frames = _frames()
    figures: list[Figure] = []
    print(f"[bench] archive: {N_FRAMES} frames 640x480 BGR, {CALLS} calls each", file=sys.stderr)
    print(
        f"[bench] {'format':20} {'enc ms':>7} {'cpu ms':>7} {'kB':>7} {'dec ms':>7} lossless",
        file=sys.stderr,
    )
    for name, enc in CANDIDATES.items():
        m = measure(enc, frames)
        print(
            f"[bench] {name:20} {m['encode_ms']:7.2f} {m['encode_cpu_ms']:7.2f} "
            f"{m['bytes'] / 1000:7.0f} {m['decode_ms']:7.2f} {int(m['lossless'])}",
            file=sys.stderr,
            flush=True,
        )
        figures += [
            Figure(f"archive.{name}.encode_ms", m["encode_ms"], "ms"),
            Figure(f"archive.{name}.encode_cpu_ms", m["encode_cpu_ms"], "ms"),
            Figure(f"archive.{name}.kB", m["bytes"] / 1000, "kB"),
            Figure(f"archive.{name}.decode_ms", m["decode_ms"], "ms"),
            Figure(f"archive.{name}.lossless", m["lossless"], "bool"),
        ]
    return figures
