"""A small anchor-free detector: one prediction per grid cell at stride 8.

A plain conv backbone down to stride 32, a light top-down path back to stride 8, then
two 1x1 heads: per-class heatmap logits (focal loss, CenterNet style) and four
distances (left, top, right, bottom) from the cell centre to the box edges. `Exported`
wraps it with the decode to the YOLOv8 raw layout so the ONNX file looks exactly like an
Ultralytics export: (1, 4 + nc, A), cx cy w h in input pixels, then sigmoid class scores.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

STRIDE = 8


def _cbs(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
        nn.SiLU(inplace=True),
    )


class TinyDetector(nn.Module):
    def __init__(self, nc: int) -> None:
        super().__init__()
        self.nc = nc
        self.s4 = nn.Sequential(_cbs(3, 16, 2), _cbs(16, 32, 2), _cbs(32, 32))
        self.s8 = nn.Sequential(_cbs(32, 64, 2), _cbs(64, 64), _cbs(64, 64))
        self.s16 = nn.Sequential(_cbs(64, 96, 2), _cbs(96, 96), _cbs(96, 96, dilation=2))
        self.s32 = nn.Sequential(_cbs(96, 128, 2), _cbs(128, 128))
        self.lat32 = nn.Conv2d(128, 96, 1)
        self.lat16 = nn.Conv2d(96, 64, 1)
        self.head = nn.Sequential(_cbs(64, 64), _cbs(64, 64))
        self.cls = nn.Conv2d(64, nc, 1)
        self.reg = nn.Conv2d(64, 4, 1)
        nn.init.constant_(self.cls.bias, -4.6)  # prior 0.01: most cells are background
        nn.init.zeros_(self.reg.weight)
        nn.init.constant_(self.reg.bias, 0.5)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Class logits (N, nc, H/8, W/8) and box distances in input pixels (N, 4, H/8, W/8)."""
        f8 = self.s8(self.s4(x))
        f16 = self.s16(f8)
        f32 = self.s32(f16)
        f16 = f16 + functional.interpolate(self.lat32(f32), scale_factor=2.0, mode="nearest")
        f8 = f8 + functional.interpolate(self.lat16(f16), scale_factor=2.0, mode="nearest")
        h = self.head(f8)
        return self.cls(h), functional.softplus(self.reg(h)) * STRIDE


def cell_centres(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Cell-centre coordinates in input pixels, each (h, w)."""
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) * STRIDE
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) * STRIDE
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return gx, gy


class Exported(nn.Module):
    """TinyDetector plus the decode to YOLOv8's raw output (1, 4 + nc, A), any input size.

    The cell centres come from the feature map's own size, so one file takes a 640 x 480
    frame without the 160 rows of padding a square input costs (a quarter of the compute).
    Class scores stay only at CenterNet peaks (`keep_peaks_torch`): one box per defect.
    """

    def __init__(self, net: TinyDetector) -> None:
        super().__init__()
        self.net = net

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits, dist = self.net(images)
        n, nc, h, w = logits.shape
        scores = keep_peaks_torch(torch.sigmoid(logits)).reshape(n, nc, -1)
        gx, gy = cell_centres(h, w)
        gx, gy = gx.reshape(1, -1), gy.reshape(1, -1)
        d = dist.reshape(n, 4, -1)
        x1 = gx - d[:, 0]
        y1 = gy - d[:, 1]
        x2 = gx + d[:, 2]
        y2 = gy + d[:, 3]
        box = torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=1)
        return torch.cat((box, scores), dim=1)


def keep_peaks_torch(heat: torch.Tensor, kernel: int = 3) -> torch.Tensor:
    """Each cell keeps only its best class's score, and that only at a kernel x kernel peak
    of the class: the rule of `station.training.peaks`, for a graph of any input size."""
    single = heat * (heat == heat.amax(1, keepdim=True)).to(heat.dtype)
    pooled = functional.max_pool2d(single, kernel, 1, kernel // 2)
    return single * (single == pooled).to(heat.dtype)
