"""Large archive files written past the page cache hold exactly their bytes."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from station.storage import direct_io


@pytest.mark.parametrize("size", [0, 1, 4095, 65536, 65537, 922_478, 2_000_000])
def test_a_file_holds_exactly_its_bytes_whatever_its_length(tmp_path: Path, size: int) -> None:
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8)
    path = tmp_path / "frame.tif"
    path.write_bytes(b"x" * 3_000_000)  # replaced, not overwritten in place
    direct_io.write_synced(path, data.data)
    assert path.read_bytes() == data.tobytes()


def test_one_buffer_serves_files_of_any_size_in_turn(tmp_path: Path) -> None:
    """The aligned buffer is reused and grown: a shorter file after a longer one is not padded
    with the longer one's tail."""
    rng = np.random.default_rng(0)
    for i, size in enumerate([900_000, 70_000, 1_500_000, 100_000]):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        direct_io.write_synced(tmp_path / f"f{i}", data)
        assert (tmp_path / f"f{i}").read_bytes() == data


def test_a_filesystem_refusing_o_direct_gets_a_buffered_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EINVAL from an O_DIRECT open (no such filesystem here: the refusal is simulated) falls
    back to a buffered write, remembered for that device; other errors are not swallowed."""
    real_open = os.open
    direct_opens = []

    def refusing_open(path, flags, mode=0o777):  # type: ignore[no-untyped-def]
        if flags & direct_io._O_DIRECT:
            direct_opens.append(path)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, mode)

    monkeypatch.setattr(direct_io.os, "open", refusing_open)
    monkeypatch.setattr(direct_io, "_refused", set())
    data = bytes(range(256)) * 1000
    for name in ("a", "b"):
        direct_io.write_synced(tmp_path / name, data)
        assert (tmp_path / name).read_bytes() == data
    assert len(direct_opens) == 1  # the second file did not try again
    with pytest.raises(FileNotFoundError):
        direct_io.write_synced(tmp_path / "missing" / "c", data)
