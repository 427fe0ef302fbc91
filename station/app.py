"""Composition root: recipe → detector → decision policy → log → camera (→ PLC, shadow).

`compose` builds the parts and `worker_setup` the pipeline's inputs from them;
`app_window.run` puts them under the operator window, `app_headless.run_headless`
under the Qt-free headless runner (Qt is imported only on the window's path).

Everything a recipe can get wrong (bad TOML, a threshold naming a class the
model lacks, a missing model, an unknown camera kind, a log that cannot be
written) is found here, before any window opens, and reported as one line
naming the problem (and, with a screen, a dialog): never a traceback.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core.errors import StationError
from station.core.ports import Detector


@dataclass(frozen=True, slots=True)
class StationParts:
    """What `compose` built: everything the window and its worker need."""

    recipe: Any  # station.services.recipe.Recipe
    detector: Detector
    log: Any  # station.storage.log.SqliteInspectionLog (opened; the worker closes it)
    source: Any  # station.core.ports.FrameSource (not opened yet)
    db_path: Path
    plc: Any = None  # station.outputs.plc.output.PlcOutput (listening), or None
    shadow: Any = None  # station.pipeline.shadow.ShadowSetup ([shadow] candidate), or None
    lanes: int = 1  # parts inferred at once (station.pipeline.lanes)


def compose(
    recipe_path: Path | None = None,
    db_path: Path | None = None,
    before_opening: Callable[[], None] | None = None,
    headless: bool = False,
) -> StationParts:
    """Load and check everything a run needs; StationError (one line) for anything wrong.

    `before_opening` runs once recipe and model are checked, before the camera and the log
    are opened: a station switching recipes closes its own camera and log there.
    `headless` picks onnxruntime's spinning policy for a run without a window.
    """
    from station.core.priority import quick_handoffs
    from station.detectors import load_detector
    from station.detectors.session_options import RunMode, SessionOptions
    from station.services.recipe_file import check_against_model, default_recipe_path, load_recipe
    from station.sources import open_source
    from station.storage.log import SqliteInspectionLog
    from station.storage.paths import default_db_path

    recipe = load_recipe(Path(recipe_path) if recipe_path is not None else default_recipe_path())
    quick_handoffs()
    model = recipe.model
    mode = RunMode.HEADLESS if headless else RunMode.WINDOW
    options = SessionOptions.choose(mode, model.intra_op_threads, model.lanes)
    detector = load_detector(model.path, model.labels, model.family, options)
    mismatch = recipe.model_mismatch(detector.info.sha256)
    if mismatch is not None:
        raise StationError(mismatch)
    # Thresholds and reject classes must name classes the model has: refuse now, not mid-run.
    check_against_model(recipe, tuple(detector.info.class_names))
    shadow = _shadow_setup(recipe, mode)
    if before_opening is not None:
        before_opening()
    try:
        source = open_source(_camera_beside_recipe(recipe))
    except StationError as exc:
        raise StationError(f"{recipe.path}: {exc}") from None
    db = Path(db_path or recipe.db_path or default_db_path()).expanduser()
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StationError(f"--db {db}: cannot create its folder ({exc.strerror})") from None
    log = SqliteInspectionLog(
        db,
        schedule=recipe.shifts,
        archive=recipe.archive,
    )
    try:
        # Parts are logged with their threshold set's id; registered, a logged part shows
        # every class's threshold in force (not only those of its reject reasons).
        log.register_thresholds(recipe.thresholds)
        log.record_event(
            "model_loaded",
            f"model {Path(str(model.path)).name} loaded",
            path=str(model.path),
            sha256=detector.info.sha256,
            family=detector.info.family,
            classes=list(detector.info.class_names),
            recipe=str(recipe.path),
        )
    except Exception:
        log.close()
        raise
    try:
        plc = _plc_output(recipe, db)
    except Exception:
        log.close()
        raise
    if shadow is not None:
        _shadow_loaded(recipe, shadow, log)
    return StationParts(recipe, detector, log, source, db, plc, shadow, options.lanes)


def _shadow_loaded(recipe: Any, shadow: Any, log: Any) -> None:
    """Once the station is built: log the candidate, and warn (stderr, one line) when its
    thresholds are bound to no model, as production's would be flagged."""
    from station.services.shadow_mode import retuning_warning

    warning = retuning_warning(recipe, recipe.shadow, shadow.detector.info)
    if warning is not None:
        print(f"station run: warning: {warning}", file=sys.stderr)
    log.record_event(
        "shadow_model_loaded",
        f"shadow model {Path(shadow.detector.info.path).name} loaded beside production"
        + ("; its thresholds need re-tuning (bound to no model)" if warning else ""),
        path=str(shadow.detector.info.path),
        sha256=shadow.detector.info.sha256,
        thresholds=shadow.thresholds.to_dict(),
        thresholds_need_retuning=warning is not None,
    )


def _shadow_setup(recipe: Any, mode: Any) -> Any:
    """The `[shadow]` candidate, loaded and checked against its thresholds (None: no shadow).

    One onnxruntime thread: the candidate runs beside production and must not take its cores.
    """
    if recipe.shadow is None:
        return None
    from station.detectors import load_detector
    from station.detectors.session_options import SessionOptions
    from station.pipeline.shadow import ShadowSetup
    from station.services.shadow_mode import check_candidate

    model = recipe.shadow.model
    try:
        candidate = load_detector(
            model.path, model.labels, model.family, SessionOptions.choose(mode, 1)
        )
    except StationError as exc:
        raise StationError(f"{recipe.path}: shadow.model: {exc}") from None
    check_candidate(recipe, recipe.shadow, candidate.info)
    return ShadowSetup(
        candidate, recipe.shadow.thresholds, recipe.reject_classes, size_rules=recipe.size_rules
    )


def _plc_output(recipe: Any, db: Path) -> Any:
    """The recipe's PLC link, listening, its counters carried on from the log; or None."""
    if recipe.plc is None:
        return None
    from station.sources import plc_triggered

    try:
        from station.outputs.plc.output import PlcOutput
    except ImportError as exc:
        raise StationError(
            f"{recipe.path}: [plc] needs the station's 'plc' extra "
            f'(pip install -e ".[plc]"): {exc}'
        ) from None
    plc = PlcOutput(
        recipe.plc,
        triggered=plc_triggered(recipe.camera),
        deadline_ms=recipe.decision_deadline_ms,
        shifts=recipe.shifts,
    )
    totals = shift_totals(recipe, db)
    if totals is not None:
        plc.seed_counters(*totals)
    try:
        plc.start()
    except StationError as exc:
        raise StationError(f"{recipe.path}: {exc}") from None
    return plc


def shift_totals(recipe: Any, db: Path) -> tuple[str, int, int, int] | None:
    """(shift id, passed, rejected, no decision) of the current shift in the log so far."""
    from station.core.selection import Selection
    from station.storage.reports import shift_report

    shift = recipe.shifts.shift_at(time.time())
    try:
        totals = shift_report(db, Selection(shift_id=shift.id)).totals
    except StationError as exc:  # the log is readable by the pipeline or it will say so
        print(f"station run: warning: shift counters start at 0: {exc}", file=sys.stderr)
        return None
    return shift.id, totals["passed"], totals["rejected"], totals["no_decision"]


def _camera_beside_recipe(recipe: Any) -> Any:
    """The recipe's camera with a relative `path` (a folder replay) read from the recipe's folder.

    Like the model, labels and log paths: a recipe and its frames travel together.
    """
    from dataclasses import replace

    path = recipe.camera.options.get("path")
    if not isinstance(path, str) or Path(path).expanduser().is_absolute():
        return recipe.camera
    options = {**recipe.camera.options, "path": str(Path(recipe.path).parent / path)}
    return replace(recipe.camera, options=options)


def worker_setup(parts: StationParts) -> Any:
    """The pipeline's inputs (the window's worker and the headless runner step the same one)."""
    from station.pipeline import PipelineSetup
    from station.pipeline.shadow import ShadowRunner

    recipe = parts.recipe
    log = parts.log
    return PipelineSetup(
        source=parts.source,
        detector=parts.detector,
        thresholds=recipe.thresholds,
        reject_classes=recipe.reject_classes,
        open_log=lambda: log,
        station_id=recipe.station_id,
        product=recipe.product,
        shifts=recipe.shifts,
        outputs=() if parts.plc is None else (parts.plc,),
        line=parts.plc,
        size_rules=recipe.size_rules,
        shadow=None if parts.shadow is None else ShadowRunner(parts.shadow, log),
        lanes=parts.lanes,
    )


def start_forwarder(parts: StationParts) -> Any:
    """With a `[central] url`: the log's background forwarder (else None)."""
    url = parts.recipe.central_url
    if url is None:
        return None
    from station.services.forwarding import start_forwarder

    return start_forwarder(parts.db_path, url, parts.recipe.station_id)
