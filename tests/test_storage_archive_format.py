"""The reject archive keeps exact pixels, runs at the lowest priority and never drops a frame."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from storage_support import make_inspection

from station.core.errors import StationError
from station.core.priority import LOWEST, ProcessLoad, thread_nice
from station.services.confirmed_export import export_confirmed
from station.sources.synthetic import SyntheticCamera
from station.storage import archive as arch
from station.storage.archive_limit import ArchiveLimit
from station.storage.log import SqliteInspectionLog
from station.storage.paths import archive_dir
from station.storage.queries import load_image, load_part


def _camera_frames(n: int) -> list[np.ndarray]:
    """Synthetic-line frames with the generator's sensor noise, as a camera's are."""
    line = SyntheticCamera(seed=3, width=160, height=120, parts_per_minute=0.0)
    line.open()
    try:
        return [np.ascontiguousarray(line.read().image) for _ in range(n)]
    finally:
        line.close()


def _part_image(db: Path, row_id: int) -> np.ndarray | None:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return load_image(load_part(conn, db, row_id))
    finally:
        conn.close()


@pytest.mark.parametrize("stored", [False, True])
@pytest.mark.parametrize("channels", [3, 1])
def test_both_encodings_keep_the_exact_pixels(stored: bool, channels: int) -> None:
    """Deflated as PNG, stored as TIFF; a grey frame stays one channel."""
    frame = _camera_frames(1)[0]
    if channels == 1:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    data = bytes(arch.encode(frame, stored=stored))
    assert data[:4] == b"II*\x00" if stored else data[:8] == b"\x89PNG\r\n\x1a\n"
    assert arch.suffix("png", stored) == (".tif" if stored else ".png")
    back = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert back.shape == frame.shape and back.dtype == np.uint8
    assert np.array_equal(back, frame)


def test_stored_trades_size_for_speed() -> None:
    frame = _camera_frames(1)[0]
    compact, stored = arch.encode(frame).nbytes, arch.encode(frame, stored=True).nbytes
    assert compact < 0.8 * frame.nbytes <= frame.nbytes < stored < 1.01 * frame.nbytes


def test_lossy_archive_formats_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    with pytest.raises(StationError, match=r"image_format.*lossless.*'jpeg'"):
        SqliteInspectionLog(db, image_format="jpeg")
    assert not db.exists() and not archive_dir(db).exists()


def test_only_deflating_runs_at_the_lowest_priority(tmp_path: Path) -> None:
    """The deflater steps aside for inference; the archiver, which stores, does not (a
    stored frame must not wait for a starved thread)."""
    own = thread_nice(threading.get_native_id())
    assert own != LOWEST
    with SqliteInspectionLog(tmp_path / "log.sqlite3"):
        threads = {t.name: t.native_id for t in threading.enumerate()}
        assert thread_nice(threads["RejectDeflater"]) == LOWEST  # type: ignore[arg-type]
        assert thread_nice(threads["RejectArchiver"]) == own  # type: ignore[arg-type]
    assert thread_nice(threading.get_native_id()) == own  # the caller's own is untouched


def test_a_full_queue_writes_on_the_callers_thread_and_loses_nothing(tmp_path: Path) -> None:
    frames = _camera_frames(4)
    attached: dict[int, tuple[str, int, str]] = {}
    first_taken, release = threading.Event(), threading.Event()

    def attach(image: arch.PendingImage, rel: str, nbytes: int) -> None:
        if image.row_id == 1:  # hold the archiver thread on its first frame
            first_taken.set()
            assert release.wait(10)
        attached[image.row_id] = (rel, nbytes, threading.current_thread().name)

    def failed(image: arch.PendingImage, exc: BaseException) -> None:
        raise AssertionError(f"frame {image.row_id} failed: {exc}")

    # a busy line: the archiver thread stores every frame itself (none goes to the deflater)
    archiver = arch.Archiver(tmp_path, "png", attach, failed, max_pending=2, load=_Saturated())
    now = time.time()
    items = [arch.PendingImage(i, now, "reject", frames[i % 4]) for i in range(1, 21)]
    archiver.put(items[0])
    assert first_taken.wait(10)
    for item in items[1:]:
        archiver.put(item)  # 2 wait in the queue, the other 17 are written here
    assert archiver.overflows == 17
    assert {k for k, (_, _, who) in attached.items() if who == "MainThread"} == set(range(4, 21))
    release.set()
    archiver.close()
    assert sorted(attached) == list(range(1, 21))
    assert archiver.stored >= 17
    for item in items:
        rel, nbytes, _ = attached[item.row_id]
        data = (tmp_path / rel).read_bytes()
        assert len(data) == nbytes
        assert np.array_equal(cv2.imdecode(np.frombuffer(data, np.uint8), -1), item.frame)


def test_a_burst_of_rejects_keeps_every_frame_exactly(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    frames = _camera_frames(8)
    now = time.time()
    with SqliteInspectionLog(db, archive=ArchiveLimit(None)) as log:
        pending = [
            log.submit(
                make_inspection(i, now + i, scores={"crack": 0.9}, frame=frames[i % len(frames)])
            )
            for i in range(200)
        ]
        rows = [p.result() for p in pending]
    stats = log.stats
    assert stats.archive_failures == 0
    for i, row in enumerate(rows):
        image = _part_image(db, row)
        assert image is not None, f"row {row} lost its frame"
        assert np.array_equal(image, frames[i % len(frames)])
    files = [f for f in archive_dir(db).rglob("*") if f.is_file()]
    assert {f.suffix for f in files} <= {".png", ".tif"}
    assert len(files) == 200 and sum(f.stat().st_size for f in files) == stats.archive_bytes


def test_archives_written_before_still_open(tmp_path: Path) -> None:
    """PNG level 1 and JPEG frames (the formats written before) open in the part view and
    export as they are."""
    db = tmp_path / "log.sqlite3"
    frame = _camera_frames(1)[0]
    now = time.time()
    with SqliteInspectionLog(db) as log:
        rows = [log.record(make_inspection(i, now + i, scores={"crack": 0.9})) for i in (1, 2)]
        for row in rows:
            log.confirm(row, True, "crack", "qa")
    root = archive_dir(db)
    old = {rows[0]: "2025-01-02/0000000001-reject.png", rows[1]: "2025-01-02/0000000002-reject.jpg"}
    (root / "2025-01-02").mkdir(parents=True)
    assert cv2.imwrite(str(root / old[rows[0]]), frame, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    assert cv2.imwrite(str(root / old[rows[1]]), frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
    conn = sqlite3.connect(db)
    with conn:  # as the archiver of those versions attached them
        for row, rel in old.items():
            size = (root / rel).stat().st_size
            conn.execute(
                "UPDATE inspections SET image_path = ?, image_bytes = ? WHERE id = ?",
                (rel, size, row),
            )
    conn.close()
    png, jpeg = _part_image(db, rows[0]), _part_image(db, rows[1])
    assert png is not None and np.array_equal(png, frame)
    assert jpeg is not None and jpeg.shape == frame.shape
    assert np.abs(jpeg.astype(int) - frame).mean() < 3
    exported = export_confirmed(db, tmp_path / "sample")
    assert exported.written == 2
    names = sorted(p.name for p in (tmp_path / "sample" / "images").iterdir())
    assert names == [f"log-{rows[0]}.png", f"log-{rows[1]}.jpg"]


class _Saturated(ProcessLoad):
    """A station using every core (a line running flat out)."""

    def share(self) -> float:
        return 1.0


@pytest.mark.parametrize("busy", [False, True])
def test_frames_are_deflated_only_while_the_line_leaves_cpu_to_spare(
    tmp_path: Path, busy: bool
) -> None:
    frames = _camera_frames(3)
    sizes: dict[int, int] = {}

    def attach(image: arch.PendingImage, rel: str, nbytes: int) -> None:
        sizes[image.row_id] = nbytes

    def failed(image: arch.PendingImage, exc: BaseException) -> None:
        raise AssertionError(f"frame {image.row_id} failed: {exc}")

    load = _Saturated() if busy else ProcessLoad(window_s=0.05)
    archiver = arch.Archiver(tmp_path, "png", attach, failed, load=load)
    for i, frame in enumerate(frames, 1):
        time.sleep(0.2)  # an idle test process: well under BUSY_SHARE of the machine
        archiver.put(arch.PendingImage(i, time.time(), "reject", frame))
    archiver.close()
    undeflated = [sizes[i] > frames[i - 1].nbytes for i in sizes]
    assert undeflated == [busy] * 3
    assert archiver.stored == (3 if busy else 0)


def test_a_busy_deflater_never_holds_a_frame_back(tmp_path: Path) -> None:
    """While the nice-19 deflater is held on a frame (as inference would starve it), the
    archiver stores the frames that follow at its own priority."""
    frames = _camera_frames(4)
    done: dict[int, tuple[int, str]] = {}
    held, release = threading.Event(), threading.Event()

    def attach(image: arch.PendingImage, rel: str, nbytes: int) -> None:
        if image.row_id == 1:
            held.set()
            assert release.wait(10)
        done[image.row_id] = (nbytes, threading.current_thread().name)

    def failed(image: arch.PendingImage, exc: BaseException) -> None:
        raise AssertionError(f"frame {image.row_id} failed: {exc}")

    archiver = arch.Archiver(tmp_path, "png", attach, failed, load=ProcessLoad(window_s=0.05))
    time.sleep(0.2)  # an idle line: frame 1 goes to the deflater
    archiver.put(arch.PendingImage(1, time.time(), "reject", frames[0]))
    assert held.wait(10)
    for i in (2, 3, 4):  # 2 waits for the deflater; 3 and 4 find it busy
        archiver.put(arch.PendingImage(i, time.time(), "reject", frames[i - 1]))
    end = time.monotonic() + 10
    while not {3, 4} <= done.keys() and time.monotonic() < end:
        time.sleep(0.01)
    assert {k: who for k, (_, who) in done.items()} == {3: "RejectArchiver", 4: "RejectArchiver"}
    release.set()
    archiver.close()
    raw = frames[0].nbytes
    assert [done[i][0] < raw for i in (1, 2, 3, 4)] == [True, True, False, False]
    assert archiver.stored == 2 and archiver.overflows == 0


def test_process_load_sees_an_idle_process_and_stays_a_share() -> None:
    load = ProcessLoad(window_s=0.05)
    time.sleep(0.2)
    assert 0.0 <= load.share() < arch.BUSY_SHARE
    end = time.process_time() + 0.2
    while time.process_time() < end:  # one busy core of however many this machine has
        pass
    assert 0.0 < load.share() <= 1.0
