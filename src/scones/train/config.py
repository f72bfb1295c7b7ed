"""What a training run does, as one frozen dataclass (nanoGPT's ``GPTConfig`` habit, no globals)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Final

from scones.errors import UsageError

ARCHITECTURES: Final = ("efficientnet_lite0", "small_resnet")
DEFAULT_THRESHOLD: Final = 0.93
RESIZE_MODES: Final = ("bicubic", "bilinear")


class UnknownArchitectureError(UsageError):
    """``--arch`` names a network scones cannot build."""


@dataclass(frozen=True)
class TrainConfig:
    arch: str = "efficientnet_lite0"
    epochs: int = 0  # 0 = the architecture's default (see ``resolved``)
    seed: int = 0
    batch_size: int = 64
    learning_rate: float = 0.0  # 0 = the architecture's default
    weight_decay: float = 0.05
    warmup_fraction: float = 0.1
    val_fraction: float = 0.2
    # Early stopping: stop when validation loss has not improved for this many epochs.
    patience: int = 8
    # Side of the square the network sees; resizing to it happens inside the exported graph.
    image_size: int = 0  # 0 = the architecture's default
    # How the graph resizes to ``image_size``: bicubic had the lower validation loss (docs/train.md).
    resize: str = "bicubic"
    # Average the logits of the image and its mirror image inside the served graph. Off: it doubles
    # the graph's cost (two passes) and did not help on validation (docs/performance.md, Training).
    flip_tta: bool = False
    dropout: float = 0.2
    # 0: smoothing capped confidence that the temperature then had to undo; without it validation
    # NLL over nested held-out folds was lower (docs/train.md).
    label_smoothing: float = 0.0
    # After the head, train the whole frozen-feature network (BatchNorm statistics stay ImageNet's) for
    # this many epochs at a low learning rate, and keep the result only if validation loss improves.
    # One epoch lowered validation NLL on every split tried; a second overfitted (docs/train.md).
    # efficientnet_lite0 only; 0 turns it off.
    finetune_epochs: int = 1
    finetune_learning_rate: float = 3e-5
    threads: int = 0  # 0 = all cores torch sees
    threshold: float = DEFAULT_THRESHOLD

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise UnknownArchitectureError(f"Unknown architecture {self.arch!r}",
                                           hint=f"choose one of: {', '.join(ARCHITECTURES)}")
        if self.finetune_epochs < 0 or self.finetune_learning_rate <= 0:
            raise UsageError("fine-tuning epochs must be >= 0 and its learning rate > 0; got "
                             f"{self.finetune_epochs} and {self.finetune_learning_rate}")
        if self.epochs < 0 or self.batch_size < 1 or not 0.0 < self.val_fraction < 1.0:
            raise UsageError("epochs must be >= 0, batch size >= 1 and the validation fraction in (0, 1); got "
                             f"epochs={self.epochs}, batch_size={self.batch_size}, val_fraction={self.val_fraction}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise UsageError(f"The seed must be a whole number from 0 to {2**32 - 1}, got {self.seed!r}",
                             hint="numpy and PyTorch both take 32-bit seeds")
        if self.resize not in RESIZE_MODES:
            raise UsageError(f"Unknown resize mode {self.resize!r}", hint=f"choose one of: {', '.join(RESIZE_MODES)}")
        if not 0.0 < self.threshold < 1.0:
            raise UsageError(f"The confidence threshold must lie in (0, 1), got {self.threshold}")

    def resolved(self) -> TrainConfig:
        """Fill the per-architecture defaults, so model.json records the values actually used."""
        # efficientnet_lite0 trains only a linear head on cached features: many cheap epochs.
        defaults = {"efficientnet_lite0": (60, 1e-3, 128), "small_resnet": (30, 3e-3, 32)}[self.arch]
        return replace(self, epochs=self.epochs or defaults[0], learning_rate=self.learning_rate or defaults[1],
                       image_size=self.image_size or defaults[2])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        known = {f.name: f for f in fields(cls)}
        return cls(**{k: _coerce(type(getattr(cls(), k)), v) for k, v in raw.items() if k in known})


def _coerce(kind: type, value: Any) -> Any:
    # bool("false") is True: booleans from JSON arrive as bools, from text as words.
    if kind is bool and isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return kind(value)
