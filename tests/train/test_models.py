from __future__ import annotations

import numpy as np
import torch

from scones.train.config import TrainConfig
from scones.train.models import EfficientNetLite0, build_classifier


def test_efficientnet_features_pool_every_block_and_the_head() -> None:
    net = EfficientNetLite0(32, pretrained=False)
    widths = [int(block._project_conv.out_channels) for block in net.blocks]
    assert len(net.TAPS) == len(net.blocks) == 16
    assert net.out_features == sum(widths) + 1280

    pooled: list[torch.Tensor] = []
    hooks = [block.register_forward_hook(lambda _m, _i, out: pooled.append(out.mean(dim=(2, 3))))
             for block in net.blocks]
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        features = net(x)
    for hook in hooks:
        hook.remove()
    assert features.shape == (3, net.out_features)
    # Block i's spatial mean sits at its offset, in block order, before the head's 1280 values.
    torch.testing.assert_close(features[:, :sum(widths)], torch.cat(pooled, dim=1))


def test_classifier_head_matches_feature_width() -> None:
    model = build_classifier(TrainConfig(arch="efficientnet_lite0", image_size=32).resolved(), 3, pretrained=False)
    pixels = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8))
    assert model.head.in_features == model.backbone.out_features
    assert model(pixels).shape == (2, 3)
