"""The training loop, top to bottom: config, data, model, optimizer, ``estimate_loss``,
``get_lr``, then the loop with early stopping on the held-out validation part.

Only validation drives choices here (which epoch to keep, the temperature); the test split
never enters this module.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from scones.progress import progress
from scones.train.calibration import fit_temperature, nll
from scones.train.config import TrainConfig
from scones.train.data import Split
from scones.train.models import Classifier, build_classifier

LOG = logging.getLogger(__name__)

EVAL_BATCH = 200
CROP_PAD = 4  # CIFAR's classic augmentation: pad 4 px (reflect), crop back at a random offset
FINETUNE_BATCH = 32


def calibrated_nll(logits: np.ndarray, labels: np.ndarray) -> float:
    """Validation loss after temperature scaling: what the shipped (calibrated) model would score."""
    return nll(logits, labels, fit_temperature(logits, labels))


def finetune(model: Classifier, fit: Split, val: Split, head_val_logits: np.ndarray, config: TrainConfig,
             gen: torch.Generator, history: list[dict[str, float]], *,
             show_progress: bool = False) -> np.ndarray | None:
    """Train the whole network for ``config.finetune_epochs`` at a low, constant learning rate (mirror
    images as augmentation; BatchNorm keeps ImageNet's statistics), starting from the trained head.
    Constant: decaying it to zero within one epoch moved the network too little to help (seed 0:
    calibrated validation NLL 0.1314 against 0.1304 for the head alone; constant: 0.125).

    Kept only if calibrated validation loss beats the head alone; otherwise the model is put back
    as it was. Returns the new validation logits when kept, else None.
    """
    before = copy.deepcopy(model.state_dict())
    head_loss = calibrated_nll(head_val_logits, val.labels)
    for p in model.backbone.parameters():
        p.requires_grad_(True)
    # Channels-last weights make PyTorch's CPU convolutions run channels-last: a shorter epoch, same
    # result (docs/performance.md, Training). Put back before export.
    model.backbone.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # missing from the stubs
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.finetune_learning_rate, weight_decay=0.01)
    images, labels = torch.from_numpy(fit.images), torch.from_numpy(fit.labels)
    batch_size = min(FINETUNE_BATCH, len(fit))
    steps = max(1, len(fit) // batch_size)
    total = steps * config.finetune_epochs
    model.train()  # dropout in the head; the backbone's BatchNorm stays in eval mode (EfficientNetLite0.train)
    bar = progress(range(total), enabled=show_progress, desc="fine-tuning", unit="step")
    loss_sum, seen, correct = 0.0, 0, 0
    try:
        for it in bar:
            if it % steps == 0:
                perm = torch.randperm(len(fit), generator=gen)
            idx = perm[(it % steps) * batch_size:(it % steps + 1) * batch_size]
            logits = model(mirror(images[idx], gen))
            loss = F.cross_entropy(logits, labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(idx)
            seen += len(idx)
            correct += int((logits.argmax(1) == labels[idx]).sum())
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}")
    finally:
        model.backbone.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]  # as above
        for p in model.backbone.parameters():
            p.requires_grad_(False)
    val_logits = predict_logits(model, val.images)
    tuned_loss = calibrated_nll(val_logits, val.labels)
    target = torch.from_numpy(val.labels)
    history.append({"epoch": len(history) + 1, "finetune": 1.0, "loss": loss_sum / seen, "acc": correct / seen,
                    "val_loss": F.cross_entropy(torch.from_numpy(val_logits), target).item(),
                    "val_acc": float((val_logits.argmax(1) == val.labels).mean()),
                    "val_nll_calibrated": tuned_loss, "val_nll_calibrated_head_only": head_loss})
    model.eval()
    if tuned_loss >= head_loss:
        LOG.info("fine-tuning did not lower calibrated validation loss (%.4f vs %.4f): kept the head alone",
                 tuned_loss, head_loss)
        model.load_state_dict(before)
        return None
    LOG.info("fine-tuned: calibrated validation loss %.4f (head alone %.4f)", tuned_loss, head_loss)
    return val_logits


@dataclass
class TrainResult:
    model: Classifier
    config: TrainConfig
    temperature: float
    best_epoch: int
    epochs_run: int
    history: list[dict[str, float]] = field(default_factory=list)
    val_logits: np.ndarray | None = None
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0


def get_lr(it: int, total: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to zero: a pure function of the step."""
    warmup = max(1, int(total * config.warmup_fraction))
    if it < warmup:
        return config.learning_rate * (it + 1) / warmup
    progress_ratio = (it - warmup) / max(1, total - warmup)
    return config.learning_rate * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress_ratio)))


def mirror(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Each NHWC image mirrored left-right with probability 1/2."""
    flip = torch.rand(batch.shape[0], generator=gen) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), batch.flip(2), batch)


def augment(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and pad-and-crop on uint8 NHWC pixels (before the in-model resize)."""
    n, h, w, _ = batch.shape
    batch = mirror(batch, gen)
    padded = F.pad(batch.permute(0, 3, 1, 2).float(), (CROP_PAD,) * 4, mode="reflect")
    dx = torch.randint(0, 2 * CROP_PAD + 1, (n,), generator=gen)
    dy = torch.randint(0, 2 * CROP_PAD + 1, (n,), generator=gen)
    out = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    return out.permute(0, 2, 3, 1)


@torch.no_grad()
def predict_logits(model: Classifier, images: np.ndarray) -> np.ndarray:
    was_training = model.training
    model.eval()
    out = [model(torch.from_numpy(images[i:i + EVAL_BATCH])) for i in range(0, len(images), EVAL_BATCH)]
    model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, model.head.out_features), dtype=np.float32)


def estimate_loss(model: Classifier, split: Split) -> dict[str, float]:
    """Validation loss and accuracy, under no_grad and in eval mode (then back to train)."""
    logits = predict_logits(model, split.images)
    loss = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(split.labels)).item()
    acc = float((logits.argmax(axis=1) == split.labels).mean())
    return {"val_loss": loss, "val_acc": acc}


@torch.no_grad()
def cache_features(model: Classifier, images: np.ndarray, *, show_progress: bool = False) -> torch.Tensor:
    """Backbone features [2, n, d]: index 0 the images, 1 their mirror images."""
    model.eval()
    out: list[list[torch.Tensor]] = [[], []]
    for i in progress(range(0, len(images), EVAL_BATCH), enabled=show_progress, desc="features", unit="batch"):
        batch = torch.from_numpy(images[i:i + EVAL_BATCH])
        out[0].append(model.features(batch))
        out[1].append(model.features(batch.flip(2)))
    model.train()
    return torch.stack([torch.cat(out[0]), torch.cat(out[1])])


@torch.no_grad()
def cached_logits(model: Classifier, features: torch.Tensor) -> torch.Tensor:
    """What ``Classifier.forward`` returns, from cached [image, mirror] features."""
    logits = model.classify(features[0])
    if model.flip_tta:
        logits = (logits + model.classify(features[1])) / 2
    return logits


@torch.no_grad()
def estimate_loss_cached(model: Classifier, features: torch.Tensor, labels: np.ndarray) -> dict[str, float]:
    """``estimate_loss`` on cached features (same flip averaging as ``Classifier.forward``)."""
    model.eval()
    logits = cached_logits(model, features)
    model.train()
    target = torch.from_numpy(labels)
    return {"val_loss": F.cross_entropy(logits, target).item(),
            "val_acc": float((logits.argmax(1) == target).float().mean())}


def train_classifier(fit: Split, val: Split, num_classes: int, config: TrainConfig, *,
                     show_progress: bool = False, pretrained: bool = True,
                     features: tuple[torch.Tensor, torch.Tensor] | None = None) -> TrainResult:
    """Train, keep the epoch with the lowest validation loss, fit the temperature on validation.

    ``features`` may pass ``cache_features`` of ``fit`` and ``val`` (frozen backbones only) when
    the caller scores several splits of the same images (``benchmarks/serve_cost_study.py``).
    """
    config = config.resolved()
    t0, c0 = time.perf_counter(), time.process_time()
    torch.set_num_threads(config.threads or os.cpu_count() or 1)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)

    model = build_classifier(config, num_classes, pretrained=pretrained)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=config.learning_rate)

    images = torch.from_numpy(fit.images)
    labels = torch.from_numpy(fit.labels)
    if model.frozen_backbone:
        # The backbone never changes, so compute its features once, for each image and its
        # mirror image (the augmentation a frozen backbone allows cheaply); epochs then cost
        # only the linear head.
        cached = features[0] if features else cache_features(model, fit.images, show_progress=show_progress)
        model.feature_mean.copy_(cached.mean(dim=(0, 1)))
        model.feature_std.copy_(cached.std(dim=(0, 1)) + 1e-6)
        val_features = features[1] if features else cache_features(model, val.images, show_progress=show_progress)

    def batch_logits(idx: torch.Tensor) -> torch.Tensor:
        if model.frozen_backbone:
            mirrored = (torch.rand(len(idx), generator=gen) < 0.5).long()
            return model.classify(cached[mirrored, idx])
        return model(augment(images[idx], gen))

    def validation() -> dict[str, float]:
        if not model.frozen_backbone:
            return estimate_loss(model, val)
        return estimate_loss_cached(model, val_features, val.labels)
    batch_size = min(config.batch_size, len(fit))
    steps_per_epoch = max(1, len(fit) // batch_size)
    total = steps_per_epoch * config.epochs

    best: dict[str, Any] = {"val_loss": math.inf, "epoch": -1, "state": None}
    history: list[dict[str, float]] = []
    it = 0
    bar = progress(range(config.epochs), enabled=show_progress, desc=f"training {config.arch}", unit="epoch")
    model.train()
    for epoch in bar:
        perm = torch.randperm(len(fit), generator=gen)
        seen = correct = 0
        loss_sum = 0.0
        for step in range(steps_per_epoch):
            idx = perm[step * batch_size:(step + 1) * batch_size]
            lr = get_lr(it, total, config)
            for group in optimizer.param_groups:
                group["lr"] = lr
            logits = batch_logits(idx)
            loss = F.cross_entropy(logits, labels[idx], label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            it += 1
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == labels[idx]).sum())
        row = {"epoch": epoch + 1, "loss": loss_sum / seen, "acc": correct / seen, **validation()}
        history.append(row)
        bar.set_postfix(loss=f"{row['loss']:.3f}", acc=f"{row['acc']:.3f}", val_loss=f"{row['val_loss']:.3f}",
                        val_acc=f"{row['val_acc']:.3f}")
        LOG.info("epoch %d: loss %.4f acc %.3f val_loss %.4f val_acc %.3f", epoch + 1, row["loss"], row["acc"],
                 row["val_loss"], row["val_acc"])
        if row["val_loss"] < best["val_loss"]:
            best = {"val_loss": row["val_loss"], "epoch": epoch + 1, "state": copy.deepcopy(model.state_dict())}
        elif epoch + 1 - best["epoch"] >= config.patience:
            LOG.info("early stop: no validation improvement for %d epochs", config.patience)
            break

    model.load_state_dict(best["state"])
    model.eval()
    if model.frozen_backbone:
        with torch.no_grad():
            val_logits = cached_logits(model, val_features).numpy()
        if config.finetune_epochs:
            tuned = finetune(model, fit, val, val_logits, config, gen, history, show_progress=show_progress)
            if tuned is not None:
                val_logits = tuned
    else:
        val_logits = predict_logits(model, val.images)
    temperature = fit_temperature(val_logits, val.labels)
    model.temperature.fill_(temperature)
    LOG.info("kept epoch %d; temperature %.3f", best["epoch"], temperature)
    return TrainResult(model=model, config=config, temperature=temperature, best_epoch=int(best["epoch"]),
                       epochs_run=len(history), history=history, val_logits=val_logits,
                       wall_seconds=time.perf_counter() - t0, cpu_seconds=time.process_time() - c0)
