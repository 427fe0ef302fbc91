"""`station model-info MODEL`: what the station sees in a model (family, classes, SHA-256)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from station.core.ports import ModelInfo


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "model-info",
        help="show a model's output family, input, classes, SHA-256 and confidence facts",
        description=(
            "Load a model as the station would and print its output family, input name/shape/"
            "layout, class names, output shape, SHA-256, whether its confidences can rank "
            "detections, and any confidence floor baked in at export."
        ),
    )
    p.add_argument("model", help="ONNX file, or a heuristic such as heuristic:dark-blobs")
    p.add_argument(
        "--labels", type=Path, help="class names, one per line (for models without metadata)"
    )
    p.add_argument(
        "--family",
        help="force an output family: yolov8, yolov8-multilabel, yolov5, end2end, segment, "
        "segment-end2end, rtdetr, classifier",
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help="show the onnxruntime session options of `station run --headless` "
        "(default: the window's)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_main)


def info_dict(info: ModelInfo) -> dict[str, object]:
    """ModelInfo as JSON-ready values; field names as in `station.core.ports.ModelInfo`."""
    return {
        "path": info.path,
        "sha256": info.sha256,
        "family": info.family,
        "family_evidence": info.family_evidence,
        "class_names": list(info.class_names),
        "input_name": info.input_name,
        "input_shape": list(info.input_shape),
        "input_layout": info.input_layout,
        "output_shape": list(info.output_shape),
        "scores_rank": info.scores_rank,
        "confidence_floor": info.confidence_floor,
        "execution_provider": info.execution_provider,
        "session_options": {k: _typed(v) for k, v in info.session_options},
        "notes": list(info.notes),
    }


def _typed(text: str) -> object:
    """A session option's value as JSON would have it (int, bool or text)."""
    if text in ("True", "False"):
        return text == "True"
    return int(text) if text.isdigit() else text


def _session_text(info: ModelInfo) -> str:
    o = dict(info.session_options)
    if not o:
        return "-"
    spin = "on" if o.get("allow_spinning") == "True" else "off"
    lanes = int(o.get("lanes", "1"))
    per = " per lane" if lanes > 1 else ""
    return (
        f"{o.get('intra_op_threads')} intra-op threads{per} ({o.get('threads_from')}), "
        f"{o.get('inter_op_threads')} inter-op, spinning {spin} ({o.get('mode')}), "
        f"{lanes} part{'s' if lanes > 1 else ''} inferred at once"
    )


def _floor_text(info: ModelInfo) -> str:
    if info.confidence_floor is not None:
        return f"{info.confidence_floor:g} (baked in at export: lower thresholds have no effect)"
    if any("floor unknown" in n for n in info.notes):
        return "unknown (an end-to-end export cuts low scores but does not record where)"
    return "none (raw scores; the station applies its own thresholds)"


def format_info(info: ModelInfo) -> str:
    classes = ", ".join(f"{i} {n}" for i, n in enumerate(info.class_names))
    shape = ", ".join(map(str, info.input_shape))
    rows = [
        ("model", info.path),
        ("sha256", info.sha256),
        (
            "family",
            f"{info.family} ({info.family_evidence})" if info.family_evidence else info.family,
        ),
        (
            "input",
            f"{info.input_name} ({shape}) {info.input_layout}"
            if info.input_name
            else "the frame as given (no model input)",
        ),
        ("output", f"({', '.join(map(str, info.output_shape))})" if info.output_shape else "-"),
        ("classes", f"{len(info.class_names)}: {classes}"),
        (
            "scores rank",
            "yes (confidence orders detections within one class)"
            if info.scores_rank
            else "no (constant score: a threshold cannot be tuned on it)",
        ),
        ("confidence floor", _floor_text(info)),
        ("provider", info.execution_provider),
        ("session", _session_text(info)),
        *(("note", n) for n in info.notes),
    ]
    return "\n".join(f"{k + ':':<18}{v}" for k, v in rows)


def _main(args: argparse.Namespace) -> int:
    from station.detectors import load_detector  # onnxruntime loads only when needed
    from station.detectors.session_options import RunMode, SessionOptions

    mode = RunMode.HEADLESS if args.headless else RunMode.WINDOW
    options = SessionOptions.choose(mode, lanes=None)  # as the live line runs it
    info = load_detector(args.model, args.labels, args.family, options).info
    print(json.dumps(info_dict(info), indent=2) if args.json else format_info(info))
    return 0
