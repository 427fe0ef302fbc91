"""Where the supervisor PIN's hash lives: a small JSON file in the user config dir.

Only the salted scrypt hash is written (see `station.core.supervisor`); the
file is replaced atomically (`station.core.files`) and, being a secret, is
readable by its owner only. The path is injectable so tests use a tmp dir.

Beside it, `<name>.lockout.json` keeps the wrong-PIN count and the lockout's
end (wall-clock UTC seconds), so a lockout survives "Open recipe…" and a
restart of the station.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from station import APP_NAME
from station.core.files import atomic_write_text
from station.core.supervisor import PinError, PinRecord, hash_pin, verify_pin

PIN_FILE = "supervisor_pin.json"


@dataclass(frozen=True, slots=True)
class Lockout:
    """Wrong PINs in a row, and until when (UTC epoch seconds) applying is refused."""

    failures: int = 0
    locked_until_utc: float = 0.0


def default_pin_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / PIN_FILE


class PinStore:
    """The supervisor PIN, set on first use, verified thereafter.

    `cost` overrides scrypt's n/r/p for new hashes (tests); stored records
    carry their own parameters, so verifying never depends on it.
    """

    def __init__(self, path: Path | None = None, cost: Mapping[str, int] | None = None):
        self.path = path if path is not None else default_pin_path()
        self._cost = dict(cost or {})

    def _load(self) -> PinRecord | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as e:
            raise PinError(f"{self.path}: cannot read the PIN file ({e.strerror})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise PinError(
                f"{self.path}: not valid JSON ({e.msg}); delete it to set a new PIN"
            ) from None
        if not isinstance(data, dict):
            raise PinError(f"{self.path}: expected a JSON object")
        return PinRecord.from_dict(data, where=str(self.path))

    def is_set(self) -> bool:
        return self._load() is not None

    def set_first(self, pin: str) -> None:
        """Set the PIN when none is set yet (first use); refuses to overwrite one."""
        if self.is_set():
            raise PinError(f"{self.path}: a supervisor PIN is already set")
        record = hash_pin(pin, **self._cost)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps(record.to_dict(), indent=2) + "\n", secret=True)

    def verify(self, pin: str) -> bool:
        record = self._load()
        return record is not None and verify_pin(pin, record)

    @property
    def lockout_path(self) -> Path:
        return self.path.with_name(self.path.stem + ".lockout.json")

    def lockout(self) -> Lockout:
        """The persisted wrong-PIN state; a damaged file is refused, never read as "no lockout"."""
        try:
            text = self.lockout_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Lockout()
        except OSError as e:
            raise PinError(f"{self.lockout_path}: cannot read ({e.strerror})") from None
        try:
            data = json.loads(text)
            failures, until = int(data["failures"]), float(data["locked_until_utc"])
        except (ValueError, KeyError, TypeError):
            raise PinError(
                f"{self.lockout_path}: damaged; applying stays refused until a supervisor "
                "deletes it"
            ) from None
        if failures < 0 or not math.isfinite(until):
            raise PinError(f"{self.lockout_path}: damaged (failures {failures}, until {until})")
        return Lockout(failures, until)

    def save_lockout(self, state: Lockout) -> None:
        if state == Lockout() and not self.lockout_path.exists():
            return
        doc = {"failures": state.failures, "locked_until_utc": state.locked_until_utc}
        self.lockout_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.lockout_path, json.dumps(doc) + "\n", secret=True)
