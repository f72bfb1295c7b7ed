"""The SageMaker Python SDK's ``Predictor`` against ``scones up``, unchanged (optional: ``pip install .[sdk]``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scones.config import Settings
from scones.gateway.up import UpOptions, exports, up_in_thread
from scones.testing import tiny_model_tarball

sagemaker = pytest.importorskip("sagemaker", reason="the SageMaker SDK is an optional extra: pip install .[sdk]")

pytestmark = pytest.mark.xdist_group("scones-up")


def test_a_predictor_reaches_the_local_endpoint(scones_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from PIL import Image
    from sagemaker.deserializers import JSONDeserializer
    from sagemaker.predictor import Predictor
    from sagemaker.serializers import IdentitySerializer

    settings = Settings.from_env()
    model = settings.store_root / settings.bucket / "model" / "model.tar.gz"
    model.parent.mkdir(parents=True)
    model.write_bytes(tiny_model_tarball())
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 10, 250)).save(buf, format="PNG")
    with up_in_thread(settings, UpOptions(port=0)) as (url, _):
        for key, value in exports(url, None).items():
            monkeypatch.setenv(key, value)
        session = sagemaker.Session(boto_session=boto3.Session())
        predictor = Predictor("scones-endpoint", sagemaker_session=session,
                              serializer=IdentitySerializer("image/png"), deserializer=JSONDeserializer())
        probabilities = predictor.predict(buf.getvalue())
    assert len(probabilities) == 2 and abs(sum(probabilities) - 1) < 1e-6
    assert json.dumps(probabilities)
