"""The per-part pipeline: acquire → frame check → detect → decide → record → log → outputs.

`InspectionPipeline` is plain Python and owns no thread of its own choosing: whoever
runs it (the window's worker thread, the headless runner's main thread) calls
`step()` again after the wait it returns, and calls commands (start, stop, trigger,
new thresholds, shutdown) between two steps, so a command never lands mid-part.

Fail safe: whatever goes wrong with a part (camera lost, model error, NaN score,
corrupt or wrong-size frame, log failure) makes it NO DECISION with the reason in
words; the loop goes on. A lost camera is reopened with backoff and inspection
resumes by itself; a camera that refuses its configuration stops inspection with a
fault. A part reaches the outputs and then the window only after the log committed
it; a part the log refused is shown (and sent) as NO DECISION. With inference lanes
(`PipelineSetup.lanes` > 1) several parts are inferred at once; deciding, recording
and everything after still happen here, one part at a time, in acquisition order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from station.core.decision import DecisionPolicy, no_decision
from station.core.detections import Detections
from station.core.inspection import Inspection, threshold_set_id
from station.core.no_decision import NoDecisionCause
from station.core.thresholds import ThresholdSet
from station.outputs.plc.parts import RESULT_ID_KEY, TRIGGER_ID_KEY, late_message
from station.pipeline.acquisition import Acquired, CameraChange, CameraLink, Item, one_line
from station.pipeline.feed import Feed, make_feed
from station.pipeline.inspector import Judged, PartInspector, StagedDetector, no_scores
from station.pipeline.lanes import Detected, InferenceLanes
from station.pipeline.line import LineSide, TriggeredFeed
from station.pipeline.log_link import LogLink
from station.pipeline.results import CameraState, PartResult
from station.pipeline.setup import PendingCommit, PipelineEvents, PipelineSetup


@dataclass(frozen=True, slots=True)
class _Submitted:
    """A judged part whose record is on its way to the disk."""

    part: Acquired
    inspection: Inspection
    judged: Judged
    commit: PendingCommit | BaseException
    policy: DecisionPolicy


class InspectionPipeline:
    """One station's inspection loop, stepped by its runner. Use from one thread only."""

    def __init__(self, setup: PipelineSetup, events: PipelineEvents) -> None:
        self._setup = setup
        self._events = events
        detector = setup.detector
        self._inspector = PartInspector(
            detector, station_id=setup.station_id, product=setup.product, shifts=setup.shifts
        )
        self._class_names = self._inspector.class_names
        self._thresholds = setup.thresholds
        self._policy = DecisionPolicy.build(
            setup.thresholds, self._class_names, setup.reject_classes, setup.size_rules
        )
        self._ts_id = threshold_set_id(setup.thresholds)
        prepare = None
        if setup.prefetch > 0 and isinstance(detector, StagedDetector):
            staged = detector
            prepare = lambda frame: staged.prepare_input(frame.image)  # noqa: E731
        link = CameraLink(
            setup.source,
            read_timeout_s=setup.read_timeout_s,
            backoff=setup.backoff,
            prepare=prepare,
        )
        self._line = setup.line
        self._feed: Feed = (
            TriggeredFeed(link, self._line)
            if self._line is not None and self._line.triggered
            else make_feed(link, setup.prefetch)
        )
        self._lanes = (
            InferenceLanes(detector, setup.lanes)
            if setup.lanes > 1 and prepare is not None and isinstance(detector, StagedDetector)
            else None
        )
        self._log = LogLink(setup.open_log, events.fault, lambda: self._shut)
        self._pending: _Submitted | None = None
        self._running = False
        self._triggers = 0
        self._shut = False

    # ---- state ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._running

    @property
    def closed(self) -> bool:
        return self._shut

    @property
    def thresholds(self) -> ThresholdSet:
        return self._thresholds

    def _wanted(self) -> bool:
        return not self._shut and (self._running or self._triggers > 0)

    # ---- lifecycle ----------------------------------------------------------------------------

    def begin(self) -> None:
        """Open the log and say the station is up (camera stopped, thresholds in force)."""
        self._log.open()
        self._log.event("station_started", "station started", product=self._setup.product)
        for item in self._feed.close():
            self._handle(item)
        self._events.thresholds_applied(self._thresholds)

    def shutdown(self, reason: str) -> None:
        """Stop (every acquired part inspected), close camera, outputs and log, logging why."""
        if self._shut:
            return
        self._halt(f"inspection stopped: {reason}")
        self._shut = True
        self._line_events()
        self._log.event("station_stopped", f"station stopped: {reason}")
        self._feed.shutdown()
        if self._lanes is not None:
            self._lanes.close()
        for output in self._setup.outputs:
            try:
                output.close()
            except Exception as exc:
                self._events.fault(f"output {output.name}: could not close: {one_line(exc)}")
        if self._setup.shadow is not None:  # its last results go to the log before it closes
            try:
                self._setup.shadow.close()
            except Exception as exc:
                self._events.fault(f"shadow model: could not close: {one_line(exc)}")
        self._log.close()

    # ---- commands (between two parts) -------------------------------------------------------

    def start(self, parts: int | None = None) -> None:
        """Inspect every part (or only the next `parts`, then wait) until `stop`."""
        if self._shut or self._running:
            return
        self._running = True
        if self._line is not None:
            self._line.set_running(True)
        self._log.event("inspection_started", "inspection started")
        self._events.running_changed(True)
        if parts is None:
            self._feed.demand(running=True, parts=0)
        else:
            self._feed.demand(running=False, parts=parts)

    def interrupt(self) -> None:
        """From any thread (a signal handler too), ahead of a stop: a read waiting for a
        paced frame gives up, so the stop does not wait for the next part."""
        self._feed.interrupt()

    def stop(self, message: str = "inspection stopped by operator") -> None:
        if self._shut or not self._running:
            return
        self._halt(message)

    def trigger(self) -> None:
        """Inspect one part now (when stopped; while running every part is inspected anyway)."""
        if self._shut or self._running:
            return
        self._triggers += 1
        self._feed.demand(running=False, parts=1)

    def set_thresholds(self, thresholds: ThresholdSet) -> None:
        """Judge the next part with `thresholds` (never the part in progress)."""
        try:
            policy = DecisionPolicy.build(
                thresholds, self._class_names, self._setup.reject_classes, self._setup.size_rules
            )
        except Exception as exc:
            self._events.fault(f"thresholds not applied: {one_line(exc)}")
            return
        self._policy = policy
        self._thresholds = thresholds
        self._ts_id = threshold_set_id(thresholds)
        self._log.write(lambda log: log.register_thresholds(thresholds))
        self._log.event(
            "thresholds_changed",
            "thresholds changed",
            threshold_set_id=self._ts_id,
            thresholds=thresholds.resolved(self._class_names),
        )
        self._events.thresholds_applied(thresholds)

    # ---- the loop ---------------------------------------------------------------------------

    def step(self) -> float | None:
        """Inspect the next part (or reconnect the camera); seconds until the next step helps.

        None: nothing to do until a command (start, trigger). Never raises for a part:
        every failure is a NO DECISION or a fault.
        """
        if not self._feed.ready():
            self._settle()  # nothing to overlap its work with: show it now
        if not self._wanted():
            return None
        self._line_events()
        items, wait_s = self._feed.next()
        for item in items:
            self._handle(item)
        if not self._feed.ready():
            self._settle()
        return wait_s if self._wanted() else None

    def _settle(self) -> None:
        """Every part in flight inspected, the last one committed and shown."""
        while self._lanes is not None and self._lanes:
            self._inspect(*self._lanes.take())
        self._finish_pending()

    def _handle(self, item: Item) -> None:
        if isinstance(item, CameraChange):
            self._camera_change(item)
        else:
            if not self._running and self._triggers > 0:
                self._triggers -= 1
            if self._lanes is None:
                self._inspect(item)
                return
            self._lanes.put(item)
            while self._lanes.full():
                self._inspect(*self._lanes.take())

    def _camera_change(self, change: CameraChange) -> None:
        self._settle()  # the window learns of parts and the camera in order
        if change.event is not None:
            self._log.event(change.event.kind, change.event.message, **change.event.details)
        if change.halt:
            self._halt(change.halt)
        if change.fault:
            self._events.fault(change.fault)
        info = change.status.info
        for note in info.notes if info is not None else ():  # a warning, said once by the camera
            self._log.event("camera_note", note)
            self._events.fault(note)
        state = change.status.state
        if self._line is not None and state is not CameraState.CONNECTING:  # no flapping
            bad = state in (CameraState.LOST, CameraState.FAULT)
            self._line.camera_ok(not bad, change.status.message)
        self._events.camera_changed(change.status)

    def _halt(self, message: str) -> None:
        """Stop acquiring, inspect what was already acquired, close the camera."""
        was_running = self._running
        self._running = False
        self._triggers = 0
        if self._line is not None:
            self._line.set_running(False)
        for item in self._feed.close():
            if isinstance(item, Acquired):
                self._handle(item)
            else:
                self._camera_change(replace(item, halt=""))
        self._settle()
        if was_running:
            self._log.event("inspection_stopped", message)
            self._events.running_changed(False)

    def _inspect(self, part: Acquired, detected: Detected | None = None) -> None:
        """Judge and submit this part; then finish the previous one (its commit overlapped)."""
        line = self._line
        result_id = None
        if line is not None and (not line.triggered or part.trigger_id is not None):
            result_id = line.open_part(part.trigger_id, part.available_s)
        if part.problem or part.frame is None:
            judged = Judged(no_decision(part.problem), Detections.empty(), 0.0)
        else:
            judged = self._inspector.judge(part.frame.image, self._policy, part.prepared, detected)
        inspection = self._inspector.record(
            part.frame, part.sequence, judged, self._ts_id, rejecting=self._policy.rejecting
        )
        if line is not None and result_id is not None:
            inspection = self._for_line(line, inspection, result_id, part.trigger_id)
        submitted = _Submitted(part, inspection, judged, self._log.submit(inspection), self._policy)
        self._finish_pending()
        self._pending = submitted

    def _for_line(
        self, line: LineSide, inspection: Inspection, result_id: int, trigger_id: int | None
    ) -> Inspection:
        """The part tagged with its result_id; NO DECISION if its deadline already answered it
        (the model's late result is logged beside it and changes nothing that was sent)."""
        extra = {**inspection.extra, RESULT_ID_KEY: str(result_id)}
        if trigger_id is not None:
            extra[TRIGGER_ID_KEY] = str(trigger_id)
        late_ms = line.claim(result_id)
        if late_ms is None:
            return replace(inspection, extra=extra)
        why = late_message(late_ms, line.deadline_ms)
        decision = inspection.decision
        self._log.event(
            "late_result",
            f"result {result_id} {why}: sent as NO DECISION; the model said "
            f"{decision.outcome.value}" + (f" ({decision.summary})" if decision.summary else ""),
            result_id=result_id,
            late_ms=round(late_ms, 1),
            outcome=decision.outcome.value,
            summary=decision.summary,
        )
        return replace(
            inspection,
            decision=no_decision(why),
            max_scores=no_scores(len(self._class_names)),
            extra=extra,
        )

    def _line_events(self) -> None:
        """What happened on the PLC's side (connects, overflows), into the log."""
        if self._line is not None:
            for event in self._line.take_events():
                self._log.event(event.kind, event.message, **event.details)

    def _finish_pending(self) -> None:
        """Wait for the pending part's commit, then outputs, then (only then) the window."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        part, inspection, judged = pending.part, pending.inspection, pending.judged
        row_id = self._log.committed(pending.commit)
        logged = row_id is not None
        if not logged:
            why = NoDecisionCause.LOG_UNAVAILABLE.message("part not recorded")
            inspection = replace(
                inspection,
                decision=no_decision(why),
                frame=part.frame.image if part.frame is not None else None,
                max_scores=no_scores(len(self._class_names)),
            )
        for output in self._setup.outputs:
            try:
                output.send(inspection, row_id)
            except Exception as exc:
                self._events.fault(f"output {output.name}: {one_line(exc)}")
        committed_ms = (time.perf_counter() - part.available_s) * 1e3
        self._events.part_inspected(
            PartResult(
                inspection=inspection,
                image=part.frame.image if part.frame is not None else None,
                detections=judged.detections,
                thresholds=pending.policy.thresholds,
                rejecting=pending.policy.rejecting,
                logged=logged,
                row_id=row_id,
                committed_ms=committed_ms,
            )
        )
        shadow = self._setup.shadow
        if shadow is not None and row_id is not None and row_id > 0 and part.frame is not None:
            shadow.offer(row_id, inspection.time_utc, inspection.outcome, part.frame.image)
