"""The supervisor PIN that guards threshold changes, kept only as a salted hash.

Thresholds change what ships, so applying a new set needs a PIN. The PIN is
never stored: only a salted scrypt hash (memory-hard, so a stolen hash file
cannot be brute-forced over the small PIN space cheaply) with its cost
parameters, so they can be raised later without invalidating stored hashes.
Verification compares digests in constant time (`hmac.compare_digest`).
Stdlib only: the file that holds the record lives outside the core.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from station.core.errors import StationError

PIN_MIN_LEN = 4
PIN_MAX_LEN = 12

# scrypt cost: n=2**14, r=8 -> 16 MiB and ~50 ms per attempt on this class of CPU.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32


class PinError(StationError):
    """A PIN that cannot be set (wrong length, not digits) or a malformed stored record."""


def check_new_pin(pin: str) -> None:
    """Refuse a PIN that is not 4 to 12 digits."""
    if not (PIN_MIN_LEN <= len(pin) <= PIN_MAX_LEN) or not pin.isdigit() or not pin.isascii():
        raise PinError(f"PIN: expected {PIN_MIN_LEN} to {PIN_MAX_LEN} digits")


@dataclass(frozen=True, slots=True)
class PinRecord:
    """A salted scrypt hash of the supervisor PIN and the parameters that made it."""

    salt_hex: str
    hash_hex: str
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P
    algorithm: str = "scrypt"

    def to_dict(self) -> dict[str, object]:
        return {
            "algorithm": self.algorithm,
            "n": self.n,
            "r": self.r,
            "p": self.p,
            "salt": self.salt_hex,
            "hash": self.hash_hex,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object], where: str = "PIN record") -> PinRecord:
        if data.get("algorithm") != "scrypt":
            raise PinError(f"{where}: algorithm: expected 'scrypt', got {data.get('algorithm')!r}")
        values: dict[str, int] = {}
        for key in ("n", "r", "p"):
            v = data.get(key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise PinError(f"{where}: {key}: expected a positive integer, got {v!r}")
            values[key] = v
        hexes: dict[str, str] = {}
        for key in ("salt", "hash"):
            v = data.get(key)
            if not isinstance(v, str) or not v:
                raise PinError(f"{where}: {key}: expected a hex string, got {v!r}")
            try:
                bytes.fromhex(v)
            except ValueError:
                raise PinError(f"{where}: {key}: expected a hex string, got {v!r}") from None
            hexes[key] = v
        return cls(hexes["salt"], hexes["hash"], values["n"], values["r"], values["p"])


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + 2**20, dklen=KEY_BYTES
    )


def hash_pin(pin: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> PinRecord:
    """A fresh random salt and the scrypt hash of `pin` (checked to be 4-12 digits)."""
    check_new_pin(pin)
    salt = secrets.token_bytes(SALT_BYTES)
    return PinRecord(salt.hex(), _scrypt(pin, salt, n, r, p).hex(), n, r, p)


def verify_pin(pin: str, record: PinRecord) -> bool:
    """True when `pin` hashes to `record`; constant-time comparison of the digests."""
    digest = _scrypt(pin, bytes.fromhex(record.salt_hex), record.n, record.r, record.p)
    return hmac.compare_digest(digest, bytes.fromhex(record.hash_hex))
