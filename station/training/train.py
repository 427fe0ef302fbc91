"""Train the shipped defect model on the synthetic line and export it to ONNX.

    python -m station.training.train --seed 0 --out models/defects.onnx

CPU only, 2 threads (the machine is shared). Training parts come from the line with seed
`50_000 + seed`, far from the held-out sample's seed (1001), letterboxed once into an
in-memory cache and flipped at random per step. Half of each batch (`--focus-share`) comes
from parts holding a `--focus` class (default scratch, crack, missing_hole: the classes the
previous model confused), cropped on that defect. The exported weights are an average over
the last steps (`--ema`). The graph takes (1, 3, H, W) RGB in [0, 1] ("images", any sides
that are multiples of 32: exported dynamic, so a 640 x 480 frame is not padded square;
`--imgsz` is the size frames are fitted into) and returns YOLOv8's raw layout
(1, 4 + nc, H/8 * W/8) ("output0"), class scores kept only at heatmap peaks (the rule of
`station.training.peaks`: one box per defect).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import onnx
import torch
from torch.nn import functional

from station.synthetic.line import CLASS_NAMES, PartGenerator
from station.training.letterbox import letterbox
from station.training.model import STRIDE, Exported, TinyDetector, cell_centres
from station.training.peaks import PEAKS_NOTE

TRAIN_SEED_OFFSET = 50_000
INPUT_MULTIPLE = 32  # the backbone's deepest stride: an input side must be a multiple of it


def build_cache(seed: int, n_parts: int, imgsz: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Letterboxed RGB images (n, h, w, 3) uint8 and per-image (k, 5) targets.

    Letterboxed as the station feeds the exported (dynamic) model: fitted into `imgsz`,
    padded only to a multiple of 32, so a 640 x 480 line frame stays 640 x 480 and the
    model never learns grey bands it will not see. A target row is (class, x1, y1, x2,
    y2) in input pixels.
    """
    gen = PartGenerator(TRAIN_SEED_OFFSET + seed)
    images: np.ndarray | None = None
    targets: list[np.ndarray] = []
    for i in range(n_parts):
        part = gen.part(i)
        lb, r, (px, py) = letterbox(part.image, imgsz, INPUT_MULTIPLE)
        if images is None:
            images = np.empty((n_parts, *lb.shape), np.uint8)
        images[i] = lb[:, :, ::-1]
        boxes = part.boxes_xyxy * r + np.array([px, py, px, py], np.float32)
        targets.append(np.concatenate([part.class_ids[:, None].astype(np.float32), boxes], 1))
    assert images is not None, "no parts"
    return images, targets


def build_targets(
    targets: list[np.ndarray], nc: int, grid: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heatmaps (n, nc, g, g), box targets (n, 4, g, g) xyxy, box weights (n, g, g)."""
    n = len(targets)
    heat = np.zeros((n, nc, grid, grid), np.float32)
    tbox = np.zeros((n, 4, grid, grid), np.float32)
    wbox = np.zeros((n, grid, grid), np.float32)
    centres = (np.arange(grid, dtype=np.float32) + 0.5) * STRIDE
    for b, t in enumerate(targets):
        # Large boxes first so a small defect's cells win where they overlap.
        order = np.argsort(-(t[:, 3] - t[:, 1]) * (t[:, 4] - t[:, 2])) if len(t) else []
        for k in order:
            c, x1, y1, x2, y2 = t[k]
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            sx = max(0.45 * STRIDE, (x2 - x1) / 6)
            sy = max(0.45 * STRIDE, (y2 - y1) / 6)
            gx = np.exp(-((centres - cx) ** 2) / (2 * sx * sx))
            gy = np.exp(-((centres - cy) ** 2) / (2 * sy * sy))
            g = gy[:, None] * gx[None, :]
            ix = min(max(int(cx // STRIDE), 0), grid - 1)
            iy = min(max(int(cy // STRIDE), 0), grid - 1)
            g[iy, ix] = 1.0
            heat[b, int(c)] = np.maximum(heat[b, int(c)], g)
            # Regression on every cell of the box's central blob, not just the centre: any
            # cell that fires then predicts the whole box, so NMS folds them into one.
            inside_x = (centres >= x1 - 2) & (centres <= x2 + 2)
            inside_y = (centres >= y1 - 2) & (centres <= y2 + 2)
            reg = (g >= 0.3) & inside_y[:, None] & inside_x[None, :]
            reg[iy, ix] = True
            tbox[b, :, reg] = np.array([x1, y1, x2, y2], np.float32)
            wbox[b, reg] = g[reg]
    return heat, tbox, wbox


def focal_loss(logits: torch.Tensor, heat: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss, normalised by the number of centres."""
    logp = functional.logsigmoid(logits)
    log1mp = functional.logsigmoid(-logits)
    p = logp.exp()
    pos = heat.eq(1.0).float()
    pos_loss = -(logp * (1 - p) ** 2 * pos).sum()
    neg_loss = -(log1mp * p**2 * (1 - heat) ** 4 * (1 - pos)).sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1.0)


def giou_loss(dist: torch.Tensor, tbox: torch.Tensor, wbox: torch.Tensor) -> torch.Tensor:
    gx, gy = cell_centres(dist.shape[2], dist.shape[3])
    px1, py1 = gx - dist[:, 0], gy - dist[:, 1]
    px2, py2 = gx + dist[:, 2], gy + dist[:, 3]
    tx1, ty1, tx2, ty2 = tbox.unbind(1)
    iw = (torch.minimum(px2, tx2) - torch.maximum(px1, tx1)).clamp(min=0)
    ih = (torch.minimum(py2, ty2) - torch.maximum(py1, ty1)).clamp(min=0)
    inter = iw * ih
    union = (px2 - px1) * (py2 - py1) + (tx2 - tx1) * (ty2 - ty1) - inter + 1e-6
    ew = torch.maximum(px2, tx2) - torch.minimum(px1, tx1)
    eh = torch.maximum(py2, ty2) - torch.minimum(py1, ty1)
    enclose = ew * eh + 1e-6
    giou = inter / union - (enclose - union) / enclose
    return ((1 - giou) * wbox).sum() / wbox.sum().clamp(min=1.0)


def focus_parts(targets: list[np.ndarray], focus: frozenset[int]) -> np.ndarray:
    """Indices of the parts holding a defect of a focus class."""
    return np.array([i for i, t in enumerate(targets) if focus & set(t[:, 0].astype(int))], int)


def draw_batch(
    rng: np.random.Generator, n_parts: int, focused: np.ndarray, batch: int, share: float
) -> np.ndarray:
    """`share` of the batch from the focus parts (the classes the model confuses), the rest
    from all parts: hard classes get more steps without starving the others."""
    k = min(round(batch * share), len(focused))
    hard = rng.choice(focused, size=k, replace=False) if k else np.empty(0, int)
    rest = rng.choice(np.setdiff1d(np.arange(n_parts), hard), size=batch - k, replace=False)
    return np.concatenate([hard, rest])


def _crop_start(rng: np.random.Generator, lo: float, hi: float, crop: int, span: int) -> int:
    """A crop start on one axis that keeps [lo, hi] inside the crop when it fits."""
    first, last = max(0, int(np.ceil(hi)) - crop), min(int(lo), span)
    return int(rng.integers(first, last + 1)) if last >= first else int(np.clip(lo, 0, span))


def augment(
    images: np.ndarray,
    targets: list[np.ndarray],
    rng: np.random.Generator,
    crop: int,
    focus: frozenset[int] = frozenset(),
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Random crops (holding a defect when the part has one, a focus class's first) and
    horizontal/vertical flips.

    The detector is fully convolutional, so training on crops of the letterboxed input
    costs a fraction of the compute and still sees defects at their deployed scale.
    """
    n = len(images)
    out_imgs = np.empty((n, crop, crop, 3), np.uint8)
    out_t: list[np.ndarray] = []
    span_y, span_x = images.shape[1] - crop, images.shape[2] - crop
    for i, t in enumerate(targets):
        if len(t):
            hard = np.flatnonzero(np.isin(t[:, 0].astype(int), list(focus)))
            k = int(rng.choice(hard)) if len(hard) else int(rng.integers(len(t)))
            _, x1, y1, x2, y2 = t[k]
            x0 = _crop_start(rng, x1, x2, crop, span_x)
            y0 = _crop_start(rng, y1, y2, crop, span_y)
        else:
            x0, y0 = int(rng.integers(0, span_x + 1)), int(rng.integers(0, span_y + 1))
        img = images[i, y0 : y0 + crop, x0 : x0 + crop]
        t = t.copy()
        t[:, [1, 3]] -= x0
        t[:, [2, 4]] -= y0
        cx, cy = (t[:, 1] + t[:, 3]) / 2, (t[:, 2] + t[:, 4]) / 2
        t = t[(cx >= 0) & (cx < crop) & (cy >= 0) & (cy < crop)]
        t[:, 1:] = np.clip(t[:, 1:], 0, crop)
        if rng.random() < 0.5:
            img = img[:, ::-1]
            t[:, [1, 3]] = crop - t[:, [3, 1]]
        if rng.random() < 0.5:
            img = img[::-1]
            t[:, [2, 4]] = crop - t[:, [4, 2]]
        out_imgs[i] = img
        out_t.append(t)
    return out_imgs, out_t


class WeightAverage:
    """An exponential moving average of the weights (and BatchNorm statistics), exported
    instead of the last step's: it smooths the noise of small batches late in the schedule,
    as YOLO's trainers do. The decay ramps up so early weights do not linger."""

    def __init__(self, net: TinyDetector, decay: float, ramp: int = 1000) -> None:
        self.state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        self.decay, self.ramp, self.updates = decay, ramp, 0

    @torch.no_grad()
    def update(self, net: TinyDetector) -> None:
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.ramp))
        for k, v in net.state_dict().items():
            if v.dtype.is_floating_point:
                self.state[k].mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                self.state[k].copy_(v)


def train(args: argparse.Namespace) -> TinyDetector:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    nc = len(CLASS_NAMES)
    grid = args.crop // STRIDE
    t0 = time.perf_counter()
    images, targets = build_cache(args.seed, args.parts, args.imgsz)
    print(f"cache: {args.parts} parts in {time.perf_counter() - t0:.0f} s", flush=True)

    focus = frozenset(CLASS_NAMES.index(c) for c in args.focus.split(",") if c)
    focused = focus_parts(targets, focus)
    print(f"focus {sorted(focus)}: {len(focused)} parts, share {args.focus_share}", flush=True)
    net = TinyDetector(nc)
    if args.init:  # continue from an earlier run's weights (`--checkpoint`)
        net.load_state_dict(torch.load(args.init))
    net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=5e-4)
    warmup = min(50, args.steps // 10)
    budget_s = args.max_minutes * 60

    def lr_at(step: int, elapsed_s: float) -> float:
        """Warm-up, then cosine decay over whichever budget (steps or time) runs out first."""
        if step < warmup:
            return float(args.lr * (step + 1) / warmup)
        frac = (step - warmup) / max(1, args.steps - warmup)
        if budget_s > 0:
            frac = max(frac, elapsed_s / budget_s)
        return float(args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))))

    average = WeightAverage(net, args.ema) if args.ema > 0 else None
    net.train()
    t_train = time.perf_counter()
    done = 0
    for step in range(args.steps):
        elapsed = time.perf_counter() - t_train
        if budget_s > 0 and elapsed > budget_s:
            print(f"stopping at step {step}: --max-minutes {args.max_minutes} reached", flush=True)
            break
        lr = lr_at(step, elapsed)
        idx = draw_batch(rng, args.parts, focused, args.batch, args.focus_share)
        imgs, tg = augment(images[idx], [targets[i] for i in idx], rng, args.crop, focus)
        heat, tbox, wbox = build_targets(tg, nc, grid)
        x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div_(255.0)
        # Mild photometric jitter: exposure and gain vary on a real line.
        gain = torch.from_numpy(rng.uniform(0.85, 1.15, (args.batch, 1, 1, 1)).astype(np.float32))
        bias = torch.from_numpy(rng.uniform(-0.05, 0.05, (args.batch, 1, 1, 1)).astype(np.float32))
        x = (x * gain + bias).clamp_(0, 1).contiguous(memory_format=torch.channels_last)
        for g in opt.param_groups:
            g["lr"] = lr
        logits, dist = net(x)
        l_cls = focal_loss(logits, torch.from_numpy(heat))
        l_box = giou_loss(dist, torch.from_numpy(tbox), torch.from_numpy(wbox))
        loss = l_cls + 2.0 * l_box
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        if average is not None:
            average.update(net)
        done += 1
        if step % 25 == 0 or step == args.steps - 1:
            print(
                f"step {step:5d}/{args.steps} cls {l_cls.item():.3f} box {l_box.item():.3f} "
                f"lr {lr:.5f} {elapsed / 60:.1f} min",
                flush=True,
            )
    minutes = (time.perf_counter() - t0) / 60
    print(f"trained {done} steps in {minutes:.1f} min (cache included)", flush=True)
    if average is not None:
        net.load_state_dict(average.state)
    return net


def export(net: TinyDetector, out: Path, command: str, imgsz: int) -> None:
    """ONNX with a dynamic input height and width (as Ultralytics' `dynamic=True`): the station
    letterboxes a 640 x 480 frame to 640 x 480, not 640 x 640; `imgsz` is the size it fits."""
    net.eval()
    model = Exported(net.to(memory_format=torch.contiguous_format)).eval()
    dummy = torch.zeros(1, 3, imgsz, imgsz)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.onnx")
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy,),
            str(tmp),
            input_names=["images"],
            output_names=["output0"],
            opset_version=17,
            do_constant_folding=True,
            dynamic_axes={  # as Ultralytics' dynamic=True, which its predict then detects
                "images": {0: "batch", 2: "height", 3: "width"},
                "output0": {0: "batch", 2: "anchors"},
            },
            dynamo=False,
        )
    proto = onnx.load(str(tmp))
    tmp.unlink()
    names = "{" + ", ".join(f"{i}: '{n}'" for i, n in enumerate(CLASS_NAMES)) + "}"
    meta = {
        "description": "Inspection station synthetic-line defect detector (anchor-free, "
        f"anchors at stride {STRIDE}); {PEAKS_NOTE}",
        "author": "inspection-station",
        "license": "Apache-2.0",
        "version": "1",
        "task": "detect",
        "stride": str(INPUT_MULTIPLE),
        "batch": "1",
        "args": "{'batch': 1, 'dynamic': True, 'half': False, 'int8': False, 'nms': False}",
        "imgsz": f"[{imgsz}, {imgsz}]",
        "names": names,
        "training": command,
    }
    del proto.metadata_props[:]
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    proto.producer_name = "inspection-station"
    # The exporter leaves the row count symbolic once the batch is dynamic: state it.
    proto.graph.output[0].type.tensor_type.shape.dim[1].dim_value = 4 + len(CLASS_NAMES)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(out))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("models/defects.onnx"))
    p.add_argument("--parts", type=int, default=6000, help="training parts in the cache")
    p.add_argument("--steps", type=int, default=14000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument(
        "--imgsz", type=int, default=640, help="square input size (multiple of 32): thin defects"
    )
    p.add_argument("--crop", type=int, default=256, help="training crop (multiple of 32)")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument(
        "--focus",
        default="scratch,crack,missing_hole",
        help="classes drawn more often (comma-separated): the ones the model confuses",
    )
    p.add_argument("--focus-share", type=float, default=0.5, help="batch share of focus parts")
    p.add_argument(
        "--ema", type=float, default=0.9995, help="weight-average decay (0: export the last step)"
    )
    p.add_argument(
        "--checkpoint", type=Path, help="also save the trained weights here (torch state_dict)"
    )
    p.add_argument(
        "--init", type=Path, help="start from these weights (an earlier run's --checkpoint)"
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--max-minutes",
        type=float,
        default=60.0,
        help="time budget: the schedule ends at whichever of --steps or this comes first "
        "(0: steps only, fully reproducible)",
    )
    args = p.parse_args(argv)
    local = ("threads", "out", "checkpoint")  # not part of what the file was trained with
    command = "python -m station.training.train " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k not in local
    )
    net = train(args)
    if args.checkpoint:
        torch.save(net.state_dict(), args.checkpoint)
    export(net, args.out, command, args.imgsz)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
