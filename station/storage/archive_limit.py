"""How much of the reject archive is kept: a size budget and an optional age.

Apart from the archiver (no OpenCV here) so that a recipe can carry it.
"""

from __future__ import annotations

from dataclasses import dataclass

from station.core.errors import StationError

DEFAULT_LIMIT_MB = 1000.0
"""About 1,080 stored or 3,100 deflated 640x480 frames."""


@dataclass(frozen=True, slots=True)
class ArchiveLimit:
    """Keep at most `max_mb` megabytes (10^6 bytes) and images younger than `max_age_days`.

    None disables that limit. When the size limit is exceeded, the oldest images
    are removed until the archive is at 90% of the limit (so pruning is not
    repeated for every new reject).
    """

    max_mb: float | None = DEFAULT_LIMIT_MB
    max_age_days: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_mb", "max_age_days"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise StationError(
                    f"archive limit {name}: expected a positive number or None, got {value!r}"
                )

    @property
    def max_bytes(self) -> int | None:
        return None if self.max_mb is None else int(self.max_mb * 1_000_000)


DEFAULT_ARCHIVE = ArchiveLimit()
