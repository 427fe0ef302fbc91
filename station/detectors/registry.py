"""A registry of ONNX output families: each adapter says when it applies and how to decode.

Choosing a family is a lookup, not an if/elif chain. Every family registers
a `matches(metadata, output_shape)` rule that answers None (cannot be this
family), `Evidence.SHAPE` (the output shape fits) or `Evidence.METADATA`
(the shape fits *and* the exporter's metadata says so: `task`, `end2end`,
or a `names` count that fits the shape). `choose` applies, in order of
precedence:

1. an explicit override (`family="yolov5"`, from a recipe or the caller)
   wins whenever the output shape can be decoded that way: the user knows
   their model better than any rule;
2. otherwise the strongest evidence wins, metadata over shape: exporters
   record facts (`end2end`, `task`, `names`) that shapes cannot show;
3. among families with the same evidence, the higher `priority` wins. The
   only shapes two families share are (1, N, 6), read as end-to-end rather
   than as a one-class YOLOv5 unless metadata says otherwise (a one-class
   YOLOv5 without metadata needs `family="yolov5"`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from station.core.errors import StationError
from station.detectors.metadata import ModelMetadata

Shape = tuple[int, ...]


class Evidence(IntEnum):
    """How strongly a family claims an output: metadata beats shape alone."""

    SHAPE = 1
    METADATA = 2


@dataclass(frozen=True, slots=True)
class Candidates:
    """Decoded scores before suppression; `xyxy` in model-input pixels (n, 4) float32."""

    xyxy: npt.NDArray[np.float32]
    confidence: npt.NDArray[np.float32]
    class_id: npt.NDArray[np.int64]

    @classmethod
    def empty(cls) -> Candidates:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))


class OutputFamily:
    """Base of one output family's adapter. Subclasses set the class attributes.

    `needs_nms`: raw outputs need class-aware NMS (at IoU `nms_iou`, the
    default of the family's own exporter); end-to-end outputs were
    suppressed at export. `per_image`: scores describe the whole image
    (classifier), reported as one full-frame box per class.
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    layout: ClassVar[str]  # human-readable output shape, e.g. "(1, 4+nc, A)"
    priority: ClassVar[int] = 0
    needs_nms: ClassVar[bool] = True
    nms_iou: ClassVar[float] = 0.7  # IoU above which a same-class box is suppressed
    per_image: ClassVar[bool] = False

    def fits(self, shape: Shape) -> bool:
        """Whether an output of this shape can be decoded as this family at all."""
        raise NotImplementedError

    def matches(self, meta: ModelMetadata, shape: Shape) -> Evidence | None:
        """None, SHAPE or METADATA: see the module docstring."""
        raise NotImplementedError

    def n_classes(self, shape: Shape) -> int | None:
        """Number of classes the output shape implies (None: the shape does not tell)."""
        raise NotImplementedError

    def decode(
        self, output: npt.NDArray[np.float32], floor: float, max_per_class: int, n_classes: int
    ) -> Candidates:
        """Candidates with confidence >= floor, at most about `max_per_class` per class."""
        raise NotImplementedError

    def confidence_floor(self, meta: ModelMetadata) -> tuple[float | None, str | None]:
        """A floor baked into the model at export and a note for the user (None: no floor)."""
        return None, None


@dataclass(frozen=True, slots=True)
class Choice:
    family: OutputFamily
    by: str  # "override", "metadata" or "shape"


class FamilyRegistry:
    """Output families by name; `choose` picks one for a model (see module docstring)."""

    def __init__(self) -> None:
        self._families: dict[str, OutputFamily] = {}
        self._aliases: dict[str, str] = {}

    def register(self, family: OutputFamily) -> OutputFamily:
        for key in (family.name, *family.aliases):
            if key in self._aliases:
                raise ValueError(f"output family name {key!r} registered twice")
            self._aliases[key] = family.name
        self._families[family.name] = family
        return family

    @property
    def families(self) -> tuple[OutputFamily, ...]:
        return tuple(self._families.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._families)

    def get(self, name: str) -> OutputFamily:
        key = self._aliases.get(name.strip().lower())
        if key is None:
            raise StationError(
                f"family {name!r} is not known; known families: {', '.join(self.names())}"
            )
        return self._families[key]

    def describe(self) -> str:
        return ", ".join(f"{f.name} {f.layout}" for f in self._families.values())

    def choose(
        self, meta: ModelMetadata, shape: Shape, override: str | None = None, source: str = "model"
    ) -> Choice:
        """The family for an output shape; StationError when none (or the override) fits."""
        if override:  # None or "" (a recipe without a family): no override
            family = self.get(override)
            if not family.fits(shape):
                raise StationError(
                    f"{source}: family {family.name!r} expects output {family.layout}, "
                    f"the model outputs {shape}"
                )
            return Choice(family, "override")
        claims = [
            (ev, f.priority, f) for f in self._families.values() if (ev := f.matches(meta, shape))
        ]
        if not claims:
            raise StationError(
                f"{source}: output shape {shape} matches no known family "
                f"({self.describe()}); pass a family to force one"
            )
        evidence, priority, family = max(claims, key=lambda c: (c[0], c[1]))
        rivals = [
            f.name for ev, pr, f in claims if (ev, pr) == (evidence, priority) and f is not family
        ]
        if rivals:  # two families equally sure: refuse to guess
            raise StationError(
                f"{source}: output shape {shape} fits {family.name} and {', '.join(rivals)} "
                f"equally; pass a family to choose"
            )
        return Choice(family, "metadata" if evidence is Evidence.METADATA else "shape")


REGISTRY = FamilyRegistry()
"""The station's output families; each module in `station.detectors.families` registers one."""
