"""Run by bench_peer.py inside the Ultralytics environment (not the station's): Ultralytics
`predict` frames/s on an ONNX file and frames saved as .npy. Imports nothing of the station.

    python bench/peer_ultralytics.py MODEL.onnx FRAMES.npy IMGSZ N   -> prints "FPS <value>"
    python bench/peer_ultralytics.py --export-yolov8n OUT.onnx IMGSZ -> a YOLOv8n-class ONNX
"""

import os
import sys
import time

os.environ.setdefault("YOLO_OFFLINE", "1")


def main() -> None:
    import numpy as np
    from ultralytics import YOLO

    if sys.argv[1] == "--export-yolov8n":  # the architecture, untrained: same cost, no download
        out, imgsz = sys.argv[2], int(sys.argv[3])
        os.chdir(os.path.dirname(os.path.abspath(out)))
        path = YOLO("yolov8n.yaml").export(format="onnx", imgsz=imgsz, simplify=False)
        os.replace(path, out)
        return
    model_path, frames_path, imgsz, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    frames = np.load(frames_path)
    model = YOLO(model_path, task="detect")
    for f in frames[:10]:  # warm-up (the first call builds the session)
        model.predict(f, imgsz=imgsz, verbose=False)
    t0 = time.perf_counter()
    for i in range(n):
        model.predict(frames[i % len(frames)], imgsz=imgsz, verbose=False)
    print(f"FPS {n / (time.perf_counter() - t0):.3f}")


if __name__ == "__main__":
    main()
