"""Entry point inside a SageMaker training container (script mode).

SageMaker passes the hyperparameters as ``--name value`` arguments and the locations as
``SM_*`` environment variables. The ``train`` and ``validation`` channels (see
``scones.train.sagemaker``) are joined back into one staged dataset, then the very same
``scones.train.run.train`` as on a laptop runs. ``/opt/ml/model`` receives exactly
``model.onnx`` and ``model.json`` (SageMaker tars that folder into ``model.tar.gz``, which
must hold nothing else); metrics and charts go to the output data folder. The container's
conventions: docs/aws-facts.md, SageMaker training.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from scones.model_artifact import ARTIFACT_NAME, JSON_MEMBER, ONNX_MEMBER, read_model_tarball
from scones.train.config import TrainConfig
from scones.train.sagemaker import CHANNELS

LOG = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="scones training entry point (SageMaker script mode)")
    # The SDK convention JSON-encodes hyperparameter values; the container passes them through.
    parser.add_argument("--arch", type=lambda s: str(json.loads(s)) if s.startswith('"') else s,
                        default="efficientnet_lite0")
    parser.add_argument("--epochs", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        LOG.info("ignoring arguments %s", unknown)
    return args


def assemble_dataset(channels: Mapping[str, Path], dest: Path) -> Path:
    """One staged dataset from the per-split channel folders, each checked on its own first."""
    from scones.data.dataset import DATASET_JSON, load_dataset_info, manifest_key
    from scones.store import LocalStore

    dest.mkdir(parents=True, exist_ok=True)
    for channel, split in CHANNELS.items():
        src = channels[channel]
        load_dataset_info(LocalStore(src), splits=(split,))  # a clear error naming the channel's files
        shutil.copytree(src / split, dest / split)
        shutil.copy2(src / manifest_key(split), dest / manifest_key(split))
        if not (dest / DATASET_JSON).exists():
            shutil.copy2(src / DATASET_JSON, dest / DATASET_JSON)
    return dest


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> None:
    from scones.train.run import train

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    env = os.environ if environ is None else environ
    args = parse_args(argv)
    channels = {name: Path(env.get(f"SM_CHANNEL_{name.upper()}", f"/opt/ml/input/data/{name}")) for name in CHANNELS}
    model_dir = Path(env.get("SM_MODEL_DIR", "/opt/ml/model"))
    output_dir = Path(env.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"))
    with tempfile.TemporaryDirectory() as tmp:
        data = assemble_dataset(channels, Path(tmp) / "dataset")
        out = Path(tmp) / "model"
        train(str(data), str(out), TrainConfig(arch=args.arch, epochs=args.epochs, seed=args.seed))
        artifact = read_model_tarball((out / ARTIFACT_NAME).read_bytes())
        model_dir.mkdir(parents=True, exist_ok=True)
        (model_dir / ONNX_MEMBER).write_bytes(artifact.onnx_bytes)
        (model_dir / JSON_MEMBER).write_text(artifact.spec.to_json())
        output_dir.mkdir(parents=True, exist_ok=True)
        for path in out.iterdir():
            if path.name != ARTIFACT_NAME:
                shutil.copy2(path, output_dir / path.name)
