"""Read the CIFAR-100 python archive safely: download, checksum, tar checks, restricted unpickling, validation.

The official ``cifar-100-python.tar.gz`` holds ``cifar-100-python/{meta,train,test}``,
pickled dicts written by Python 2's cPickle (protocol 2). Re-saved copies
written by Python 3 look the same except that byte strings are rebuilt with
``_codecs.encode(text, "latin1")``. A pickle can call any importable function,
so these are read by an unpickler that admits only what CIFAR's pickles
contain: the numpy array reconstruction (``_reconstruct`` on ``ndarray`` with
a plain numeric ``dtype``) and latin-1 ``_codecs.encode``, each checked on its
arguments. Tar members are read into memory, never extracted, and an archive
with any link, device, absolute or ``..`` member is refused as a whole.
"""

from __future__ import annotations

import difflib
import hashlib
import http.client
import io
import logging
import os
import pickle
import posixpath
import tarfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final
from urllib.parse import urlparse

from scones.config import DEFAULT_CIFAR_MD5, DEFAULT_CIFAR_URL
from scones.errors import DataError
from scones.progress import progress

if TYPE_CHECKING:
    import numpy as np

LOG = logging.getLogger(__name__)

ARCHIVE_ROOT: Final = "cifar-100-python"
MEMBERS: Final = ("meta", "train", "test")
SPLITS: Final = ("train", "test")
IMAGE_SHAPE: Final = (32, 32, 3)
ROW_BYTES: Final = 32 * 32 * 3
#: Largest member read into memory (the official train pickle is about 155 MB).
MAX_MEMBER_BYTES: Final = 1 << 30
DOWNLOAD_CHUNK: Final = 1 << 20
#: Seconds before the first retry of a failed download; each later retry waits twice as long.
RETRY_BASE_DELAY: float = 1.0
LOCAL_SOURCE_HINT: Final = ("download cifar-100-python.tar.gz on a machine with internet access, then point "
                            "scones at the file: scones data stage --source /path/to/cifar-100-python.tar.gz "
                            "(or export SCONES_CIFAR_SOURCE=/path/to/cifar-100-python.tar.gz)")


class UnsafePickleError(DataError):
    """A pickle that asks for something CIFAR's pickles never contain (it could run code)."""


# -- checksums and download ---------------------------------------------------------------------


def md5_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(DOWNLOAD_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_md5(path: Path, expected: str | None, *, what: str) -> str:
    """The file's MD5; a DataError when it differs from ``expected`` (case-insensitive)."""
    actual = md5_file(path)
    if expected and actual != expected.strip().lower():
        raise DataError(f"{what} has MD5 {actual}, expected {expected.strip().lower()}: the file is corrupt, "
                        "incomplete or not the archive you meant",
                        hint="download it again, or pass the checksum that belongs to this file")
    return actual


def expected_md5_for(url: str) -> str | None:
    """The official checksum for the official URL; other URLs have none unless the user gives one."""
    return DEFAULT_CIFAR_MD5 if url == DEFAULT_CIFAR_URL else None


def cache_path_for(url: str, cache_dir: Path) -> Path:
    """``<cache>/cifar/<url digest>/<file name>``: two URLs never share a cached file."""
    name = posixpath.basename(urlparse(url).path) or "cifar-100-python.tar.gz"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".") or "download"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return cache_dir / "cifar" / digest / safe


def _retriable(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code >= 500 or exc.code in (408, 429)
    return isinstance(exc, urllib.error.URLError | OSError | EOFError | http.client.HTTPException)


def download(url: str, cache_dir: Path, *, md5: str | None = None, retries: int = 3, timeout: float = 60.0,
             show_progress: bool = True, sleep: Callable[[float], None] = time.sleep) -> Path:
    """Fetch ``url`` into the cache (reused when its checksum still matches) and return the file.

    The download goes to ``<name>.part`` and is renamed only after its checksum
    matched, so an interrupted or corrupt download never looks like a good one.
    """
    target = cache_path_for(url, cache_dir)
    if target.is_file():
        if not md5 or md5_file(target) == md5.lower():
            LOG.info("using cached %s", target)
            return target
        # Kept until a download that matches replaces it: the expected checksum may be the mistake.
        LOG.warning("cached %s does not match the expected checksum; downloading again", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    last: BaseException | None = None
    for attempt in range(1, retries + 1):
        try:
            _download_once(url, part, timeout=timeout, show_progress=show_progress)
            break
        except (urllib.error.URLError, OSError, EOFError, ValueError, http.client.HTTPException) as exc:
            last = exc
            part.unlink(missing_ok=True)
            if not _retriable(exc) or attempt == retries:
                break
            delay = RETRY_BASE_DELAY * 2.0 ** (attempt - 1)
            LOG.warning("download of %s failed (%s); retry %d/%d in %.0f s", url, exc, attempt, retries - 1, delay)
            sleep(delay)
    if not part.is_file():
        reason = getattr(last, "reason", None) or last
        raise DataError(f"Could not download {url}: {reason}", hint=LOCAL_SOURCE_HINT) from last
    try:
        if md5:
            verify_md5(part, md5, what=f"The download of {url}")
        else:  # the checksum, when known, already proves the bytes; otherwise check the gzip stream
            _check_gzip_stream(part, url)
    except DataError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)
    return target


def _check_gzip_stream(path: Path, url: str) -> None:
    """Without a known checksum, refuse to cache what is not a whole, intact gzip stream (a login
    page served with status 200, a corrupted transfer): cached, it would be reused on every later
    run without a new download. Reading the stream through checks gzip's CRC (~1 s for CIFAR-100)."""
    import gzip

    with open(path, "rb") as fh:
        head = fh.read(64)
    if not head.startswith(b"\x1f\x8b"):
        shown = head[:40].decode("ascii", "replace").replace("\n", " ")
        raise DataError(f"{url} did not answer with a .tar.gz archive (it starts with {shown!r})",
                        hint="check the URL, or pass a local copy of cifar-100-python.tar.gz with --source")
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"The download of {url} is corrupt or incomplete ({exc}); it was not kept",
                        hint="run the command again to download it afresh") from exc


def _download_once(url: str, dest: Path, *, timeout: float, show_progress: bool) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "scones"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        with progress(total=total, unit="B", unit_scale=True, unit_divisor=1024, enabled=show_progress,
                      desc=f"download {posixpath.basename(urlparse(url).path)}") as bar:
            received = 0
            for chunk in iter(lambda: response.read(DOWNLOAD_CHUNK), b""):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
        if total is not None and received != total:
            raise EOFError(f"connection closed after {received} of {total} bytes")


# -- the archive -------------------------------------------------------------------------------


def _check_member(member: tarfile.TarInfo, archive: str) -> str | None:
    """The member's normalised name, None for folders; a DataError for anything that could land outside."""
    name = member.name
    if "\x00" in name or "\\" in name:
        raise DataError(f"{archive}: member {name!r} has a NUL or backslash in its name; refusing the archive")
    if name.startswith("/") or posixpath.isabs(name):
        raise DataError(f"{archive}: member {name!r} has an absolute path; refusing the archive")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise DataError(f"{archive}: member {name!r} would land outside the target folder; refusing the archive")
    if member.issym() or member.islnk():
        raise DataError(f"{archive}: member {name!r} is a link (to {member.linkname!r}); refusing the archive")
    if member.isdir():
        return None
    if not member.isreg():
        raise DataError(f"{archive}: member {name!r} is a device, FIFO or other special file; refusing the archive")
    return "/".join(parts)


def read_archive_members(path: Path, wanted: Iterable[str] | None = None) -> dict[str, bytes]:
    """Check every member of a ``.tar.gz`` and return the bytes of the wanted regular files, in memory."""
    wanted_set = set(wanted) if wanted is not None else {f"{ARCHIVE_ROOT}/{m}" for m in MEMBERS}
    found: dict[str, bytes] = {}
    seen: set[str] = set()
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                name = _check_member(member, str(path))
                if name is None:
                    continue
                if name in seen:
                    raise DataError(f"{path}: member {name!r} appears twice; refusing the archive")
                seen.add(name)
                if name not in wanted_set:
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    raise DataError(f"{path}: member {name!r} is {member.size} bytes, more than CIFAR-100 needs")
                handle = tar.extractfile(member)
                assert handle is not None  # a regular file always has one
                found[name] = handle.read()
                if len(found[name]) != member.size:
                    raise EOFError(f"member {name!r} is cut short")
            # tarfile stops at the end-of-archive blocks, before gzip's trailer: read on to the end
            # so the CRC and length are checked (a flipped byte otherwise passes unseen).
            while tar.fileobj is not None and tar.fileobj.read(1 << 20):
                pass
    except DataError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataError(f"{path} is not a readable .tar.gz archive (truncated or corrupt?): {exc}",
                        hint="download it again; the official archive is cifar-100-python.tar.gz") from exc
    missing = sorted(wanted_set - set(found))
    if missing:
        raise DataError(f"{path} is not in the CIFAR-100 python layout: it lacks {', '.join(missing)}",
                        hint="use the official cifar-100-python.tar.gz (cifar-100-python/meta, train, test)")
    return found


# -- restricted unpickling ---------------------------------------------------------------------


class _NdarrayType:
    """Stands for ``numpy.ndarray`` inside a pickle; deliberately not callable."""


_NDARRAY = _NdarrayType()
_BYTE_ORDERS: Final = ("|", "<", ">", "=")


def _safe_codecs_encode(text: Any, encoding: Any = "utf-8", *_: Any) -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"pickle calls _codecs.encode with {type(text).__name__}, {encoding!r}; "
                                "CIFAR pickles only encode text as latin1")
    return text.encode("latin1")


def _plain_dtype(spec: Any) -> Any:
    import numpy as np

    if isinstance(spec, bytes):
        spec = spec.decode("latin1")
    if not isinstance(spec, str) or not 1 <= len(spec) <= 3:
        raise UnsafePickleError(f"pickle asks for numpy dtype {spec!r}; only plain numbers are admitted")
    try:
        dtype = np.dtype(spec)
    except TypeError as exc:
        raise UnsafePickleError(f"pickle asks for an unknown numpy dtype {spec!r}") from exc
    if dtype.kind not in "biuf" or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise UnsafePickleError(f"pickle asks for numpy dtype {dtype}; only plain numbers are admitted")
    return dtype


class _DtypeToken:
    """What ``numpy.dtype(...)`` gives inside a CIFAR pickle.

    numpy's own ``dtype.__setstate__`` would accept any flags a file claims
    (e.g. "holds object pointers"), so the state is checked here instead and
    numpy only ever sees a plain dtype built from a short type code.
    """

    __slots__ = ("dtype",)

    def __init__(self, spec: Any, align: Any = False, copy: Any = True, *extra: Any) -> None:
        if extra or not isinstance(align, bool | int) or not isinstance(copy, bool | int):
            raise UnsafePickleError("pickle calls numpy.dtype with unexpected arguments")
        self.dtype = _plain_dtype(spec)

    def __setstate__(self, state: Any) -> None:
        plain_tail = (None, None, None, -1, -1, 0)
        if not (isinstance(state, tuple) and len(state) in (8, 9) and state[0] in (3, 4)
                and state[1] in _BYTE_ORDERS and state[2:8] == plain_tail
                and (len(state) == 8 or state[8] in (None, {}))):
            raise UnsafePickleError(f"pickle gives a numpy dtype the state {state!r:.120}; only plain numbers "
                                    "are admitted")
        if state[1] in ("<", ">") and self.dtype.itemsize > 1:
            self.dtype = self.dtype.newbyteorder(state[1])


class _ArrayToken:
    """What ``_reconstruct(ndarray, ...)`` gives; its state becomes a numpy array over the pickled bytes."""

    __slots__ = ("array",)

    def __init__(self) -> None:
        self.array: Any = None

    def __setstate__(self, state: Any) -> None:
        import numpy as np

        if isinstance(state, tuple) and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if not (isinstance(state, tuple) and len(state) == 4):
            raise UnsafePickleError("pickle gives a numpy array an unexpected state")
        shape, dtype, fortran, raw = state
        if not isinstance(dtype, _DtypeToken):
            raise UnsafePickleError("pickle gives a numpy array a dtype that was not built as a plain number type")
        if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape) and len(shape) <= 4):
            raise UnsafePickleError(f"pickle gives a numpy array the shape {shape!r:.80}")
        if not isinstance(fortran, bool | int):
            raise UnsafePickleError("pickle gives a numpy array a non-boolean order flag")
        if isinstance(raw, str):  # Python 2 byte strings arrive as latin-1 text
            raw = raw.encode("latin1")
        if not isinstance(raw, bytes):
            raise UnsafePickleError(f"pickle gives a numpy array {type(raw).__name__} data; only raw bytes are "
                                    "admitted")
        count = 1
        for n in shape:
            count *= n
        if count * dtype.dtype.itemsize != len(raw):
            raise UnsafePickleError(f"pickle gives a numpy array of shape {shape} {len(raw)} bytes of data")
        self.array = np.frombuffer(raw, dtype=dtype.dtype).reshape(shape, order="F" if fortran else "C")


def _safe_reconstruct(subtype: Any, shape: Any, dtype_code: Any) -> _ArrayToken:
    if subtype is not _NDARRAY:
        raise UnsafePickleError(f"pickle reconstructs an array of type {subtype!r}; only numpy.ndarray is admitted")
    if not isinstance(shape, tuple) or len(shape) > 1 or not all(type(n) is int and 0 <= n <= 1 for n in shape):
        raise UnsafePickleError(f"pickle reconstructs an array with placeholder shape {shape!r:.80}")
    _plain_dtype(dtype_code)
    return _ArrayToken()


def _resolve(obj: Any) -> Any:
    """Replace the tokens in an unpickled tree by the numpy objects they stand for."""
    if isinstance(obj, _ArrayToken):
        if obj.array is None:
            raise UnsafePickleError("pickle reconstructs a numpy array without giving it data")
        return obj.array
    if isinstance(obj, _DtypeToken):
        return obj.dtype
    if isinstance(obj, dict):
        return {_resolve(k): _resolve(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_resolve(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_resolve(v) for v in obj)
    if obj is _NDARRAY:
        raise UnsafePickleError("pickle holds numpy.ndarray itself rather than an array")
    return obj


#: (module, name) -> what the pickle gets. Exactly what CIFAR's pickles reference.
_ALLOWED_GLOBALS: Final[dict[tuple[str, str], Any]] = {
    ("_codecs", "encode"): _safe_codecs_encode,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DtypeToken,
    ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can build only dicts, lists, tuples, text, bytes, numbers and numeric numpy arrays.

    Python 2 pickles go through ``fix_imports`` too, but ``find_class`` sees the
    names as written, so the table below is matched exactly.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load {module}.{name}: CIFAR pickles never contain it, and loading it could run code",
                hint="this file is not a genuine CIFAR-100 pickle; use the official archive") from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refusing a pickle with persistent references; CIFAR pickles have none")


def safe_unpickle(data: bytes | IO[bytes], *, what: str) -> Any:
    """Load a CIFAR pickle (Python 2 or 3) with the restricted unpickler; errors name ``what``."""
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    try:
        # latin1 maps Python 2 byte strings (including numpy's raw array data) losslessly.
        return _resolve(RestrictedUnpickler(stream, encoding="latin1").load())
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{what}: {exc.message}", hint=exc.hint) from None
    except Exception as exc:  # any failure inside pickle's machinery means a corrupt file
        raise DataError(f"{what} is not a readable CIFAR pickle: {type(exc).__name__}: {exc}",
                        hint="download the archive again") from exc


# -- validation --------------------------------------------------------------------------------


def _text(value: Any, what: str) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{what} is not text: {value[:40]!r}") from exc
    if isinstance(value, str):
        return value
    raise DataError(f"{what} should be text, got {type(value).__name__}")


def _as_dict(obj: Any, what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise DataError(f"{what} should hold a dict, got {type(obj).__name__}")
    return {_text(k, f"a key of {what}"): v for k, v in obj.items()}


def _require(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    if key not in doc:
        raise DataError(f"{what} lacks the key {key!r} (it has {', '.join(sorted(doc)) or 'none'})")
    value = doc[key]
    if not isinstance(value, kind):
        raise DataError(f"{what}[{key!r}] should be a {getattr(kind, '__name__', kind)}, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class CifarMeta:
    fine_names: tuple[str, ...]
    coarse_names: tuple[str, ...]


@dataclass(frozen=True)
class CifarSplit:
    """One split, validated: ``data`` is N×3072 uint8 (channel-planar R, G, B rows of 32×32)."""

    name: str
    data: np.ndarray
    fine_labels: np.ndarray
    coarse_labels: np.ndarray
    filenames: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.data.shape[0])


@dataclass(frozen=True)
class CifarArchive:
    path: Path
    md5: str
    meta: CifarMeta
    splits: dict[str, CifarSplit]


def parse_meta(obj: Any, *, what: str = "meta") -> CifarMeta:
    doc = _as_dict(obj, what)
    names = []
    for key in ("fine_label_names", "coarse_label_names"):
        raw = _require(doc, key, list, what)
        values = tuple(_text(v, f"{what}[{key!r}]") for v in raw)
        if not values or len(set(values)) != len(values) or not all(values):
            raise DataError(f"{what}[{key!r}] must be non-empty, distinct names")
        names.append(values)
    return CifarMeta(fine_names=names[0], coarse_names=names[1])


def _labels(raw: Any, n: int, limit: int, key: str, what: str) -> np.ndarray:
    import numpy as np

    if not isinstance(raw, list) or len(raw) != n:
        got = len(raw) if isinstance(raw, list) else type(raw).__name__
        raise DataError(f"{what}[{key!r}] should be a list of {n} labels (one per row), got {got}")
    if not all(type(v) is int for v in raw):
        raise DataError(f"{what}[{key!r}] should hold integers")
    labels = np.asarray(raw, dtype=np.int64).reshape(n)
    if n and (labels.min() < 0 or labels.max() >= limit):
        bad = int(labels[(labels < 0) | (labels >= limit)][0])
        raise DataError(f"{what}[{key!r}] holds label {bad}, outside 0..{limit - 1}")
    return labels


def parse_split(obj: Any, meta: CifarMeta, *, name: str, what: str | None = None) -> CifarSplit:
    import numpy as np

    what = what or name
    doc = _as_dict(obj, what)
    data = _require(doc, "data", np.ndarray, what)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != ROW_BYTES:
        raise DataError(f"{what}['data'] should be N×{ROW_BYTES} uint8 (32×32 RGB rows), got "
                        f"{'×'.join(map(str, data.shape))} {data.dtype}")
    n = int(data.shape[0])
    fine = _labels(doc.get("fine_labels"), n, len(meta.fine_names), "fine_labels", what)
    coarse = _labels(doc.get("coarse_labels"), n, len(meta.coarse_names), "coarse_labels", what)
    raw_names = _require(doc, "filenames", list, what)
    if len(raw_names) != n:
        raise DataError(f"{what}['filenames'] has {len(raw_names)} names for {n} rows")
    filenames = tuple(_text(v, f"{what}['filenames']") for v in raw_names)
    return CifarSplit(name=name, data=data, fine_labels=fine, coarse_labels=coarse, filenames=filenames)


def read_archive(path: str | os.PathLike[str], *, expected_md5: str | None = None) -> CifarArchive:
    """Verify, open and validate a CIFAR-100 python archive; nothing is written anywhere."""
    archive = Path(path)
    if not archive.is_file():
        raise DataError(f"No CIFAR-100 archive at {archive}", hint=LOCAL_SOURCE_HINT)
    md5 = verify_md5(archive, expected_md5, what=str(archive))
    members = read_archive_members(archive)
    meta = parse_meta(safe_unpickle(members[f"{ARCHIVE_ROOT}/meta"], what=f"{archive}: meta"),
                      what=f"{archive}: meta")
    splits = {}
    for split in SPLITS:
        label = f"{archive}: {split}"
        splits[split] = parse_split(safe_unpickle(members.pop(f"{ARCHIVE_ROOT}/{split}"), what=label), meta,
                                    name=split, what=label)
    # The coarse label of a fine class is fixed; a file that disagrees is not CIFAR-100.
    pairs: dict[int, int] = {}
    for parsed in splits.values():
        for fine, coarse in set(zip(parsed.fine_labels.tolist(), parsed.coarse_labels.tolist(), strict=True)):
            if pairs.setdefault(fine, coarse) != coarse:
                raise DataError(f"{archive}: fine class {meta.fine_names[fine]!r} appears under two coarse classes")
    return CifarArchive(path=archive, md5=md5, meta=meta, splits=splits)


# -- class selection ---------------------------------------------------------------------------


def resolve_classes(requested: Sequence[str], archive: CifarArchive) -> list[int]:
    """Fine class indices for names that are fine names or coarse names (all of its fine classes).

    The result keeps the order given (a coarse name expands in fine-index order)
    without repeats; that order is the label order 0..k-1.
    """
    meta = archive.meta
    fine_index = {n: i for i, n in enumerate(meta.fine_names)}
    coarse_index = {n: i for i, n in enumerate(meta.coarse_names)}
    names = [n.strip() for n in requested if n.strip()]
    if not names:
        raise DataError("No classes were given", hint="name at least one, e.g. --classes bicycle,motorcycle")
    chosen: list[int] = []
    for name in names:
        if name in fine_index:
            found = [fine_index[name]]
        elif name in coarse_index:
            coarse = coarse_index[name]
            found = sorted({int(f) for s in archive.splits.values()
                            for f in s.fine_labels[s.coarse_labels == coarse].tolist()})
            if not found:
                raise DataError(f"Coarse class {name!r} has no images in {archive.path}")
        else:
            close = difflib.get_close_matches(name, [*meta.fine_names, *meta.coarse_names], n=5, cutoff=0.6)
            suggestion = f"closest: {', '.join(close)}" if close else "see the 100 fine and 20 coarse CIFAR-100 names"
            raise DataError(f"Unknown CIFAR-100 class {name!r}", hint=suggestion)
        chosen.extend(f for f in found if f not in chosen)
    return chosen

