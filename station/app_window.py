"""The operator window's composition: the window, its tabs and its status lines.

`build_window` puts the parts `station.app.compose` built under the main
window: the inspection view-model and its worker thread, the Shift and Tuning
tabs, the PLC and central-database status. `app_gui.run` is `station run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from station.app import StationParts, shift_totals, start_forwarder, worker_setup


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


def _forward_to_central(window: Any, parts: StationParts) -> None:
    """With a `[central] url`: forward the log in the background, its backlog in the status line."""
    forwarder = start_forwarder(parts)
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
    totals = shift_totals(parts.recipe, parts.db_path)
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
