from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from scones.errors import UsageError
from scones.train.config import TrainConfig
from scones.train.models import EfficientNetLite0, build_classifier, cubic_resize_matrix


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


@pytest.mark.parametrize(("height", "width", "size"), [(32, 32, 128), (45, 20, 96), (32, 32, 32), (300, 41, 128)])
def test_cubic_resize_matrices_reproduce_torch_bicubic(height: int, width: int, size: int) -> None:
    # Up, identity and down (no antialiasing, like F.interpolate's default), non-square inputs.
    x = torch.from_numpy(np.random.default_rng(height).uniform(0, 255, (2, 3, height, width)).astype(np.float32))
    got = cubic_resize_matrix(height, size) @ x @ cubic_resize_matrix(width, size).t()
    want = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False)
    torch.testing.assert_close(got, want, atol=1e-3, rtol=1e-5)


def test_flip_tta_off_scores_the_image_alone_and_on_averages_the_mirror() -> None:
    pixels = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8))
    for tta in (False, True):
        torch.manual_seed(0)
        model = build_classifier(TrainConfig(image_size=32, flip_tta=tta).resolved(), 2, pretrained=False).eval()
        with torch.no_grad():
            alone = model.classify(model.features(pixels))
            mirror = model.classify(model.features(pixels.flip(2)))
            want = (alone + mirror) / 2 if tta else alone
            torch.testing.assert_close(model(pixels), want)


def test_config_refuses_an_unknown_resize_and_reads_booleans_back() -> None:
    with pytest.raises(UsageError, match="resize"):
        TrainConfig(resize="nearest")
    assert TrainConfig.from_dict({"flip_tta": "false", "resize": "bilinear"}).flip_tta is False
    assert TrainConfig.from_dict(TrainConfig(flip_tta=True).to_dict()).flip_tta is True
