"""`load_detector`: validate a model file and build the detector that fits it.

Every problem a user can fix (missing file, not ONNX, unsupported input,
output of no known family, class names that do not fit) is a one-line
StationError naming the file and what was expected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

import station.detectors.families  # noqa: F401  (registers the output families)
from station.core.errors import StationError
from station.core.ports import Detector, ModelInfo
from station.detectors.hashing import sha256_file
from station.detectors.heuristic import PREFIX, DarkBlobDetector, parse_spec
from station.detectors.labels import read_labels, sidecar_labels_path
from station.detectors.metadata import ModelMetadata, parse_metadata
from station.detectors.onnx_detector import OnnxDetector
from station.detectors.registry import REGISTRY
from station.detectors.session_options import SessionOptions

_DTYPES: dict[str, type[np.floating]] = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


def load_detector(
    model: Path | str,
    labels: Path | None = None,
    family: str | None = None,
    session: SessionOptions | None = None,
) -> Detector:
    """A Detector for an ONNX file, or for a ``heuristic:...`` pseudo path.

    Output family: `family` (a name or alias such as ``yolov8``, ``yolov5``,
    ``end2end``, ``classifier``) when given, else the model's metadata, else
    its output shape (see `station.detectors.registry`). Class names: the
    `labels` file when given, else metadata `names`, else a sidecar
    ``<model stem>.labels.txt`` beside the model, else ``class0``, ``class1``...

    Raises StationError (one line naming the file) for anything the user can
    fix. The detector's `detect(frame)` returns every candidate with
    confidence >= 0.001 after NMS (thresholds are the core's job) and raises
    DetectorError for a bad frame or a model failure. `session`: onnxruntime's threads
    and spinning (default: `SessionOptions.choose()`, the window's, from this machine).
    """
    if str(model).startswith(PREFIX):
        params = parse_spec(str(model))
        names = read_labels(labels) if labels is not None else ("dark_blob",)
        if len(names) != 1:
            raise StationError(
                f"{labels}: the dark-blob heuristic has 1 class, the file names {len(names)}"
            )
        return DarkBlobDetector(params, names[0])
    return load_onnx_detector(Path(model), labels, family, session)


def _session(path: Path, options: SessionOptions) -> ort.InferenceSession:
    try:
        return ort.InferenceSession(str(path), options.to_ort(), providers=["CPUExecutionProvider"])
    except Exception as exc:
        text = str(exc)
        if "INVALID_PROTOBUF" in text or "Protobuf parsing failed" in text:
            raise StationError(f"{path}: not an ONNX model (protobuf parsing failed)") from None
        detail = text.splitlines()[0] if text else type(exc).__name__
        raise StationError(f"{path}: onnxruntime cannot load this model: {detail[:200]}") from None


def _input_geometry(
    session: ort.InferenceSession, meta: ModelMetadata, path: Path
) -> tuple[str, tuple[int | str, ...], str, tuple[int, int], type[np.floating], list[str]]:
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise StationError(f"{path}: expected a model with 1 image input, it has {len(inputs)}")
    inp = inputs[0]
    shape: tuple[int | str, ...] = tuple(
        d if isinstance(d, int) and d > 0 else str(d) for d in inp.shape
    )
    dtype = _DTYPES.get(inp.type)
    if dtype is None:
        raise StationError(
            f"{path}: input {inp.name!r} has type {inp.type}, expected float or float16"
        )
    if len(shape) == 4 and shape[1] == 3:
        layout, hw = "NCHW", (shape[2], shape[3])
    elif len(shape) == 4 and shape[3] == 3:
        layout, hw = "NHWC", (shape[1], shape[2])
    else:
        raise StationError(
            f"{path}: input {inp.name!r} has shape {shape}, expected (1, 3, H, W) or (1, H, W, 3)"
        )
    notes: list[str] = []
    if isinstance(hw[0], int) and isinstance(hw[1], int):
        size = (hw[0], hw[1])
        if meta.imgsz is not None and meta.imgsz != size:
            notes.append(
                f"metadata imgsz {list(meta.imgsz)} ignored: the input is fixed at {list(size)}"
            )
    elif meta.imgsz is not None:
        size = meta.imgsz
        notes.append(
            f"dynamic input size: frames letterboxed into metadata imgsz {list(size)}, padded "
            f"only to a multiple of the stride ({meta.stride or 32}), as Ultralytics predict does"
        )
    else:
        raise StationError(
            f"{path}: input {inp.name!r} has a dynamic size {shape} and no 'imgsz' metadata; "
            "export it with a fixed input size"
        )
    return inp.name, shape, layout, size, dtype, notes


def _declared(declared: list[object], ran: tuple[int, ...]) -> tuple[int | str, ...]:
    """The output shape as the graph declares it: a dimension it leaves free (a dynamic
    model's anchors) keeps its name, not the count one square test input gave."""
    if len(declared) != len(ran):
        return ran
    return tuple(d if isinstance(d, str) and d else r for d, r in zip(declared, ran, strict=True))


def _class_names(
    path: Path, labels: Path | None, meta: ModelMetadata, n_classes: int | None
) -> tuple[tuple[str, ...], str]:
    if labels is not None:
        return read_labels(labels), f"labels file {labels}"
    if meta.names is not None:
        return meta.names, "metadata 'names'"
    sidecar = sidecar_labels_path(path)
    if sidecar.is_file():
        return read_labels(sidecar), f"labels file {sidecar}"
    if n_classes is None:
        raise StationError(
            f"{path}: the model records no class names and its output does not tell how many; "
            f"give a labels file (one class name per line) or put one at {sidecar}"
        )
    return tuple(f"class{i}" for i in range(n_classes)), "none found: generic names"


def load_onnx_detector(
    path: Path,
    labels: Path | None = None,
    family: str | None = None,
    session_options: SessionOptions | None = None,
) -> OnnxDetector:
    """Validate `path` as an ONNX detector and build it (see `load_detector`)."""
    if not path.exists():
        raise StationError(f"{path}: model file not found")
    if not path.is_file():
        raise StationError(f"{path}: is not a file, expected an ONNX model")
    sha = sha256_file(path)
    chosen = session_options or SessionOptions.choose()
    session = _session(path, chosen)
    meta = parse_metadata(session.get_modelmeta().custom_metadata_map, str(path))
    input_name, input_shape, layout, size, dtype, notes = _input_geometry(session, meta, path)
    blank = np.zeros((1, 3, *size) if layout == "NCHW" else (1, *size, 3), dtype=dtype)
    outputs = session.get_outputs()
    try:  # a real run: dynamic output dims become concrete, and the session is warm
        ran = session.run([o.name for o in outputs], {input_name: blank})
    except Exception as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise StationError(
            f"{path}: the model fails on an input of {list(blank.shape)}: {detail}"
        ) from None
    shapes = tuple(tuple(int(d) for d in np.shape(o)) for o in ran)
    choice = REGISTRY.choose(meta, shapes, family, str(path))
    fam = choice.family
    used = 2 if fam.has_masks else 1
    output_shape = shapes[0]
    n_classes = fam.n_classes(shapes)
    names, names_from = _class_names(path, labels, meta, n_classes)
    if n_classes is not None and len(names) != n_classes:
        raise StationError(
            f"{path}: {len(names)} class names ({names_from}) but the output {output_shape} "
            f"read as {fam.name} {fam.layout} has {n_classes} classes"
        )
    floor, floor_note = fam.confidence_floor(meta)
    notes = [
        f"family {fam.name} chosen by {choice.by}",
        f"evidence: {choice.evidence}",
        f"class names from {names_from}",
        *notes,
    ]
    if floor_note:
        notes.append(floor_note)
    if fam.has_masks:
        notes.append(f"mask prototypes {shapes[1]} from output {outputs[1].name!r}")
    if len(outputs) > used:
        read = ", ".join(repr(o.name) for o in outputs[:used])
        notes.append(f"the model has {len(outputs)} outputs; only {read} read")
    info = ModelInfo(
        path=str(path),
        sha256=sha,
        family=fam.name,
        class_names=names,
        input_name=input_name,
        input_shape=input_shape,
        input_layout=layout,
        output_shape=_declared(outputs[0].shape, output_shape),
        family_evidence=choice.evidence,
        scores_rank=True,
        confidence_floor=floor,
        execution_provider=session.get_providers()[0],
        session_options=chosen.as_pairs(),
        notes=tuple(notes),
    )
    dynamic = not (isinstance(input_shape[-2], int) and isinstance(input_shape[-1], int))
    if layout == "NHWC":
        dynamic = not (isinstance(input_shape[1], int) and isinstance(input_shape[2], int))
    return OnnxDetector(
        session,
        info,
        fam,
        size,
        dtype,
        shapes[:used],
        nhwc=layout == "NHWC",
        dynamic_stride=(meta.stride or 32) if dynamic else None,
    )
