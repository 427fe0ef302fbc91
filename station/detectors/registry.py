"""A registry of ONNX output families: each adapter says when it applies and how to decode.

Choosing a family is a lookup, not an if/elif chain. Every family registers
a `matches(metadata, output_shapes)` rule that answers None (cannot be this
family) or a `Claim`: how strong its evidence is and, in words, what it
rests on. The evidence, strongest first:

1. `Evidence.EXPORT`: the exporter says so in so many words: `task`
   (``segment``, ``classify``, ``obb``), `end2end`, ``'nms': True`` inside
   `args`, or `head` (``RTDETRDecoder``), on an output that fits;
2. `Evidence.NAMES`: the number of class names in metadata `names` equals
   the class count the output shape implies;
3. `Evidence.SHAPE`: only the output shapes (count, rank, sizes) fit.

`choose` applies, in order of precedence:

1. an explicit override (`family="yolov5"`, from a recipe or the caller)
   wins whenever the outputs can be decoded that way: the user knows their
   model better than any rule;
2. otherwise the strongest evidence wins;
3. among families with the same evidence, the higher `priority` wins. The
   only outputs two families share without metadata are (1, N, 6), read as
   end-to-end rather than as a one-class YOLOv5 (a one-class YOLOv5 without
   metadata needs `family="yolov5"`). Any other tie is refused, naming the
   candidates: the station never guesses between two readings.
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
Shapes = tuple[Shape, ...]  # every output of the model, in graph order


class Evidence(IntEnum):
    """How strongly a family claims a model's outputs (see the module docstring)."""

    SHAPE = 1
    NAMES = 2
    EXPORT = 3


@dataclass(frozen=True, slots=True)
class Claim:
    """A family's claim on a model: its evidence and, in words, what it rests on."""

    evidence: Evidence
    reason: str


@dataclass(frozen=True, slots=True)
class Candidates:
    """Decoded scores before suppression; `xyxy` in model-input pixels (n, 4) float32.

    `mask_coef` (n, nm) float32: each candidate's mask coefficients, for
    families whose model also outputs mask prototypes (None otherwise).
    """

    xyxy: npt.NDArray[np.float32]
    confidence: npt.NDArray[np.float32]
    class_id: npt.NDArray[np.int64]
    mask_coef: npt.NDArray[np.float32] | None = None

    @classmethod
    def empty(cls, n_coef: int | None = None) -> Candidates:
        coef = None if n_coef is None else np.zeros((0, n_coef), np.float32)
        return cls(
            np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64), coef
        )


class OutputFamily:
    """Base of one output family's adapter. Subclasses set the class attributes.

    `needs_nms`: raw outputs need class-aware NMS (at IoU `nms_iou`, the
    default of the family's own exporter); end-to-end outputs were
    suppressed at export. `per_image`: scores describe the whole image
    (classifier), reported as one full-frame box per class. `stretch`: the
    exporter's predictor resizes the frame to the input without keeping
    its aspect ratio (RT-DETR) instead of letterboxing it. `has_masks`: the
    second output holds mask prototypes (segmentation). `refusal`: a
    family the station recognises but does not decode (the reason, in words).
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    layout: ClassVar[str]  # human-readable output shape, e.g. "(1, 4+nc, A)"
    priority: ClassVar[int] = 0
    needs_nms: ClassVar[bool] = True
    nms_iou: ClassVar[float] = 0.7  # IoU above which a same-class box is suppressed
    per_image: ClassVar[bool] = False
    stretch: ClassVar[bool] = False
    has_masks: ClassVar[bool] = False
    refusal: ClassVar[str | None] = None
    normalised_boxes: ClassVar[bool] = False  # boxes in [0, 1] of the input, not input pixels
    task: ClassVar[str | None] = None  # the metadata `task` this family decodes

    def fits(self, shapes: Shapes) -> bool:
        """Whether outputs of these shapes can be decoded as this family at all."""
        raise NotImplementedError

    def matches(self, meta: ModelMetadata, shapes: Shapes) -> Claim | None:
        """None, or this family's claim on the outputs: see the module docstring."""
        raise NotImplementedError

    def eligible(self, meta: ModelMetadata, shapes: Shapes) -> bool:
        """The outputs fit and the metadata names no task but this family's (or none)."""
        return self.fits(shapes) and meta.task in (None, self.task)

    def n_classes(self, shapes: Shapes) -> int | None:
        """Number of classes the output shapes imply (None: the shapes do not tell)."""
        return None

    def decode(
        self,
        outputs: list[npt.NDArray[np.float32]],
        floor: float,
        max_candidates: int,
        n_classes: int,
    ) -> Candidates:
        """Candidates with confidence >= floor: at most about `max_candidates` of them (the
        best), plus each class's best. `outputs` are the model's outputs in graph order."""
        raise NotImplementedError(self.refusal)

    def confidence_floor(self, meta: ModelMetadata) -> tuple[float | None, str | None]:
        """A floor baked into the model at export and a note for the user (None: no floor)."""
        return None, None


@dataclass(frozen=True, slots=True)
class Choice:
    family: OutputFamily
    by: str  # "override", "metadata" or "shape"
    evidence: str  # what decided, in words: "override", or the winning claim's reason


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
        self,
        meta: ModelMetadata,
        shapes: Shapes,
        override: str | None = None,
        source: str = "model",
    ) -> Choice:
        """The family for a model's outputs; StationError when none (or the override) fits,
        when two fit equally, or when the family is one the station refuses (OBB)."""
        if override:  # None or "" (a recipe without a family): no override
            family = self.get(override)
            if not family.fits(shapes):
                raise StationError(
                    f"{source}: family {family.name!r} expects output {family.layout}, "
                    f"the model outputs {_text(shapes)}"
                )
            return self._refuse_or(Choice(family, "override", "override"), source)
        claims = [(c, f) for f in self._families.values() if (c := f.matches(meta, shapes))]
        if not claims:
            raise StationError(
                f"{source}: output shape {_text(shapes)} matches no known family "
                f"({self.describe()}); pass a family to force one"
            )
        best, family = max(claims, key=lambda cf: (cf[0].evidence, cf[1].priority))
        rivals = [
            f.name
            for c, f in claims
            if (c.evidence, f.priority) == (best.evidence, family.priority) and f is not family
        ]
        if rivals:  # two families equally sure: refuse to guess
            raise StationError(
                f"{source}: output shape {_text(shapes)} fits {family.name} and "
                f"{', '.join(rivals)} equally ({best.evidence.name.lower()} evidence); "
                "pass a family to choose"
            )
        by = "shape" if best.evidence is Evidence.SHAPE else "metadata"
        return self._refuse_or(Choice(family, by, best.reason), source)

    @staticmethod
    def _refuse_or(choice: Choice, source: str) -> Choice:
        if choice.family.refusal:
            raise StationError(f"{source}: {choice.family.refusal}")
        return choice


def _text(shapes: Shapes) -> str:
    return str(shapes[0]) if len(shapes) == 1 else " + ".join(map(str, shapes))


REGISTRY = FamilyRegistry()
"""The station's output families; each module in `station.detectors.families` registers one."""
