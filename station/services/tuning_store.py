"""Where the supervisor PIN's hash lives: a small JSON file in the user config dir.

Only the salted scrypt hash is written (see `station.core.supervisor`); the
file is replaced atomically (`station.core.files`) and, being a secret, is
readable by its owner only. The path is injectable so tests use a tmp dir.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from station import APP_NAME
from station.core.files import atomic_write_text
from station.core.supervisor import PinError, PinRecord, hash_pin, verify_pin

PIN_FILE = "supervisor_pin.json"


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
