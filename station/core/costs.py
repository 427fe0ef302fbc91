"""What errors cost: the recipe's `Costs`, and the expected cost of a threshold set.

The right threshold follows from the cost of each error and the defect
prevalence: expected cost = C_escape * escapes + C_scrap * scrapped (the
counts as `station.core.outcomes` defines them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from station.core.errors import StationError


class PartCounts(Protocol):
    """What a cost needs of a confusion (`metrics.Confusion`)."""

    @property
    def parts(self) -> int: ...
    @property
    def defective_parts(self) -> int: ...
    @property
    def false_accepts(self) -> int: ...
    @property
    def false_rejects(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Costs:
    """Cost of one escape (defective part shipped) and of one scrapped good part, same unit.

    `max_escape_rate` (a fraction in [0, 1], e.g. 0.005) caps the escape rate, or None.
    Refused on construction when negative, not finite or out of range.
    """

    escape: float = 1.0
    scrap: float = 1.0
    max_escape_rate: float | None = None

    def __post_init__(self) -> None:
        check_costs(self.escape, self.scrap)
        cap = self.max_escape_rate
        if cap is not None and (
            isinstance(cap, bool) or not isinstance(cap, int | float) or not 0.0 <= cap <= 1.0
        ):
            raise StationError(f"max_escape_rate: expected a number in [0, 1], got {cap!r}")


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """Expected cost of a threshold set.

    `total` is for a batch of `parts` parts at `prevalence` (the share of
    defective parts): parts * (prevalence * FAR * C_escape + (1 - prevalence)
    * FRR * C_scrap). At the sample's own prevalence it equals
    C_escape * escapes + C_scrap * scrap. `per_1000_parts` scales it to 1000 parts.
    """

    total: float
    per_1000_parts: float
    prevalence: float
    parts: int


def check_costs(cost_escape: float, cost_scrap: float, prevalence: float | None = None) -> None:
    """Refuse a negative or non-finite cost and a prevalence outside [0, 1]."""
    for name, value in (("cost_escape", cost_escape), ("cost_scrap", cost_scrap)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise StationError(f"{name}: expected a number >= 0, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise StationError(f"{name}: expected a finite number >= 0, got {value!r}")
    if prevalence is not None and (
        isinstance(prevalence, bool)
        or not isinstance(prevalence, int | float)
        or not 0.0 <= prevalence <= 1.0
    ):
        raise StationError(f"prevalence: expected a number in [0, 1], got {prevalence!r}")


def cost_weights(
    parts: int,
    defective_parts: int,
    cost_escape: float,
    cost_scrap: float,
    prevalence: float | None,
) -> tuple[float, float, float]:
    """(cost per escaped defective part, cost per scrapped good part, prevalence) on the sample.

    Reweights the sample's parts so its defective share is `prevalence`.
    """
    check_costs(cost_escape, cost_scrap, prevalence)
    good = parts - defective_parts
    if parts == 0:
        raise StationError("the sample is empty: no cost can be estimated")
    if prevalence is None:
        return float(cost_escape), float(cost_scrap), defective_parts / parts
    if defective_parts == 0 and prevalence > 0:
        raise StationError(
            "prevalence: the sample has no defective parts, so its escape rate is unknown"
        )
    if good == 0 and prevalence < 1:
        raise StationError("prevalence: the sample has no good parts, so its scrap rate is unknown")
    w_def = cost_escape * prevalence * parts / defective_parts if defective_parts else 0.0
    w_good = cost_scrap * (1.0 - prevalence) * parts / good if good else 0.0
    return float(w_def), float(w_good), float(prevalence)


def expected_cost(
    confusion: PartCounts, cost_escape: float, cost_scrap: float, prevalence: float | None = None
) -> CostEstimate:
    """Expected cost of the confusion's escapes and scrap (see `CostEstimate`)."""
    w_def, w_good, prev = cost_weights(
        confusion.parts, confusion.defective_parts, cost_escape, cost_scrap, prevalence
    )
    total = w_def * confusion.false_accepts + w_good * confusion.false_rejects
    return CostEstimate(total, 1000.0 * total / confusion.parts, prev, confusion.parts)
