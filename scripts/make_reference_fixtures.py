"""Build small reference models and Ultralytics' own predictions on them, as test fixtures.

Run with the SEPARATE reference environment (torch + Ultralytics), never the station's:

    YOLO_OFFLINE=1 /work/venv-ultra/bin/python scripts/make_reference_fixtures.py

(docs/models.md says how to build /work/venv-ultra). It writes tests/fixtures/reference/:
ONNX files exported as users get them (raw, `nms=True`, end-to-end, dynamic, -seg with and
without NMS, RT-DETR, OBB), a few synthetic-line frames, and one JSON per model holding
what `predict(frame, imgsz=..., conf=T, iou=0.7)` returned: boxes in frame pixels,
scores, classes and, for masks, the frame-resolution mask (retina masks, zlib + base64 of
np.packbits). CI has no torch: tests/test_detectors_reference.py compares the station's
`detect` with these files.

The models are random-initialised tiny versions of the official configs (a width of 1/16 and
4 DFL bins, so each file is tens to hundreds of KB), with the class heads' biases and weights spread
so that scores cover [0, 1] and NMS has real work. Their detections mean nothing; what is
compared is decoding, preprocessing and suppression.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import sys
import tempfile
import zlib
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")

import cv2
import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # station.synthetic (the frames), station.detectors.metadata

from station.synthetic.line import PartGenerator  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "reference"
NAMES = ["scratch", "pit", "stain"]
FRAME_SIZES = [(160, 120), (120, 176), (203, 131)]  # (width, height): landscape, portrait, odd
IOU = 0.7

# name, config, task, export kwargs, predictor. YOLO26 exports end-to-end only with nms=False
# (8.4 exports its one-to-many head, the YOLOv8 layout, by default). The threshold T is chosen
# per model so that about PER_FRAME detections per frame clear it (and the 0.25 baked into
# nms=True exports).
PER_FRAME = 10
MODELS: list[tuple[str, str, str, dict[str, object], str]] = [
    ("yolov8-det", "v8/yolov8.yaml", "detect", {"imgsz": 128}, "yolo"),
    ("yolov8-det-nms", "v8/yolov8.yaml", "detect", {"imgsz": 128, "nms": True}, "yolo"),
    ("yolo11-det-dynamic", "11/yolo11.yaml", "detect", {"imgsz": 96, "dynamic": True}, "yolo"),
    ("yolo26-det", "26/yolo26.yaml", "detect", {"imgsz": 128, "nms": False}, "yolo"),
    ("yolov8-seg", "v8/yolov8-seg.yaml", "segment", {"imgsz": 128}, "yolo"),
    ("yolo11-seg-nms", "11/yolo11-seg.yaml", "segment", {"imgsz": 128, "nms": True}, "yolo"),
    ("yolo26-seg", "26/yolo26-seg.yaml", "segment", {"imgsz": 128, "nms": False}, "yolo"),
    ("yolo26-seg-raw", "26/yolo26-seg.yaml", "segment", {"imgsz": 128}, "yolo"),
    ("rtdetr", "v8/yolov8-rtdetr.yaml", "detect", {"imgsz": 128}, "rtdetr"),
    ("yolov8-obb", "v8/yolov8-obb.yaml", "obb", {"imgsz": 128}, "none"),
]


def tiny_config(config: str, workdir: Path) -> Path:
    """The official config at depth 1/3, width 1/16, with our class count: a small file."""
    import ultralytics

    src = Path(ultralytics.__file__).parent / "cfg" / "models" / config
    cfg = yaml.safe_load(src.read_text())
    cfg["nc"] = len(NAMES)
    cfg["scales"] = {"n": [0.33, 0.0625, 128]}
    cfg["reg_max"] = min(int(cfg.get("reg_max", 16)), 4)  # DFL kept, its head 4x smaller
    if "rtdetr" in config:  # a small transformer decoder: hidden 32, 2 layers, 30 queries
        head = cfg["head"][-1]
        head[3] = ["nc", 32, 30, 4, 2, 2]
    path = workdir / f"tiny-{Path(config).stem}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def calibrate_batchnorm(model: torch.nn.Module, x: torch.Tensor) -> None:
    """Set every BatchNorm's running statistics from real frames (a data-dependent init).

    Random weights with identity BatchNorm shrink activations layer by layer until every
    anchor sees the same features; normalising each layer on real frames keeps them alive.
    """
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration passes
    hooks = [bn.register_forward_pre_hook(lambda m, _i: m.train() and None) for bn in bns]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    for bn in bns:
        bn.eval()


def as_batch(frames: list[np.ndarray], imgsz: int, stretch: bool) -> torch.Tensor:
    """The frames as predict feeds them (letterboxed, or stretched for RT-DETR), RGB NCHW."""
    from ultralytics.data.augment import LetterBox

    box = LetterBox(imgsz, scale_fill=stretch)
    x = np.stack([box(image=f)[:, :, ::-1] for f in frames])
    return torch.from_numpy(x.copy()).permute(0, 3, 1, 2).float() / 255


def class_heads(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The last layer of every class-score branch (its output has one channel per class)."""
    heads = []
    for name, module in model.named_modules():
        if (
            ("cv3" in name or "score_head" in name)
            and isinstance(module, torch.nn.Conv2d | torch.nn.Linear)
            and module.bias is not None
            and module.bias.shape[0] == len(NAMES)
        ):
            heads.append(module)
    return heads


def spread_scores(model: torch.nn.Module, x: torch.Tensor, seed: int) -> None:
    """Rescale the class heads so logits vary with the image (std 1.5) around per-class means.

    A random-initialised head gives nearly the same score everywhere: ties, not a test.
    """
    gen = torch.Generator().manual_seed(seed)
    for head in class_heads(model):
        seen: list[torch.Tensor] = []
        hook = head.register_forward_hook(lambda _m, _i, out, seen=seen: seen.append(out.detach()))
        with torch.no_grad():
            model(x)
        hook.remove()
        if not seen:
            continue
        out = seen[-1]
        dims = [
            d
            for d in range(out.ndim)
            if d != (1 if isinstance(head, torch.nn.Conv2d) else out.ndim - 1)
        ]
        std = out.std(dim=dims).clamp(min=1e-6)
        mean = out.mean(dim=dims)
        k = 1.5 / std
        target = torch.empty(len(NAMES)).uniform_(-3.0, -1.0, generator=gen)
        with torch.no_grad():
            shape = (-1, *([1] * (head.weight.ndim - 1)))
            head.weight.mul_(k.view(shape))
            head.bias.copy_(target - k * (mean - head.bias))


def build(
    name: str,
    config: str,
    predictor: str,
    imgsz: int,
    frames: list[np.ndarray],
    workdir: Path,
    seed: int,
) -> object:
    from ultralytics import RTDETR, YOLO

    torch.manual_seed(seed)
    cfg = tiny_config(config, workdir)
    model = RTDETR(str(cfg)) if predictor == "rtdetr" else YOLO(str(cfg))
    model.model.names = dict(enumerate(NAMES))
    model.model.eval()
    x = as_batch(frames, imgsz, stretch=predictor == "rtdetr")
    calibrate_batchnorm(model.model, x)
    spread_scores(model.model, x, seed)
    return model


def export(model: object, name: str, kwargs: dict[str, object], workdir: Path) -> Path:
    pt = workdir / f"{name}.pt"
    model.save(str(pt))  # type: ignore[attr-defined]
    from ultralytics import RTDETR, YOLO

    reloaded = RTDETR(str(pt)) if "rtdetr" in name else YOLO(str(pt))
    onnx_path = Path(reloaded.export(format="onnx", opset=17, simplify=True, **kwargs))
    dest = OUT / f"{name}.onnx"
    shutil.copyfile(onnx_path, dest)
    return dest


def mask_blob(mask: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.packbits(mask.astype(bool)).tobytes(), 9)).decode()


def reference(
    onnx: Path, predictor: str, frames: list[Path], imgsz: int, conf: float
) -> list[dict[str, object]]:
    from ultralytics import RTDETR, YOLO

    model = RTDETR(str(onnx)) if predictor == "rtdetr" else YOLO(str(onnx))
    out = []
    for frame_path in frames:
        frame = cv2.imread(str(frame_path))
        (r,) = model.predict(
            frame, imgsz=imgsz, conf=conf, iou=IOU, retina_masks=True, verbose=False
        )
        dets = []
        for i in range(len(r.boxes)):
            d: dict[str, object] = {
                "xyxy": [float(v) for v in r.boxes.xyxy[i].tolist()],
                "confidence": float(r.boxes.conf[i]),
                "class_id": int(r.boxes.cls[i]),
            }
            if r.masks is not None:
                m = r.masks.data[i].cpu().numpy() > 0.5
                d["mask_area_px"] = int(m.sum())
                d["mask"] = mask_blob(m)
            dets.append(d)
        out.append({"image": frame_path.name, "hw": list(frame.shape[:2]), "detections": dets})
    return out


def pick_conf(frames: list[dict[str, object]], n_frames: int) -> float:
    """A threshold that about PER_FRAME detections per frame clear, in [0.3, 0.9], 3 decimals."""
    scores = sorted(
        (float(d["confidence"]) for f in frames for d in f["detections"]),  # type: ignore[attr-defined]
        reverse=True,
    )
    rank = min(len(scores) - 1, PER_FRAME * n_frames)
    return round(min(0.9, max(0.3, scores[rank] if scores else 0.3)), 3)


def write_frames() -> list[Path]:
    gen = PartGenerator(seed=7)
    paths = []
    for i, (w, h) in enumerate(FRAME_SIZES):
        img = cv2.resize(gen.part(i).image, (w, h), interpolation=cv2.INTER_AREA)
        path = OUT / f"frame{i}.png"
        cv2.imwrite(str(path), img)
        paths.append(path)
    return paths


SHIPPED_FRAMES = 40
SHIPPED_SEED = 1001  # the held-out sample `station sample` writes by default
SHIPPED_CONF = 0.10


def frame_sha256(frame: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(frame).tobytes()).hexdigest()


def shipped_reference() -> None:
    """predict on the shipped model and synthetic line frames (regenerated by the test), at
    the model's own `imgsz` (the file is dynamic: predict would take any size it is given)."""
    import onnx

    from station.detectors.metadata import parse_metadata  # the station's own reading

    model_path = ROOT / "models" / "defects.onnx"
    props = {p.key: p.value for p in onnx.load(str(model_path)).metadata_props}
    meta_imgsz = parse_metadata(props, str(model_path)).imgsz
    assert meta_imgsz is not None, f"{model_path}: no imgsz in its metadata"
    imgsz = meta_imgsz[0]
    gen = PartGenerator(seed=SHIPPED_SEED)
    frames = [gen.part(i).image for i in range(SHIPPED_FRAMES)]
    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, f in enumerate(frames):
            paths.append(Path(tmp) / f"part{i:04d}.png")
            cv2.imwrite(str(paths[-1]), f)
        out = reference(model_path, "yolo", paths, imgsz, SHIPPED_CONF)
    for record, frame in zip(out, frames, strict=True):
        record["sha256"] = frame_sha256(frame)
    import hashlib

    doc = {
        "model": "models/defects.onnx",
        "model_sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "frames_from": {
            "generator": "PartGenerator",
            "seed": SHIPPED_SEED,
            "parts": SHIPPED_FRAMES,
        },
        "imgsz": imgsz,
        "conf": SHIPPED_CONF,
        "iou": IOU,
        "frames": out,
    }
    (OUT / "shipped-defects.json").write_text(json.dumps(doc, indent=1) + "\n")
    n = sum(len(f["detections"]) for f in out)
    print(f"shipped defects.onnx: {n} reference detections on {SHIPPED_FRAMES} frames")


def main() -> int:
    import ultralytics

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="model names to rebuild (default: all)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.only or "shipped" in args.only:
        shipped_reference()
    frames = write_frames()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        os.chdir(workdir)  # exports write beside their .pt; keep the repo clean
        for seed, (name, config, task, kwargs, predictor) in enumerate(MODELS):
            if args.only and name not in args.only:
                continue
            imgsz = int(kwargs["imgsz"])  # type: ignore[call-overload]
            images = [cv2.imread(str(f)) for f in frames]
            model = build(name, config, predictor, imgsz, images, workdir, seed)
            onnx = export(model, name, kwargs, workdir)
            record: dict[str, object] = {
                "model": onnx.name,
                "config": config,
                "task": task,
                "export": kwargs,
                "predictor": predictor,
                "imgsz": kwargs["imgsz"],
                "iou": IOU,
                "ultralytics": ultralytics.__version__,
                "torch": torch.__version__,
            }
            if predictor != "none":
                conf = pick_conf(reference(onnx, predictor, frames, imgsz, 0.01), len(frames))
                record["conf"] = conf
                record["frames"] = reference(onnx, predictor, frames, imgsz, conf)
            (OUT / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
            n = sum(len(f["detections"]) for f in record.get("frames", []))  # type: ignore[union-attr]
            print(f"{name}: {onnx.stat().st_size // 1024} KB, {n} reference detections")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
