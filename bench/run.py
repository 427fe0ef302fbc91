"""The one entry point for every benchmark of the project: ``python bench/run.py [NAME...]``.

Benchmarks are discovered, not registered: each module ``bench/bench_<name>.py``
defining ``run()`` is benchmark ``<name>``. ``run()`` returns an iterable of
figures, each ``(name, value, unit, target)`` or a `benchlib.Figure`, and may
raise `benchlib.Skip("why")`. With no NAME every benchmark runs.

Progress and diagnostics go to stderr while the benchmarks run; the figures
are printed last, to stdout, one line each::

    NAME: VALUE UNIT (target ...)

Exit status: 0 when every benchmark ran (skips included), 1 when one failed,
2 for an unknown NAME.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
for p in (BENCH_DIR, ROOT):  # benchlib and station import without installing anything
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from benchlib import Figure, Skip  # noqa: E402


def discover(bench_dir: Path = BENCH_DIR) -> dict[str, Path]:
    """Benchmark name -> module file, for every ``bench_<name>.py`` in `bench_dir`."""
    return {p.stem.removeprefix("bench_"): p for p in sorted(bench_dir.glob("bench_*.py"))}


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def format_figure(fig: Figure) -> str:
    target = fig.target.strip() or "none"
    if not target.startswith("target"):
        target = f"target {target}"
    verdict = "" if fig.met is None else (", met" if fig.met else ", MISSED")
    unit = f" {fig.unit}" if fig.unit else ""
    return f"{fig.name}: {fig.value:.4g}{unit} ({target}{verdict})"


def _figures(result: Iterable[object]) -> list[Figure]:
    figures = []
    for item in result:
        figures.append(item if isinstance(item, Figure) else Figure(*item))  # type: ignore[misc]
    return figures


def main(argv: Sequence[str] | None = None, bench_dir: Path = BENCH_DIR) -> int:
    available = discover(bench_dir)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(available)}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in available]
    if unknown:
        print(
            f"bench/run.py: error: unknown benchmark {', '.join(unknown)}; "
            f"available: {', '.join(available)}",
            file=sys.stderr,
        )
        return 2
    lines: list[str] = []
    status = 0
    for name in args.names or list(available):
        print(f"[bench] {name}: running...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            module = _load(name, available[name])
            figures = _figures(module.run())
        except Skip as why:
            lines.append(f"{name}: skipped ({why})")
            continue
        except Exception:
            traceback.print_exc()
            lines.append(f"{name}: FAILED (see the traceback above)")
            status = 1
            continue
        print(f"[bench] {name}: done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        lines.extend(format_figure(f) for f in figures)
    sys.stderr.flush()
    print("\n".join(lines), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
