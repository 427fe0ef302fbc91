"""A product's recipe as frozen values: the model, thresholds, camera, shifts and costs.

A recipe says what a station inspects and how: the model (and the SHA-256 it
is expected to have), the per-class thresholds and the model they were tuned
on, which classes reject a part, the camera, the shift schedule and what each
error costs. `recipe_file` reads and checks one TOML file into these values;
`recipe_write` writes them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from station.core.costs import Costs
from station.core.shifts import ShiftSchedule
from station.core.size_rules import SizeRules
from station.core.thresholds import ThresholdSet
from station.outputs.plc.config import PlcConfig
from station.storage.archive_limit import DEFAULT_ARCHIVE, ArchiveLimit

__all__ = ["HEURISTIC_PREFIX", "CameraConfig", "Costs", "ModelRef", "Recipe", "ShadowConfig"]

DEFAULT_DECISION_DEADLINE_MS = 1000
HEURISTIC_PREFIX = "heuristic:"
"""A `[model] path` starting so names a built-in detector (`heuristic:dark-blobs`), not a file:
it is kept as written (`station.detectors.heuristic.PREFIX`; not imported: no onnxruntime here)."""


@dataclass(frozen=True, slots=True)
class ModelRef:
    """The model file (or a `heuristic:...` spec, as written), its expected SHA-256 (None: not
    pinned), labels file, family override and onnxruntime intra-op thread count."""

    path: Path
    sha256: str | None = None
    labels: Path | None = None
    family: str | None = None
    intra_op_threads: int | None = None  # None: one per usable CPU (shared by the lanes)
    lanes: int | None = None  # None: the live line's default (station.pipeline.lanes)


@dataclass(frozen=True, slots=True)
class ShadowConfig:
    """`[shadow]`: a candidate model judged beside production on the live line, with the
    thresholds tuned for it (`tuned_on_model_sha256` binds them to its hash)."""

    model: ModelRef
    thresholds: ThresholdSet


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """`kind` picks the source (synthetic, folder, opencv, gige, pylon); `options` are its keys."""

    kind: str = "synthetic"
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))


@dataclass(frozen=True, slots=True)
class Recipe:
    path: Path
    product: str
    station_id: str
    model: ModelRef
    thresholds: ThresholdSet
    reject_classes: tuple[str, ...] | None
    camera: CameraConfig
    shifts: ShiftSchedule
    costs: Costs
    autostart: bool = False
    db_path: Path | None = None
    central_url: str | None = None  # [central] url: the plant's PostgreSQL (no password)
    plc: PlcConfig | None = None
    """The `[plc]` table: the station as a Modbus TCP server (None: no PLC)."""
    decision_deadline_ms: int = DEFAULT_DECISION_DEADLINE_MS
    """`[station] decision_deadline_ms`: a part not committed by then goes to the PLC as
    NO DECISION."""
    size_rules: SizeRules = field(default_factory=SizeRules)
    """`[size_rules]` with `[calibration] mm_per_px`: per-class minimum defect sizes."""
    shadow: ShadowConfig | None = None
    """`[shadow]`: a candidate model judged beside production (None: no shadow mode)."""
    archive: ArchiveLimit = DEFAULT_ARCHIVE
    """`[station] archive_limit_mb` / `archive_max_age_days`: the reject archive kept."""
    source_sha256: str = field(default="", compare=False, repr=False)
    """SHA-256 of the file's bytes when read ("" for a recipe built in code): writing back
    refuses a file someone rewrote since (`recipe_write.check_unchanged`)."""

    def thresholds_need_retuning(self, model_sha256: str) -> bool:
        """True when the thresholds were tuned on another model than the one with this hash."""
        return self.thresholds.needs_retuning(model_sha256)

    def model_mismatch(self, model_sha256: str) -> str | None:
        """Why the model file is not the one the recipe pins (`model.sha256`), or None."""
        if self.model.sha256 is None or self.model.sha256 == model_sha256.lower():
            return None
        return (
            f"{self.path}: model.sha256: expected {self.model.sha256}, but "
            f"{self.model.path} has {model_sha256}: not the model this recipe was made for"
        )
