"""Why a part got NO DECISION, as a small vocabulary of causes.

Every NO DECISION message starts with its cause ("camera lost: no frame for 2 s"),
so the full message stays on the part while reports group parts by cause: a camera
outage of half a minute is one line ("camera lost 412"), not one per frame number.
Messages written before the vocabulary existed are classified by their wording.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from enum import StrEnum


class NoDecisionCause(StrEnum):
    """The cause of a NO DECISION; its value is the words a report shows."""

    CAMERA_LOST = "camera lost"
    CAMERA_ERROR = "camera error"
    CORRUPT_FRAME = "corrupt frame"
    BAD_LABEL = "bad label file"
    WRONG_SIZE = "wrong-size frame"
    MODEL_ERROR = "model error"
    NAN_SCORE = "NaN score"
    LOG_UNAVAILABLE = "log unavailable"
    OTHER = "other"

    def message(self, detail: str) -> str:
        """The part's message: the cause, then the detail in words."""
        detail = detail.strip()
        return f"{self.value}: {detail}" if detail else self.value


# Older wordings (and the decision policy's own) that do not start with a cause.
_WORDINGS: tuple[tuple[str, NoDecisionCause], ...] = (
    ("model returned", NoDecisionCause.MODEL_ERROR),
    ("camera unavailable", NoDecisionCause.CAMERA_LOST),
)


def cause_of(why: str) -> NoDecisionCause:
    """The cause a NO DECISION message names (OTHER when it names none)."""
    text = why.strip()
    lowered = text.lower()
    for cause in NoDecisionCause:
        if cause is not NoDecisionCause.OTHER and lowered.startswith(cause.value.lower()):
            return cause
    for prefix, cause in _WORDINGS:
        if lowered.startswith(prefix):
            return cause
    return NoDecisionCause.OTHER


def count_by_cause(reasons: Mapping[str, int] | Iterable[str]) -> dict[str, int]:
    """{cause: parts}, most frequent first (ties by name), from messages or {message: count}."""
    counts: Counter[str] = Counter()
    items = reasons.items() if isinstance(reasons, Mapping) else ((r, 1) for r in reasons)
    for why, n in items:
        counts[cause_of(why).value] += n
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
