"""Composition root: recipe → detector → decision policy → log → camera → window or headless.

`compose` builds the parts; `run` puts them under the operator window, `run_headless`
under the Qt-free headless runner (Qt is imported only on the window's path).

Everything a recipe can get wrong (bad TOML, a threshold naming a class the
model lacks, a missing model, an unknown camera kind, a log that cannot be
written) is found here, before any window opens, and reported as one line
naming the problem (and, with a screen, a dialog): never a traceback.
SIGINT and SIGTERM close the window the way the operator would, so the stop
is logged and no thread is left running.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from station.core.errors import StationError
from station.core.ports import Detector

SIGNAL_POLL_MS = 200
"""How often the Qt loop hands control to Python so a SIGINT/SIGTERM handler can run."""
HEADLESS_DRAIN_S = 5.0
"""After a headless run, how long the central forwarder may catch up before the process ends."""


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
    from station.detectors import load_detector
    from station.detectors.session_options import RunMode, SessionOptions
    from station.services.recipe_file import check_against_model, default_recipe_path, load_recipe
    from station.sources import open_source
    from station.storage.log import SqliteInspectionLog
    from station.storage.paths import default_db_path

    recipe = load_recipe(Path(recipe_path) if recipe_path is not None else default_recipe_path())
    model = recipe.model
    mode = RunMode.HEADLESS if headless else RunMode.WINDOW
    options = SessionOptions.choose(mode, model.intra_op_threads)
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
    log = SqliteInspectionLog(db, schedule=recipe.shifts)
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
    return StationParts(recipe, detector, log, source, db, plc, shadow)


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
    totals = _shift_totals(recipe, db)
    if totals is not None:
        plc.seed_counters(*totals)
    try:
        plc.start()
    except StationError as exc:
        raise StationError(f"{recipe.path}: {exc}") from None
    return plc


def _shift_totals(recipe: Any, db: Path) -> tuple[str, int, int, int] | None:
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
    )


def build_window(
    parts: StationParts,
    *,
    autostart: bool,
    settings: Any = None,
    load_tuning_sample_at_start: bool = True,
    tuning_cache_dir: Path | None = None,
) -> Any:
    """The main window for `parts`, with its view-model and worker thread running.

    With `load_tuning_sample_at_start` the default tuning sample is scored off the GUI
    thread right away (through the score cache: a sample already scored by this model is
    read back, not re-scored), so the drift alarm watches from the first part; windows
    built by tests opt out. `tuning_cache_dir` defaults to `shipped_sample.cache_root()`.
    """
    from station.ui.main_window import MainWindow
    from station.ui.view_models.station_vm import StationContext, StationViewModel

    recipe = parts.recipe
    context = StationContext(
        recipe_name=Path(str(recipe.path)).name,
        recipe_path=str(recipe.path),
        product=recipe.product,
        model=parts.detector.info,
        camera_kind=recipe.camera.kind,
        db_path=str(parts.db_path),
    )
    # The inspection thread starts once the window that stops it exists (its close calls
    # `vm.shutdown`); if building the window fails, the worker still closes camera and log.
    vm = StationViewModel(worker_setup(parts), context, launch=False)
    try:
        _seed_counters(vm, parts)
        window = MainWindow(vm, settings)
        tuning_vm = _add_tabs(window, parts, tuning_cache_dir)
        _forward_to_central(window, parts)
        _show_plc(window, parts)
        _show_shadow_warning(window, parts)
    except BaseException:
        vm.shutdown("the window could not be built")
        raise
    vm.launch()
    if load_tuning_sample_at_start:
        tuning_vm.load_default_sample()  # joined by the window's closer (tuning_vm.shutdown)
    if autostart:
        vm.start()
    return window


def _show_plc(window: Any, parts: StationParts) -> None:
    """With a `[plc]` table: the PLC link (clients, last trigger, heartbeat) in the status line."""
    if parts.plc is None:
        return
    from station.ui.view_models.plc_vm import PlcStatusViewModel

    plc_vm = PlcStatusViewModel(parts.plc, parent=window)
    plc_vm.changed.connect(window.status.show_plc)
    plc_vm.refresh()
    window.add_closer(plc_vm.close)


def _show_shadow_warning(window: Any, parts: StationParts) -> None:
    """A `[shadow]` candidate with thresholds bound to no model: said in the status line too
    (the window's operator does not read stderr)."""
    if parts.shadow is None:
        return
    from station.services.shadow_mode import retuning_warning

    warning = retuning_warning(parts.recipe, parts.recipe.shadow, parts.shadow.detector.info)
    if warning is not None:
        window.status.show_shadow_warning(warning.split(": ", 1)[1])


def _start_forwarder(parts: StationParts) -> Any:
    """With a `[central] url`: the log's background forwarder (else None)."""
    url = parts.recipe.central_url
    if url is None:
        return None
    from station.services.forwarding import start_forwarder

    return start_forwarder(parts.db_path, url, parts.recipe.station_id)


def _forward_to_central(window: Any, parts: StationParts) -> None:
    """With a `[central] url`: forward the log in the background, its backlog in the status line."""
    forwarder = _start_forwarder(parts)
    if forwarder is None:
        return
    window.add_closer(forwarder.close)  # registered at once: nothing below can leak its thread
    from station.ui.view_models.central_vm import CentralStatusViewModel

    central_vm = CentralStatusViewModel(forwarder, parent=window)
    central_vm.changed.connect(window.status.show_central)
    central_vm.refresh()
    window.add_closer(central_vm.close)


def _seed_counters(vm: Any, parts: StationParts) -> None:
    """The shift counters carry on from the log after a restart in the middle of a shift."""
    totals = _shift_totals(parts.recipe, parts.db_path)
    if totals is not None:
        vm.seed_counters(*totals)


def _add_tabs(window: Any, parts: StationParts, cache_dir: Path | None = None) -> Any:
    """The shift tab (the log's view of the shift) and the tuning tab (thresholds, PIN).

    Returns the tuning view-model.

    Tuning listens to the line (live estimate, drift), to operators' confirmations
    (live estimate) and speaks to the status line (drift alarm): every connection
    is between QObjects on the GUI thread.
    """
    from station.services.shipped_sample import cache_root
    from station.ui.tuning.wiring import build_tuning
    from station.ui.view_models.part_vm import PartDetailViewModel
    from station.ui.view_models.shift_vm import ShiftViewModel
    from station.ui.widgets.part_detail import PartDetailView
    from station.ui.widgets.part_dialog import LoggedPartDialog
    from station.ui.widgets.shift_panel import ShiftPanel

    vm = window.vm
    tuning, tuning_vm = build_tuning(
        parts.recipe,
        parts.detector.info,
        parts.log,
        vm.apply_thresholds,
        db_path=parts.db_path,
        cache_dir=cache_dir if cache_dir is not None else cache_root(),
    )
    tuning_vm.setParent(window)
    vm.part_inspected.connect(tuning_vm.monitor.on_part)
    tuning_vm.drift_changed.connect(window.status.show_drift)

    def open_logged_part(row_id: int) -> Any:
        detail = PartDetailViewModel(parts.db_path, confirm_sink=parts.log)
        detail.part_confirmed.connect(tuning_vm.monitor.on_part_confirmed)
        dialog = LoggedPartDialog(PartDetailView(detail), f"Part (log row {row_id})", window)
        detail.setParent(dialog)
        detail.load(row_id)
        return dialog

    window.logged_part_opener = open_logged_part
    shift_vm = ShiftViewModel(parts.db_path, parts.recipe.shifts, parent=window)
    shift_panel = ShiftPanel(shift_vm)
    shift_panel.part_requested.connect(window.open_part_row)
    window.add_tab(shift_panel, "Shift")
    window.add_closer(shift_vm.close)
    window.add_tab(tuning, "Tuning")
    window.add_closer(tuning_vm.shutdown)
    # A model promoted or rolled back from the tab: the window reopens the recipe.
    if tuning.promoter is not None:
        tuning.promoter.switched.connect(window.reopen_recipe)
        window.add_closer(tuning.promoter.wait)

    def apply_with_pin(proposed: Any) -> None:
        # The side panel proposes; the supervisor applies with the PIN, audited (tuning tab).
        tuning_vm.set_dragged(proposed)
        window.tabs.setCurrentWidget(tuning)
        tuning.btn_apply.click()

    window.route_threshold_apply(apply_with_pin)
    return tuning_vm


class StationApp:
    """Holds the current window; a recipe opened from the File menu replaces it."""

    def __init__(
        self,
        *,
        db_path: Path | None,
        autostart: bool | None,
        settings: Any = None,
        load_tuning_sample_at_start: bool = True,
        tuning_cache_dir: Path | None = None,
    ):
        self.db_path = db_path
        self.autostart = autostart
        self.settings = settings
        self.load_tuning_sample_at_start = load_tuning_sample_at_start
        self.tuning_cache_dir = tuning_cache_dir
        self.window: Any = None

    def open(self, recipe_path: Path | None) -> Any:
        """Open `recipe_path` in a new window. A recipe that is refused (bad TOML, model) leaves
        the current window running; once it checks out, the current window closes its camera
        and log before the new ones are opened (one writer per log, one user per camera). If
        opening them fails then, the previous recipe is opened again and the error raised."""
        previous = self.window
        geometry = previous.saveGeometry() if previous is not None else None

        def close_previous() -> None:
            if previous is not None and self.window is previous:
                previous.close_with_reason(f"recipe changed to {recipe_path}")
                self.window = None

        try:
            parts = compose(recipe_path, self.db_path, before_opening=close_previous)
        except StationError:
            if previous is not None and self.window is None:
                self._reopen(Path(previous.vm.context.recipe_path), geometry)
            raise
        autostart = parts.recipe.autostart if self.autostart is None else self.autostart
        self.window = build_window(
            parts,
            autostart=autostart,
            settings=self.settings,
            load_tuning_sample_at_start=self.load_tuning_sample_at_start,
            tuning_cache_dir=self.tuning_cache_dir,
        )
        self.window.open_recipe_requested.connect(self._open_from_menu)
        if geometry is not None:
            self.window.restoreGeometry(geometry)
        self.window.show()
        return self.window

    def _reopen(self, recipe_path: Path, geometry: Any) -> None:
        try:
            self.open(recipe_path)
        except StationError as exc:
            print(f"station run: error: cannot reopen {recipe_path}: {exc}", file=sys.stderr)
            return
        if geometry is not None:
            self.window.restoreGeometry(geometry)

    def _open_from_menu(self, path: str) -> None:
        try:
            self.open(Path(path))
        except StationError as exc:
            show_error(f"Cannot open recipe {path}", str(exc), parent=self.window)

    def close(self, reason: str) -> None:
        if self.window is not None:
            self.window.close_with_reason(reason)


def gui_available() -> bool:
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName() not in ("offscreen", "minimal", "")


def show_error(title: str, message: str, parent: Any = None) -> None:
    """A modal dialog naming the problem, when there is a screen to show it on."""
    if not gui_available():
        return
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.critical(parent, title, message)


def _display_problem() -> str | None:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform != "linux":
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return "no display: set DISPLAY, or run without a window: station run --headless"


@contextmanager
def closing_on_signals(close: Callable[[str], None]) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM call `close(signal name)` on the GUI thread.

    Python runs signal handlers only when the interpreter gets control, which
    a C++ event loop does not give; a short timer lets it in.
    """
    from PySide6.QtCore import QTimer

    def handler(signum: int, _frame: FrameType | None) -> None:
        QTimer.singleShot(0, lambda: close(signal.Signals(signum).name))

    poke = QTimer()
    poke.timeout.connect(lambda: None)
    poke.start(SIGNAL_POLL_MS)
    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        poke.stop()
        for s, h in previous.items():
            signal.signal(s, h)


def run(recipe_path: Path | None, db_path: Path | None, autostart: bool | None) -> int:
    """`station run`: the operator window until it is closed (or SIGINT/SIGTERM). Exit code."""
    problem = _display_problem()
    if problem is not None:
        print(f"station run: error: {problem}", file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    qapp = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "station"])
    qapp.setApplicationName("Inspection station")
    station = StationApp(db_path=db_path, autostart=autostart)
    # Handlers first: a signal while the station opens (log, worker) closes it once the loop runs.
    with closing_on_signals(station.close):
        try:
            station.open(recipe_path)
        except StationError as exc:
            print(f"station run: error: {exc}", file=sys.stderr)
            show_error("The station cannot start", str(exc))
            return 2
        qapp.exec()
    return 0


def run_headless(
    recipe_path: Path | None,
    db_path: Path | None,
    *,
    duration_s: float | None = None,
    max_parts: int | None = None,
    as_json: bool = False,
) -> int:
    """`station run --headless`: the pipeline without a window, until a signal, S s or N parts.

    Exit 0 on a clean stop (signal, duration, parts, end of a replay); 2 when the recipe is
    refused (one line on stderr, nothing run) or the camera refuses its configuration.
    On exit the summary goes to stdout: one JSON object with `as_json`, else one line.
    """
    import json

    from station.pipeline.headless import HeadlessRunner

    runner: HeadlessRunner | None = None
    pending: list[str] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if runner is None:
            pending.append(name)
        else:
            runner.request_stop(name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            parts = compose(recipe_path, db_path, headless=True)
        except StationError as exc:
            print(f"station run: error: {exc}", file=sys.stderr)
            return 2
        forwarder = _start_forwarder(parts)
        runner = HeadlessRunner(
            worker_setup(parts),
            duration_s=duration_s,
            max_parts=max_parts,
            status_extra=None if forwarder is None else lambda: forwarder.status.text(),
        )
        for name in pending:  # a signal while the station was being built
            runner.request_stop(name)
        try:
            summary = runner.run()
        finally:
            if forwarder is not None:  # the line has stopped: a few seconds to catch up
                forwarder.drain(HEADLESS_DRAIN_S)
                forwarder.close()
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    if as_json:
        print(json.dumps(summary.to_dict()), flush=True)
    else:
        d = summary.to_dict()
        lat = summary
        print(
            f"inspected {d['inspected']}, passed {d['passed']}, rejected {d['rejected']}, "
            f"no decision {d['no_decision']} in {d['elapsed_s']} s ({d['parts_per_s']} parts/s); "
            f"latency p50 {_ms(lat.latency_p50_ms)}, p99 {_ms(lat.latency_p99_ms)}",
            flush=True,
        )
    if summary.camera_fault:
        print(f"station run: error: {summary.camera_fault}", file=sys.stderr)
        return 2
    return 0


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f} ms"
