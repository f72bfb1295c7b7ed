"""The ``model.tar.gz`` artifact: ``model.onnx`` plus ``model.json``, and nothing else.

Format (version 1), the contract between training, serving, monitoring and deploy:

- ``model.onnx`` takes one input named ``pixels``: decoded RGB pixels, **uint8**, layout
  **NHWC** ``[batch, height, width, 3]``. Resize and normalisation live inside the graph.
  It returns one output named ``probabilities``: float32 ``[batch, len(classes)]``, in class order.
- ``model.json`` describes the model: classes, the input size the server should resize
  images to (``input.height`` × ``input.width``), metrics, training configuration,
  library versions, and the SHA-256 of ``model.onnx`` (checked on load).

Like safetensors, the artifact holds no pickle, and readers check inputs before
trusting them: only the two regular members, bounded sizes, a matching checksum.
The same archive extracted into ``/opt/ml/model`` is what SageMaker hands the container
(docs/aws-facts.md, SageMaker hosting container).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zlib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from scones.errors import ModelError
from scones.store import atomic_write_bytes, open_store

FORMAT_VERSION: Final = 1
ONNX_MEMBER: Final = "model.onnx"
JSON_MEMBER: Final = "model.json"
ARTIFACT_NAME: Final = "model.tar.gz"
MAX_ONNX_BYTES: Final = 512 * 1024 * 1024
MAX_JSON_BYTES: Final = 16 * 1024 * 1024
#: Largest input side a model.json may declare (the endpoint allocates batches of that size).
MAX_INPUT_SIDE: Final = 4096


@dataclass(frozen=True)
class InputSpec:
    name: str = "pixels"
    dtype: str = "uint8"
    layout: str = "NHWC"
    height: int = 32
    width: int = 32
    channels: int = 3
    color: str = "RGB"


@dataclass(frozen=True)
class ModelSpec:
    """What ``model.json`` holds. ``metrics``/``training``/``versions`` are free-form JSON objects."""

    classes: list[str]
    input: InputSpec = field(default_factory=InputSpec)
    output_name: str = "probabilities"
    onnx_sha256: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelSpec:
        try:
            raw = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelError(f"{JSON_MEMBER} is not valid JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ModelError(f"{JSON_MEMBER} must hold a JSON object")
        if raw.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{JSON_MEMBER} has format_version {raw.get('format_version')!r}; "
                             f"this scones reads version {FORMAT_VERSION}",
                             hint="re-export the model with this version of scones")
        classes = raw.get("classes")
        if (not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) for c in classes)
                or len(set(classes)) != len(classes)):
            raise ModelError(f"{JSON_MEMBER} must list at least two distinct class names under 'classes'")
        input_raw = raw.get("input", {})
        if not isinstance(input_raw, dict):
            raise ModelError(f"{JSON_MEMBER}: 'input' must be a JSON object")
        unknown = sorted(set(input_raw) - {f.name for f in fields(InputSpec)})
        if unknown:
            raise ModelError(f"{JSON_MEMBER}: the 'input' section has unknown keys: {', '.join(unknown)}")
        input_spec = InputSpec(**input_raw)
        for side in ("height", "width"):
            size = getattr(input_spec, side)
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_INPUT_SIDE:
                raise ModelError(f"{JSON_MEMBER}: input {side} must be a whole number from 1 to {MAX_INPUT_SIDE}, "
                                 f"got {size!r}", hint="export the model again with 'scones train'")
        if input_spec.dtype != "uint8" or input_spec.layout != "NHWC" or input_spec.channels != 3:
            raise ModelError(f"{JSON_MEMBER}: only uint8 NHWC RGB input is supported, got "
                             f"{input_spec.dtype} {input_spec.layout} with {input_spec.channels} channels")
        sections = {}
        for section in ("metrics", "training", "versions"):
            value = raw.get(section) or {}
            if not isinstance(value, dict):
                raise ModelError(f"{JSON_MEMBER}: '{section}' must be a JSON object, got {type(value).__name__}")
            sections[section] = dict(value)
        files = sections["training"].get("validation_files")
        if files is not None and not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
            raise ModelError(f"{JSON_MEMBER}: 'training.validation_files' must be a list of file names")
        return cls(
            classes=list(classes), input=input_spec,
            output_name=str(raw.get("output_name", "probabilities")),
            onnx_sha256=str(raw.get("onnx_sha256", "")), format_version=FORMAT_VERSION, **sections,
        )


@dataclass(frozen=True)
class ModelArtifact:
    onnx_bytes: bytes
    spec: ModelSpec

    @property
    def classes(self) -> list[str]:
        return self.spec.classes


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_tarball(onnx_bytes: bytes, spec: ModelSpec) -> bytes:
    """The archive bytes; the spec's checksum is (re)computed from ``onnx_bytes``."""
    if not onnx_bytes:
        raise ModelError("Refusing to package an empty ONNX model")
    spec = ModelSpec(**{**spec.__dict__, "onnx_sha256": sha256_hex(onnx_bytes)})
    buf = io.BytesIO()
    # Fixed mtimes (members and gzip header) make the archive byte-identical for the same
    # model, so a deploy of an unchanged model is recognised as "no change".
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in ((ONNX_MEMBER, onnx_bytes), (JSON_MEMBER, spec.to_json().encode())):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def write_model_tarball(dest: str | Path, onnx_bytes: bytes, spec: ModelSpec) -> Path:
    """Write ``model.tar.gz`` atomically to a local path."""
    path = Path(dest)
    atomic_write_bytes(path, build_tarball(onnx_bytes, spec))
    return path


def read_model_tarball(data: bytes, *, origin: str = ARTIFACT_NAME) -> ModelArtifact:
    """Parse and check archive bytes: only the two regular members, bounded, checksum verified."""
    members: dict[str, bytes] = {}
    try:
        raw = _gunzip_bounded(data, MAX_ONNX_BYTES + MAX_JSON_BYTES + 64 * 1024)
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for info in tar:
                name = info.name.removeprefix("./")
                if name in ("", "."):
                    continue
                if name in members:
                    raise ModelError(f"{origin}: member {name!r} appears twice; refusing the archive",
                                     hint="export the model again with 'scones train'")
                if name not in (ONNX_MEMBER, JSON_MEMBER):
                    raise ModelError(f"{origin} has an unexpected member {info.name!r}",
                                     hint=f"a scones model holds only {ONNX_MEMBER} and {JSON_MEMBER}")
                if not info.isreg():
                    raise ModelError(f"{origin}: member {info.name!r} is not a regular file")
                limit = MAX_ONNX_BYTES if name == ONNX_MEMBER else MAX_JSON_BYTES
                if info.size > limit:
                    raise ModelError(f"{origin}: member {name} is larger than {limit} bytes")
                fh = tar.extractfile(info)
                assert fh is not None
                members[name] = fh.read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ModelError(f"{origin} is not a readable tar.gz archive (truncated or corrupt?): {exc}",
                         hint="export the model again with 'scones train'") from exc
    return _artifact_from_members(members, origin)


def _gunzip_bounded(data: bytes, limit: int) -> bytes:
    """The whole gzip stream, decompressed, with its CRC and length checked (tarfile stops reading
    before the trailer, so a flipped byte could pass unseen), and at most ``limit`` bytes of it."""
    parts: list[bytes] = []
    size = 0
    rest = data
    while True:  # gzip allows several members one after another; tar and gzip tools accept them
        inflater = zlib.decompressobj(wbits=31)  # gzip header and trailer
        part = inflater.decompress(rest, limit + 1 - size)
        size += len(part)
        parts.append(part)
        if size > limit:
            raise ModelError(f"the archive unpacks to more than {limit} bytes; a scones model is smaller")
        if not inflater.eof:
            raise EOFError("the gzip stream ends before its end-of-stream marker")
        rest = inflater.unused_data
        if not rest.strip(b"\0"):
            return b"".join(parts)


def _artifact_from_members(members: dict[str, bytes], origin: str) -> ModelArtifact:
    for name in (ONNX_MEMBER, JSON_MEMBER):
        if name not in members:
            raise ModelError(f"{origin} lacks {name}", hint="export the model again with 'scones train'")
    spec = ModelSpec.from_json(members[JSON_MEMBER])
    digest = sha256_hex(members[ONNX_MEMBER])
    if spec.onnx_sha256 and spec.onnx_sha256 != digest:
        raise ModelError(f"{origin}: {ONNX_MEMBER} does not match the SHA-256 in {JSON_MEMBER} "
                         f"({digest[:12]}… vs {spec.onnx_sha256[:12]}…)",
                         hint="the artifact is corrupt or was modified; export it again")
    return ModelArtifact(onnx_bytes=members[ONNX_MEMBER], spec=spec)


def load_model(uri: str | Path) -> ModelArtifact:
    """Load a model from ``model.tar.gz`` (path, file:// or s3://), or from a folder.

    A folder may hold ``model.tar.gz`` or the extracted pair (SageMaker's ``/opt/ml/model``).
    """
    text = str(uri)
    if text.endswith(".tar.gz"):
        parent, _, name = text.rstrip("/").rpartition("/")
        if parent in ("", "file:/", "file://"):  # "model.tar.gz", "/model.tar.gz", "file:///model.tar.gz"
            parent = "/" if "/" in text else "."
        store = open_store(parent)
        return read_model_tarball(store.get_bytes(name), origin=text)
    store = open_store(text)
    if store.exists(ARTIFACT_NAME):
        return read_model_tarball(store.get_bytes(ARTIFACT_NAME), origin=store.uri_for(ARTIFACT_NAME))
    if store.exists(ONNX_MEMBER) and store.exists(JSON_MEMBER):
        return _artifact_from_members({n: store.get_bytes(n) for n in (ONNX_MEMBER, JSON_MEMBER)}, text)
    raise ModelError(f"No model at {text}",
                     hint=f"pass the path of a {ARTIFACT_NAME} or of a folder holding one "
                          f"(train one with 'scones train')")
