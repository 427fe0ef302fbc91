"""The samples a supervisor can tune on, and how each becomes a scored sample.

Three kinds: the shipped held-out sample of the synthetic line (written on
first use into the user cache dir: `shipped_sample`), a YOLO-layout folder
the user picks, and the parts operators confirmed on the line (from the log). Scoring goes through
`station.evaluation`, whose cache is keyed by model hash and sample content,
so switching back to a sample never re-runs the model. No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core.errors import StationError
from station.core.sample import ScoredSample
from station.services.shipped_sample import count_images, ensure_shipped_sample, shipped_defaults

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SampleEntry:
    """One choice in the sample chooser. `parts` is its size when known before scoring."""

    kind: str  # "shipped" | "folder" | "confirmed" | "plant" | "matrix"
    label: str
    path: Path | None = None
    parts: int | None = None

    @property
    def display(self) -> str:
        return self.label + (f" ({self.parts} parts)" if self.parts is not None else "")

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, str(self.path) if self.path else self.label)

    @classmethod
    def folder(cls, path: Path) -> SampleEntry:
        return cls("folder", f"folder {path.name}", path, count_images(path))


@dataclass(frozen=True, slots=True)
class LoadedSample:
    """A scored sample and where its parts' images and label files are (None: not on disk)."""

    label: str
    kind: str
    sample: ScoredSample
    image_paths: tuple[str | None, ...] = ()
    label_paths: tuple[str | None, ...] = ()

    @property
    def size_text(self) -> str:
        s = self.sample
        n_def = int(s.defective.sum())
        return f"{s.n_parts} parts ({n_def} defective, {s.n_parts - n_def} good)"


PLANT_LABEL = "confirmed parts, every station (central)"


class SampleCatalog:
    """Lists the samples and builds the scoring job of each (run off the GUI thread).

    `score_folder(folder, progress) -> LoadedSample` scores a YOLO folder with
    the station's model (through the evaluation cache); `confirmed(progress)
    -> LoadedSample` builds the operator-confirmed sample from the log;
    `confirmed_count()` says how many parts it has. Any of them may be None.
    """

    def __init__(
        self,
        score_folder: Callable[[Path, Progress], LoadedSample] | None,
        confirmed: Callable[[Progress], LoadedSample] | None = None,
        confirmed_count: Callable[[], int] | None = None,
        cache_dir: Path | None = None,
        shipped: tuple[int, int] | None = None,
        plant: Callable[[Progress], LoadedSample] | None = None,
    ):
        self.shipped = shipped or shipped_defaults()
        self.plant = plant  # confirmed parts of every station (central database), or None
        self.score_folder = score_folder
        self.confirmed = confirmed
        self.confirmed_count = confirmed_count
        self.cache_dir = cache_dir
        self.folders: list[SampleEntry] = []
        self.sizes: dict[tuple[str, str], int] = {}

    @classmethod
    def for_model(
        cls,
        model: Path | str,
        labels: Path | None = None,
        family: str | None = None,
        db_path: Path | None = None,
        model_sha256: str | None = None,
        cache_dir: Path | None = None,
        shipped: tuple[int, int] | None = None,
        central_url: str | None = None,
    ) -> SampleCatalog:
        """Samples scored by the station's model (loaded once, on the scoring thread).

        With `central_url`, also the confirmed parts of every station that ran this model.
        """
        loaded: dict[str, Any] = {}

        def detector() -> Any:
            if "d" not in loaded:
                from station.detectors import load_detector

                loaded["d"] = load_detector(model, labels, family)
            return loaded["d"]

        def score(folder: Path, progress: Progress) -> LoadedSample:
            from station.evaluation import score_folder

            det = detector()
            if model_sha256 is not None and det.info.sha256 != model_sha256:
                raise StationError(f"{model}: the model file changed since the station loaded it")
            scores_dir = None if cache_dir is None else Path(cache_dir) / "scores"
            done = score_folder(det, folder, progress=progress, cache_dir=scores_dir)
            y = done.yolo
            return LoadedSample(
                str(folder),
                "folder",
                done.sample,
                tuple(str(p) for p in y.image_paths),
                tuple(None if p is None else str(p) for p in y.label_paths),
            )

        confirmed = None
        if db_path is not None:
            db = Path(db_path)

            def confirmed(progress: Progress) -> LoadedSample:
                from station.storage.samples import confirmed_sample

                progress(0, 1)
                c = confirmed_sample(db, model_sha256)
                progress(1, 1)
                return LoadedSample(
                    "operator-confirmed parts",
                    "confirmed",
                    c.sample,
                    tuple(None if p is None else str(p) for p in c.image_paths),
                )

        plant = None
        if central_url is not None and model_sha256 is not None:
            url, sha = central_url, model_sha256

            def plant(progress: Progress) -> LoadedSample:
                from station.services.plant_sample import plant_confirmed_sample

                progress(0, 1)
                c = plant_confirmed_sample(url, sha)
                progress(1, 1)
                return LoadedSample(PLANT_LABEL, "plant", c.sample, (None,) * len(c.row_ids))

        return cls(score, confirmed, None, cache_dir, shipped, plant)

    def entries(self) -> list[SampleEntry]:
        out = [SampleEntry("shipped", "shipped held-out sample", None, self.shipped[0])]
        out += self.folders
        if self.confirmed is not None:
            n = self.confirmed_count() if self.confirmed_count is not None else None
            n = self.sizes.get(("confirmed", "operator-confirmed parts"), n)
            out.append(SampleEntry("confirmed", "operator-confirmed parts", None, n))
        if self.plant is not None:
            n = self.sizes.get(("plant", PLANT_LABEL))
            out.append(SampleEntry("plant", PLANT_LABEL, None, n))
        return out

    def remember(self, entry: SampleEntry, parts: int | None = None) -> None:
        if parts is not None:
            self.sizes[entry.key] = parts
        if entry.kind == "folder" and entry.key not in {e.key for e in self.folders}:
            self.folders.append(entry)

    def job(self, entry: SampleEntry) -> Callable[[Progress], LoadedSample]:
        if entry.kind == "plant" and self.plant is not None:
            return self.plant
        if entry.kind == "confirmed":
            if self.confirmed is None:
                raise StationError("no log attached: there are no operator-confirmed parts")
            return self.confirmed
        if self.score_folder is None:
            raise StationError("no model attached: samples cannot be scored here")
        score = self.score_folder
        if entry.kind == "shipped":
            cache_dir, shipped = self.cache_dir, self.shipped
            return lambda progress: _label(
                score(ensure_shipped_sample(cache_dir, shipped, progress), progress), entry.label
            )
        if entry.kind == "folder" and entry.path is not None:
            path = entry.path
            return lambda progress: _label(score(path, progress), entry.label)
        raise StationError(f"sample {entry.label}: cannot be loaded")


def _label(loaded: LoadedSample, label: str) -> LoadedSample:
    return LoadedSample(label, loaded.kind, loaded.sample, loaded.image_paths, loaded.label_paths)


def loaded_from_any(result: Any) -> LoadedSample:
    if isinstance(result, LoadedSample):
        return result
    raise StationError(f"scoring returned {type(result).__name__}, expected a LoadedSample")


def benchmark_matrix(
    n_parts: int = 100_000,
    n_classes: int = 8,
    seed: int = 0,
    model_sha256: str = "bench",
    class_names: tuple[str, ...] | None = None,
) -> LoadedSample:
    """A score matrix shaped like a real model's, for benchmarks and tests (no images).

    About 8% of parts carry a defect (one class, sometimes two); a defect's
    class scores high but overlapping with look-alikes on good parts, which
    score low with a long tail; classes differ in how separable they are.
    Not detected (-inf) for roughly half of the part/class cells.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    names = class_names or tuple(f"class{c}" for c in range(n_classes))
    n_classes = len(names)
    truth = np.zeros((n_parts, n_classes), dtype=bool)
    defective = rng.random(n_parts) < 0.08
    first = rng.integers(0, n_classes, n_parts)
    truth[np.flatnonzero(defective), first[defective]] = True
    second = defective & (rng.random(n_parts) < 0.1)
    truth[np.flatnonzero(second), rng.integers(0, n_classes, n_parts)[second]] = True
    sep = np.linspace(2.5, 6.0, n_classes)  # how well each class separates
    scores = rng.beta(1.2, 6.0, size=(n_parts, n_classes))
    pos = rng.beta(sep[None, :].repeat(n_parts, 0), 2.0)
    scores32 = np.where(truth, pos, scores).astype(np.float32)
    undetected = (~truth) & (rng.random((n_parts, n_classes)) < 0.5)
    scores32[undetected] = -np.inf
    ids = tuple(f"part{i:06d}" for i in range(n_parts))
    sample = ScoredSample(names, scores32, truth, ids, model_sha256)
    return LoadedSample(f"benchmark {n_parts} x {n_classes}", "matrix", sample)
