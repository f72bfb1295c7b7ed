"""What a deployment ships, read from this machine (or S3) before anything is sent to AWS.

The dataset, ``model.tar.gz`` (checked: a corrupt model is never shipped), one
zip per function and the workflow definitions. Reading everything first means a
missing piece fails before the first resource is created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scones.aws import definitions
from scones.aws.errors import MissingModelError
from scones.aws.naming import FUNCTIONS, STATE_MACHINES
from scones.errors import DataError, NotFoundError
from scones.model_artifact import ARTIFACT_NAME, ModelArtifact, read_model_tarball, sha256_hex
from scones.store import Store, open_store

BuildZip = Callable[[str], bytes]
LoadDefinition = Callable[[str], definitions.Definition]


@dataclass(frozen=True)
class Artifacts:
    """Everything read from this machine before anything is sent to AWS."""

    dataset: Store
    model_bytes: bytes = field(repr=False)
    model_sha256: str
    zips: dict[str, bytes] = field(repr=False)
    workflows: dict[str, definitions.Definition]


def default_build_zip(name: str) -> bytes:
    from scones.aws.package import build_function_zip  # written alongside; imported when needed

    return build_function_zip(name)


def read_model(model_uri: str, *, s3_client: Any | None = None) -> tuple[bytes, ModelArtifact]:
    """The bytes of ``model.tar.gz`` at ``model_uri`` (the file itself or a folder holding it) and the
    artifact they hold, checked: a corrupt artifact is refused before it is shipped."""
    text = str(model_uri).rstrip("/")
    parent, name = (text.rpartition("/")[0] or ".", text.rpartition("/")[2]) if text.endswith(".tar.gz") \
        else (text, ARTIFACT_NAME)
    try:
        data = open_store(parent, s3_client=s3_client).get_bytes(name)
    except NotFoundError as exc:
        raise MissingModelError(f"No {ARTIFACT_NAME} at {model_uri}",
                                hint="train one with 'scones train', or pass --model PATH") from exc
    return data, read_model_tarball(data, origin=text)


def collect_artifacts(dataset_uri: str, model_uri: str, *, build_zip: BuildZip | None = None,
                      load_definition: LoadDefinition | None = None, s3_client: Any | None = None) -> Artifacts:
    """Read dataset, model, function zips and definitions (``s3_client`` serves ``s3://`` sources)."""
    dataset = open_store(dataset_uri, s3_client=s3_client)
    if not dataset.list():
        raise DataError(f"No dataset at {dataset_uri}",
                        hint="stage one with 'scones data stage', or pass --dataset URI")
    # Refuse before any upload: a half-staged dataset, or one the model was not trained for.
    from scones.data.dataset import load_dataset_info

    info = load_dataset_info(dataset)
    model, artifact = read_model(model_uri, s3_client=s3_client)
    classes = artifact.classes
    if list(info.classes) != list(classes):
        raise DataError(f"The model's classes {classes} differ from the dataset's {list(info.classes)}",
                        hint="deploy the dataset the model was trained on (--dataset), or retrain the model")
    build = build_zip or default_build_zip
    load = load_definition or definitions.load_definition
    return Artifacts(dataset=dataset, model_bytes=model, model_sha256=sha256_hex(model),
                     zips={f: build(f) for f in FUNCTIONS},
                     workflows={stem: load(stem) for stem in STATE_MACHINES})
