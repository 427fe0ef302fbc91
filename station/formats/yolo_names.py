"""The class names of a YOLO sample's `data.yaml` (`names:`), read without a YAML library.

A sample's label ids index these names; the evaluation maps them onto a model's classes and
a folder replay names its ground truth with them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from station.core.errors import StationError


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


def parse_data_yaml_names(text: str, where: Path) -> tuple[str, ...] | None:
    """The `names` of a data.yaml: a flow list, a block list or a block map of id: name.

    Only this key is read, so no YAML library is needed; None when absent.
    """
    lines = text.splitlines()
    for i, raw in enumerate(lines):
        line = raw.split(" #", 1)[0].rstrip()
        m = re.match(r"^names\s*:\s*(.*)$", line)
        if not m:
            continue
        rest = m.group(1).strip()
        if rest.startswith("["):
            if not rest.endswith("]"):
                raise StationError(f"{where}: names: expected a one-line list [a, b, ...]")
            return tuple(_unquote(x) for x in rest[1:-1].split(",") if x.strip())
        if rest.startswith("{"):
            items = [x for x in rest.strip("{}").split(",") if x.strip()]
            pairs = [tuple(x.split(":", 1)) for x in items]
            return _from_map(pairs, where)
        if rest:
            raise StationError(f"{where}: names: expected a list or a map of class names")
        block: list[str] = []
        for nxt in lines[i + 1 :]:
            if nxt.strip() == "" or nxt.lstrip().startswith("#"):
                continue
            if not nxt[:1].isspace() and not nxt.startswith("-"):
                break
            block.append(nxt.split(" #", 1)[0].strip())
        if all(b.startswith("-") for b in block):
            return tuple(_unquote(b[1:]) for b in block)
        return _from_map([tuple(b.split(":", 1)) for b in block], where)
    return None


def _from_map(pairs: Sequence[tuple[str, ...]], where: Path) -> tuple[str, ...]:
    out: dict[int, str] = {}
    for p in pairs:
        if len(p) != 2 or not p[0].strip().isdigit():
            raise StationError(f"{where}: names: expected `id: name` entries, got {':'.join(p)!r}")
        out[int(p[0])] = _unquote(p[1])
    if sorted(out) != list(range(len(out))):
        raise StationError(f"{where}: names: expected ids 0..{len(out) - 1}, got {sorted(out)}")
    return tuple(out[i] for i in range(len(out)))
