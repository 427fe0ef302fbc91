"""Is this frame fit to inspect? A corrupt or wrong-size frame gets NO DECISION, not a guess."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.core.no_decision import NoDecisionCause

_CORRUPT = NoDecisionCause.CORRUPT_FRAME


def frame_problem(
    image: npt.NDArray[np.generic], expected_wh: tuple[int, int] | None
) -> str | None:
    """Why `image` cannot be inspected, in words (cause first), or None when it can.

    `expected_wh` is the camera's (width, height); None or zeros skip the size check.
    """
    if not isinstance(image, np.ndarray):
        return _CORRUPT.message(f"not an image array ({type(image).__name__})")
    if image.dtype != np.uint8:
        return _CORRUPT.message(f"pixel type {image.dtype}, expected uint8")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
        return _CORRUPT.message(f"shape {image.shape}, expected (H, W) or (H, W, 3)")
    h, w = image.shape[:2]
    if h == 0 or w == 0:
        return _CORRUPT.message("empty image")
    if expected_wh is not None and expected_wh[0] > 0 and expected_wh[1] > 0:
        ew, eh = expected_wh
        if (w, h) != (ew, eh):
            return NoDecisionCause.WRONG_SIZE.message(f"{w}×{h}, camera delivers {ew}×{eh}")
    return None
