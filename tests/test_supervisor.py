"""The supervisor PIN: stored only as a salted scrypt hash, verified in constant time."""

from __future__ import annotations

import json

import pytest

from station.core.supervisor import PinError, PinRecord, check_new_pin, hash_pin, verify_pin
from station.services.tuning_store import PinStore

FAST = {"n": 2**10, "r": 8, "p": 1}  # cheap parameters: the algorithm is the same


def test_right_pin_verifies_and_wrong_pin_does_not() -> None:
    record = hash_pin("4711")  # default (production) cost, once
    assert verify_pin("4711", record)
    assert not verify_pin("4712", record)
    assert not verify_pin("", record)


def test_hash_is_salted_and_never_contains_the_pin() -> None:
    a, b = hash_pin("123456", **FAST), hash_pin("123456", **FAST)
    assert a.salt_hex != b.salt_hex and a.hash_hex != b.hash_hex
    assert "123456" not in json.dumps(a.to_dict())
    assert verify_pin("123456", a) and verify_pin("123456", b)


@pytest.mark.parametrize("pin", ["", "123", "1234567890123", "12a4", "12 34", "١٢٣٤"])
def test_bad_new_pins_are_refused(pin: str) -> None:
    with pytest.raises(PinError, match="PIN: expected 4 to 12 digits"):
        check_new_pin(pin)


def test_record_round_trip_and_malformed_records() -> None:
    rec = hash_pin("0000", **FAST)
    assert PinRecord.from_dict(rec.to_dict()) == rec
    bad = {**rec.to_dict(), "salt": "zz"}
    with pytest.raises(PinError, match="salt: expected a hex string"):
        PinRecord.from_dict(bad)
    with pytest.raises(PinError, match="algorithm: expected 'scrypt'"):
        PinRecord.from_dict({**rec.to_dict(), "algorithm": "md5"})
    with pytest.raises(PinError, match="n: expected a positive integer"):
        PinRecord.from_dict({**rec.to_dict(), "n": "16384"})


def test_store_sets_on_first_use_then_verifies(tmp_path) -> None:
    store = PinStore(tmp_path / "cfg" / "supervisor_pin.json", cost=FAST)
    assert not store.is_set()
    store.set_first("2468")
    assert store.is_set()
    assert store.verify("2468") and not store.verify("2469")
    # A second "first use" must not overwrite the PIN.
    with pytest.raises(PinError, match="already set"):
        store.set_first("1111")
    text = (tmp_path / "cfg" / "supervisor_pin.json").read_text()
    assert "2468" not in text and json.loads(text)["algorithm"] == "scrypt"
    # A fresh store on the same file sees the same PIN.
    assert PinStore(tmp_path / "cfg" / "supervisor_pin.json").verify("2468")


def test_store_names_the_file_when_corrupt(tmp_path) -> None:
    path = tmp_path / "supervisor_pin.json"
    path.write_text("{not json")
    with pytest.raises(PinError, match=r"supervisor_pin\.json"):
        PinStore(path).verify("1234")
