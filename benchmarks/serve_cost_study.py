"""What the served graph costs, and what cheaper graphs would lose, judged on validation only.

    PYTHONPATH=src .venv/bin/python benchmarks/serve_cost_study.py [--data URI] [--seeds 0,1,2,3,4]
        [--candidates 128:bicubic,112:bicubic,96:bicubic,96:bilinear]

For every candidate (internal resolution x resize mode), with and without flip test-time
averaging:
1. cost: the exported graph (``to_onnx``, random head: the cost does not depend on the
   weights) in ONNX Runtime with the serving session options (``scones.serve.predictor``),
   2 threads, images per second at batch 1 and 16 on 32x32 uint8 pixels;
2. quality: backbone features of every ``train/`` image and its mirror are computed once,
   then for each seed the head is trained exactly as ``scones train`` does
   (``train_classifier`` with that seed's 80/20 split) and scored on that seed's held-out
   part: accuracy, NLL after the fitted temperature, coverage and precision at 0.93, pooled
   over the seeds (5 seeds = 1000 validation predictions). ``test/`` is never read.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

THRESHOLD = 0.93


def ort_throughput(onnx_bytes: bytes, batch: int, *, threads: int = 2, seconds: float = 3.0) -> float:
    import onnxruntime as ort

    from scones.serve.predictor import session_options

    session = ort.InferenceSession(onnx_bytes, session_options(threads), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).integers(0, 256, (batch, 32, 32, 3), dtype=np.uint8)
    for _ in range(3):
        session.run(None, {"pixels": x})
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        session.run(None, {"pixels": x})
        n += batch
    return n / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(os.environ.get("SCONES_HOME", ".scones"), "store", "scones",
                                                       "dataset"), help="staged dataset (only train/ is read)")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--candidates", default="128:bicubic,112:bicubic,96:bicubic,96:bilinear")
    parser.add_argument("--cost-seconds", type=float, default=3.0)
    args = parser.parse_args()

    import torch

    from scones.model_artifact import InputSpec
    from scones.store import open_store
    from scones.train.calibration import softmax
    from scones.train.config import TrainConfig
    from scones.train.data import load_split, read_dataset_info, stratified_split
    from scones.train.export import to_onnx
    from scones.train.metrics import coverage_precision, log_loss
    from scones.train.models import build_classifier
    from scones.train.trainer import cache_features, train_classifier

    store = open_store(args.data)
    info = read_dataset_info(store)
    train = load_split(store, "train", info.classes, expected=info.counts["train"])
    seeds = [int(s) for s in args.seeds.split(",")]
    torch.set_num_threads(os.cpu_count() or 1)
    print(f"{len(train)} train/ images, seeds {seeds}, threshold {THRESHOLD}; test/ not read")
    print(f"{'size':>4s} {'resize':8s} {'tta':3s} | {'img/s b1':>8s} {'img/s b16':>9s} | {'val acc':>7s} "
          f"{'val NLL':>7s} {'cov@.93':>7s} {'prec@.93':>8s} {'T mean':>6s}")
    for cand in args.candidates.split(","):
        size_s, mode = cand.split(":")
        base = TrainConfig(image_size=int(size_s), resize=mode)
        model = build_classifier(base.resolved(), len(info.classes))
        t0 = time.perf_counter()
        feats = cache_features(model, train.images)  # [2, n, d]
        feat_s = time.perf_counter() - t0
        for tta in (True, False):
            config = TrainConfig(image_size=int(size_s), resize=mode, flip_tta=tta)
            graph = to_onnx(build_classifier(config.resolved(), len(info.classes)), InputSpec(height=32, width=32))
            cost = [ort_throughput(graph, b, seconds=args.cost_seconds) for b in (1, 16)]
            probs, labels, temps = [], [], []
            for seed in seeds:
                fit_idx, val_idx = stratified_split(train.labels, config.val_fraction, seed)
                fit, val = train.subset(fit_idx, "fit"), train.subset(val_idx, "validation")
                result = train_classifier(fit, val, len(info.classes), TrainConfig(
                    image_size=int(size_s), resize=mode, flip_tta=tta, seed=seed),
                    features=(feats[:, torch.from_numpy(fit_idx)], feats[:, torch.from_numpy(val_idx)]))
                assert result.val_logits is not None
                probs.append(softmax(result.val_logits, result.temperature))
                labels.append(val.labels)
                temps.append(result.temperature)
            p, y = np.concatenate(probs), np.concatenate(labels)
            at = coverage_precision(p, y, THRESHOLD)
            print(f"{size_s:>4s} {mode:8s} {'on' if tta else 'off':3s} | {cost[0]:8.1f} {cost[1]:9.1f} | "
                  f"{float((p.argmax(1) == y).mean()):7.3f} {log_loss(p, y):7.4f} {at['coverage']:7.3f} "
                  f"{at['precision']:8.3f} {float(np.mean(temps)):6.2f}", flush=True)
        print(f"     (features for {len(train)} images + mirrors at {size_s} px {mode}: {feat_s:.1f} s in PyTorch)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
