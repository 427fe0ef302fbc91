"""Letterbox geometry, tensor layout and exact back-mapping, as pure functions."""

from __future__ import annotations

import numpy as np
import pytest

from station.core.ports import DetectorError
from station.detectors.preprocess import (
    PAD_VALUE,
    boxes_to_frame,
    boxes_to_input,
    check_frame,
    letterbox,
    plan_letterbox,
    to_input_tensor,
)


@pytest.mark.parametrize(
    ("frame_hw", "input_hw", "resized_hw", "pad_top", "pad_left"),
    [
        ((480, 640), (640, 640), (480, 640), 80, 0),  # synthetic camera into a YOLO input
        ((48, 64), (64, 64), (48, 64), 8, 0),
        ((24, 32), (64, 64), (48, 64), 8, 0),  # upscaled x2
        ((20, 30), (64, 64), (43, 64), 10, 0),  # 42.67 rounds to 43; odd pad 21 -> 10 top
        ((64, 32), (64, 64), (64, 32), 0, 16),  # portrait
        ((64, 64), (64, 64), (64, 64), 0, 0),
        ((100, 100), (32, 64), (32, 32), 0, 16),  # non-square input
    ],
)
def test_plan_letterbox(frame_hw, input_hw, resized_hw, pad_top, pad_left):
    plan = plan_letterbox(frame_hw, input_hw)
    assert plan.resized_hw == resized_hw
    assert (plan.pad_top, plan.pad_left) == (pad_top, pad_left)


def test_letterbox_pads_with_114_and_centres_the_frame():
    frame = np.full((48, 64, 3), 7, np.uint8)
    out = letterbox(frame, plan_letterbox((48, 64), (64, 64)))
    assert out.shape == (64, 64, 3)
    assert (out[:8] == PAD_VALUE).all() and (out[56:] == PAD_VALUE).all()
    assert (out[8:56] == 7).all()


@pytest.mark.parametrize("frame_hw", [(48, 64), (20, 30), (64, 64), (90, 40)])
def test_tensor_is_letterboxed_rgb_scaled_nchw(frame_hw):
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (*frame_hw, 3), dtype=np.uint8)
    plan = plan_letterbox(frame_hw, (64, 64))
    expected = letterbox(frame, plan)[:, :, ::-1].transpose(2, 0, 1)[None] / np.float32(255)
    x = to_input_tensor(frame, plan)
    assert x.shape == (1, 3, 64, 64) and x.dtype == np.float32
    np.testing.assert_array_equal(x, expected)


def test_grayscale_frame_is_expanded_to_three_equal_channels():
    frame = np.arange(48 * 64, dtype=np.uint32).reshape(48, 64).astype(np.uint8)
    x = to_input_tensor(check_frame(frame[:, :, None]), plan_letterbox((48, 64), (64, 64)))
    assert np.array_equal(x[0, 0], x[0, 1]) and np.array_equal(x[0, 1], x[0, 2])
    np.testing.assert_allclose(x[0, 0, 8:56], frame / np.float32(255), atol=1e-7)


@pytest.mark.parametrize("frame_hw", [(48, 64), (24, 32), (20, 30), (64, 32), (480, 640)])
def test_boxes_round_trip_exactly(frame_hw):
    h, w = frame_hw
    plan = plan_letterbox(frame_hw, (64, 64))
    boxes = np.array([[0, 0, w, h], [w * 0.25, h * 0.5, w * 0.75, h * 0.9]], np.float32)
    np.testing.assert_allclose(boxes_to_frame(boxes_to_input(boxes, plan), plan), boxes, atol=1e-4)


def test_back_mapping_on_non_square_frame_is_exact():
    plan = plan_letterbox((24, 32), (64, 64))  # scale 2, pad top 8
    got = boxes_to_frame(np.array([[10, 18, 30, 38]], np.float32), plan)
    assert got.tolist() == [[5.0, 5.0, 15.0, 15.0]]


def test_back_mapping_clips_to_the_frame():
    plan = plan_letterbox((48, 64), (64, 64))
    got = boxes_to_frame(np.array([[-5, 0, 70, 64]], np.float32), plan)
    assert got.tolist() == [[0.0, 0.0, 64.0, 48.0]]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((4, 4, 3), np.float32), "dtype uint8"),
        (np.zeros((4, 4, 2), np.uint8), "shape"),
        (np.zeros((0, 4, 3), np.uint8), "empty"),
        (np.zeros(4, np.uint8), "shape"),
        ([[1, 2]], "numpy array"),
    ],
)
def test_bad_frames_raise_detector_error(frame, message):
    with pytest.raises(DetectorError, match=message):
        check_frame(frame)


def test_bgra_frame_drops_alpha():
    frame = np.zeros((4, 4, 4), np.uint8)
    assert check_frame(frame).shape == (4, 4, 3)


def test_tensor_into_a_reused_buffer_is_fully_overwritten():
    plan = plan_letterbox((48, 64), (64, 64))
    buf = np.full((1, 3, 64, 64), np.nan, np.float32)
    frame = np.full((48, 64, 3), 200, np.uint8)
    assert to_input_tensor(frame, plan, out=buf) is buf
    np.testing.assert_array_equal(buf, to_input_tensor(frame, plan))
    with pytest.raises(ValueError, match="out must be"):
        to_input_tensor(frame, plan, out=np.empty((1, 3, 32, 32), np.float32))


@pytest.mark.parametrize("kind", ["bgra", "strided", "camera size"])
def test_tensor_from_views_and_sizes_in_turn_equals_the_reference(kind):
    """The split planes are reused between frames: views (alpha dropped, every other pixel)
    and a change of size give the same tensor as the reference conversion."""
    rng = np.random.default_rng(1)
    if kind == "bgra":
        frame = check_frame(rng.integers(0, 256, (48, 64, 4), dtype=np.uint8))
    elif kind == "strided":
        frame = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)[::2, ::2]
    else:
        frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    plan = plan_letterbox(frame.shape[:2], (64, 64) if kind != "camera size" else (480, 640))
    expected = letterbox(frame, plan)[:, :, ::-1].transpose(2, 0, 1)[None] / np.float32(255)
    np.testing.assert_array_equal(to_input_tensor(frame, plan), expected)
