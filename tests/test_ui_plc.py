"""The PLC line of the window's status bar, fed by a real PLC link on 127.0.0.1."""

from __future__ import annotations

from plc_support import plc_client, running_link

from station.core.ports import ModelInfo
from station.ui.view_models.plc_vm import PlcStatusViewModel
from station.ui.widgets.status_bar import StationStatusBar


def test_status_line_shows_clients_trigger_heartbeat_and_faults(qtbot) -> None:  # type: ignore[no-untyped-def]
    bar = StationStatusBar(ModelInfo("m.onnx", "ab" * 32, "yolov8", ("crack",)), "line.toml")
    qtbot.addWidget(bar)
    with running_link() as link:
        vm = PlcStatusViewModel(link, interval_ms=20)
        vm.changed.connect(bar.show_plc)
        vm.refresh()
        assert bar.plc.isVisibleTo(bar) and "0 connected" in bar.plc.text()
        link.set_running(True)
        with plc_client(link.port) as plc:
            plc.write_register(20, 42, device_id=1)
            qtbot.waitUntil(lambda: "1 connected · trigger 42" in bar.plc.text())
        link.set_fault("camera", "camera lost")
        qtbot.waitUntil(lambda: "FAULT camera lost" in bar.plc.text())
        vm.close()
