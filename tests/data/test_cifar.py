"""Reading CIFAR-100 archives: checksums, download, tar member checks, the restricted unpickler, validation."""

from __future__ import annotations

import codecs
import hashlib
import os
import pickle
import socket
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from archive_server import ArchiveServer
from cifar_factory import (
    ReduceTo,
    archive_members,
    make_cifar,
    pickle_py2,
    pickle_py3,
    tar_member,
    write_archive,
    write_tar_gz,
)

from scones.data.cifar import (
    LOCAL_SOURCE_HINT,
    UnsafePickleError,
    cache_path_for,
    download,
    read_archive,
    resolve_classes,
    safe_unpickle,
)
from scones.errors import DataError, SconesError

# -- reading good archives ---------------------------------------------------------------------


@pytest.mark.parametrize("style", ["py2", "py3", "py3-protocol4"])
def test_reads_archives_written_by_python2_and_python3(tmp_path: Path, style: str) -> None:
    cifar = make_cifar()
    path = write_archive(tmp_path / "c.tar.gz", cifar, style=style)
    archive = read_archive(path)
    assert archive.md5 == hashlib.md5(path.read_bytes()).hexdigest()
    assert list(archive.meta.fine_names) == cifar.meta["fine_label_names"]
    assert list(archive.meta.coarse_names) == cifar.meta["coarse_label_names"]
    for name in ("train", "test"):
        split, expected = archive.splits[name], cifar.split(name)
        assert split.data.dtype == np.uint8 and split.data.shape == (len(expected["filenames"]), 3072)
        assert np.array_equal(split.data, expected["data"])
        assert split.fine_labels.tolist() == expected["fine_labels"]
        assert split.coarse_labels.tolist() == expected["coarse_labels"]
        assert list(split.filenames) == expected["filenames"]


def test_expected_md5(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "c.tar.gz", make_cifar())
    good = hashlib.md5(path.read_bytes()).hexdigest()
    assert read_archive(path, expected_md5=good.upper()).md5 == good
    with pytest.raises(DataError, match=f"has MD5 {good}, expected 0{{32}}"):
        read_archive(path, expected_md5="0" * 32)


def test_missing_archive_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="No CIFAR-100 archive") as exc:
        read_archive(tmp_path / "nope.tar.gz")
    assert exc.value.hint == LOCAL_SOURCE_HINT


# -- the restricted unpickler ------------------------------------------------------------------


def _evil_pickles(marker: Path) -> dict[str, bytes]:
    command = f"touch {marker}"
    return {
        "os.system": pickle.dumps(ReduceTo(os.system, command), protocol=2),
        "os.system-protocol0": pickle.dumps(ReduceTo(os.system, command), protocol=0),
        "subprocess.call": pickle.dumps(ReduceTo(subprocess.call, ["touch", str(marker)]), protocol=4),
        "builtins.exec": pickle.dumps(ReduceTo(exec, f"open({str(marker)!r}, 'w').close()"), protocol=2),
        "builtins.getattr": pickle.dumps(ReduceTo(getattr, ReduceTo(__import__, "os"), "system"), protocol=2),
        "nested-in-dict": pickle.dumps({b"data": [ReduceTo(os.system, command)]}, protocol=2),
        "codecs-zlib": pickle.dumps(ReduceTo(codecs.encode, b"x" * 10, "zlib"), protocol=2),
        "codecs-rot13": b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x05\x00\x00\x00rot13\x86R.",
        "object-array": pickle.dumps(np.array([1, "x"], dtype=object), protocol=2),
        "reconstruct-other-type": (b"\x80\x02cnumpy._core.multiarray\n_reconstruct\n"
                                   b"c_codecs\nencode\nK\x00\x85U\x01b\x87R."),
        "call-ndarray": b"\x80\x02cnumpy\nndarray\nK\x05\x85R.",
        "persistent-id": b"\x80\x02U\x01xQ.",
        "array-without-state": b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R.",
    }


def test_the_evil_payload_is_real(tmp_path: Path) -> None:
    """A plain unpickler runs it (here: a harmless touch), which is why CIFAR files need the restricted one."""
    marker = tmp_path / "pwned"
    pickle.loads(_evil_pickles(marker)["os.system"])
    assert marker.exists()


@pytest.mark.parametrize("name", list(_evil_pickles(Path("/x"))))
def test_pickles_that_could_run_code_are_refused(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "pwned"
    data = _evil_pickles(marker)[name]
    with pytest.raises(DataError) as exc:
        safe_unpickle(data, what="cifar-100-python/train")
    assert str(exc.value).startswith("cifar-100-python/train")
    assert not marker.exists()


def test_code_executing_pickle_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(UnsafePickleError, match=r"refusing to load (posix|os)\.system"):
        safe_unpickle(pickle.dumps(ReduceTo(os.system, "true"), protocol=2), what="train")


def test_dtype_state_claiming_object_pointers_is_refused() -> None:
    # numpy's own dtype.__setstate__ would accept these flags; bytes would then be read as pointers.
    good = pickle_py2({"data": np.zeros((1, 4), dtype=np.uint8)})
    plain_state = b"J\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    assert good.count(plain_state) == 1
    assert safe_unpickle(good, what="x")["data"].shape == (1, 4)
    with pytest.raises(UnsafePickleError, match="dtype the state"):
        safe_unpickle(good.replace(plain_state, plain_state.replace(b"K\x00t", b"K\x3ft")), what="x")


def test_array_state_with_wrong_data_length_is_refused() -> None:
    data = pickle_py2({"data": np.zeros((2, 4), dtype=np.uint8)})
    with pytest.raises(UnsafePickleError, match="of shape"):
        safe_unpickle(data.replace(b"K\x02K\x04t", b"K\x09K\x04t"), what="x")


@pytest.mark.parametrize("data", [b"", b"\x80\x02}(", b"not a pickle", b"\x80\x02]q\x00(K\x01K\x02e"],
                         ids=["empty", "cut-short", "garbage", "no-stop"])
def test_corrupt_pickles_are_data_errors(data: bytes) -> None:
    with pytest.raises(DataError, match="not a readable CIFAR pickle"):
        safe_unpickle(data, what="meta")


def test_safe_pickles_of_plain_values_load() -> None:
    value = {b"a": [1, 2, 3], b"b": (b"x", "y", 1.5, None, True), b"n": np.arange(6, dtype=np.int64).reshape(2, 3)}
    loaded = safe_unpickle(pickle.dumps(value, protocol=2), what="x")
    assert loaded[b"a"] == [1, 2, 3] and loaded[b"b"] == (b"x", "y", 1.5, None, True)
    assert np.array_equal(loaded[b"n"], value[b"n"])


# -- tar members -------------------------------------------------------------------------------


def _with_member(tmp_path: Path, member: tuple[tarfile.TarInfo, bytes | None]) -> Path:
    return write_tar_gz(tmp_path / "bad.tar.gz", [*archive_members(make_cifar()), member])


@pytest.mark.parametrize("member, message", [
    (tar_member("../evil.txt", b"x"), "would land outside"),
    (tar_member("cifar-100-python/../../evil.txt", b"x"), "would land outside"),
    (tar_member("/tmp/evil.txt", b"x"), "absolute path"),
    (tar_member("cifar-100-python/link", kind=tarfile.SYMTYPE, linkname="/etc/passwd"), "is a link"),
    (tar_member("cifar-100-python/rel-link", kind=tarfile.SYMTYPE, linkname="../../x"), "is a link"),
    (tar_member("cifar-100-python/hard", kind=tarfile.LNKTYPE, linkname="cifar-100-python/meta"), "is a link"),
    (tar_member("cifar-100-python/dev", kind=tarfile.CHRTYPE), "device"),
    (tar_member("cifar-100-python/fifo", kind=tarfile.FIFOTYPE), "device"),
    (tar_member("cifar-100-python/meta", b"again"), "appears twice"),
], ids=["dotdot", "nested-dotdot", "absolute", "symlink-absolute", "symlink-relative", "hardlink",
        "char-device", "fifo", "duplicate"])
def test_unsafe_members_refuse_the_whole_archive(tmp_path: Path, member: tuple[tarfile.TarInfo, bytes | None],
                                                  message: str) -> None:
    path = _with_member(tmp_path, member)
    with tarfile.open(path) as tar:  # the member really is in the file as written
        assert member[0].name in tar.getnames()
    with pytest.raises(DataError, match=message):
        read_archive(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tar.gz"]


def test_missing_member(tmp_path: Path) -> None:
    members = [m for m in archive_members(make_cifar()) if m[0].name != "cifar-100-python/test"]
    with pytest.raises(DataError, match="lacks cifar-100-python/test"):
        read_archive(write_tar_gz(tmp_path / "c.tar.gz", members))


def test_truncated_gzip(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "c.tar.gz", make_cifar())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match="not a readable .tar.gz archive"):
        read_archive(path)


@pytest.mark.parametrize("cut", [8, 30], ids=["no-trailer", "trailer-and-padding-gone"])
def test_gzip_trailer_is_checked(tmp_path: Path, cut: int) -> None:
    """tarfile stops reading at the end-of-archive blocks: without reading on, a missing gzip
    trailer (and so a CRC never checked) passes unseen."""
    path = write_archive(tmp_path / "c.tar.gz", make_cifar())
    path.write_bytes(path.read_bytes()[:-cut])
    with pytest.raises(DataError, match="not a readable .tar.gz archive"):
        read_archive(path)


def test_flipped_byte_fails_the_crc(tmp_path: Path) -> None:
    import gzip
    import zlib

    path = write_archive(tmp_path / "c.tar.gz", make_cifar())
    data = bytearray(path.read_bytes())
    data[-8] ^= 0xFF  # the CRC-32 in gzip's trailer: the content no longer matches it
    path.write_bytes(bytes(data))
    with pytest.raises((OSError, zlib.error)):
        gzip.decompress(bytes(data))
    with pytest.raises(DataError, match="not a readable .tar.gz archive.*CRC"):
        read_archive(path)


@pytest.mark.parametrize("content", [b"", b"plain text, not gzip", b"\x1f\x8b\x08\x00garbage"],
                         ids=["empty", "text", "bad-gzip"])
def test_not_an_archive(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.tar.gz"
    path.write_bytes(content)
    with pytest.raises(DataError, match="not a readable .tar.gz archive"):
        read_archive(path)


def test_evil_pickle_inside_archive_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = pickle.dumps(ReduceTo(os.system, f"touch {marker}"), protocol=2)
    path = write_archive(tmp_path / "c.tar.gz", make_cifar(), override={"train": evil})
    with pytest.raises(UnsafePickleError, match="train: refusing to load"):
        read_archive(path)
    assert not marker.exists()


# -- validation --------------------------------------------------------------------------------


def _broken(change: str) -> tuple[dict[str, Any], dict[str, Any]]:
    cifar = make_cifar()
    train, meta = cifar.train, cifar.meta
    n = len(train["filenames"])
    if change == "columns":
        train["data"] = train["data"][:, :3071]
    elif change == "one-dimensional":
        train["data"] = train["data"].reshape(-1)
    elif change == "int16":
        train["data"] = train["data"].astype(np.int16)
    elif change == "float":
        train["data"] = train["data"].astype(np.float32)
    elif change == "short-labels":
        train["fine_labels"] = train["fine_labels"][:-1]
    elif change == "label-range":
        train["fine_labels"][0] = 100
    elif change == "negative-label":
        train["coarse_labels"][0] = -1
    elif change == "label-type":
        train["fine_labels"][0] = "8"
    elif change == "short-filenames":
        train["filenames"] = train["filenames"][: n - 2]
    elif change == "no-data":
        del train["data"]
    elif change == "no-filenames":
        del train["filenames"]
    elif change == "split-not-dict":
        cifar.train = [1, 2, 3]  # type: ignore[assignment]
    elif change == "meta-no-fine":
        del meta["fine_label_names"]
    elif change == "meta-duplicate":
        meta["fine_label_names"][1] = meta["fine_label_names"][0]
    elif change == "two-coarse":
        row = train["fine_labels"].index(8)
        train["coarse_labels"][row] = 4
    return cifar.meta, cifar.train


BROKEN = {
    "columns": "should be N×3072 uint8", "one-dimensional": "should be N×3072 uint8",
    "int16": "should be N×3072 uint8", "float": "should be N×3072 uint8",
    "short-labels": "list of 18 labels", "label-range": "label 100, outside 0..99",
    "negative-label": "label -1, outside 0..19", "label-type": "should hold integers",
    "short-filenames": "16 names for 18 rows", "no-data": "lacks the key 'data'",
    "no-filenames": "lacks the key 'filenames'", "split-not-dict": "should hold a dict",
    "meta-no-fine": "lacks the key 'fine_label_names'", "meta-duplicate": "distinct names",
    "two-coarse": "appears under two coarse classes",
}


@pytest.mark.parametrize("change, style", [(c, s) for c in BROKEN for s in ("py2", "py3")
                                           if (c, s) != ("split-not-dict", "py2")])  # py2 writer: dicts only
def test_wrong_shapes_and_labels_are_refused(tmp_path: Path, change: str, style: str) -> None:
    meta, train = _broken(change)
    dump = pickle_py2 if style == "py2" else pickle_py3
    path = write_archive(tmp_path / "c.tar.gz", make_cifar(), style=style,
                         override={"meta": dump(meta), "train": dump(train)})
    with pytest.raises(DataError, match=BROKEN[change]):
        read_archive(path)


# -- classes -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return read_archive(write_archive(tmp_path_factory.mktemp("a") / "c.tar.gz", make_cifar()))


def test_fine_names_keep_the_given_order(archive: Any) -> None:
    assert resolve_classes(["motorcycle", "bicycle"], archive) == [48, 8]
    assert resolve_classes([" bicycle ", "bicycle", "apple"], archive) == [8, 0]


def test_coarse_name_selects_all_its_fine_classes(archive: Any) -> None:
    assert resolve_classes(["vehicles_1"], archive) == [8, 13, 48, 58]
    assert resolve_classes(["motorcycle", "vehicles_1"], archive) == [48, 8, 13, 58]


@pytest.mark.parametrize("name, closest", [("bicycel", "bicycle"), ("motorbike", "motorcycle"),
                                           ("vehicles1", "vehicles_1")])
def test_unknown_class_lists_the_closest_names(archive: Any, name: str, closest: str) -> None:
    with pytest.raises(DataError, match=f"Unknown CIFAR-100 class '{name}'") as exc:
        resolve_classes([name], archive)
    assert exc.value.hint is not None and closest in exc.value.hint


def test_no_classes(archive: Any) -> None:
    with pytest.raises(DataError, match="No classes"):
        resolve_classes([" ", ""], archive)


# -- download ----------------------------------------------------------------------------------


@pytest.fixture
def served(archive_server: ArchiveServer, tmp_path: Path) -> tuple[ArchiveServer, bytes, str]:
    data = write_archive(tmp_path / "served.tar.gz", make_cifar()).read_bytes()
    archive_server.files["/cifar-100-python.tar.gz"] = data
    return archive_server, data, hashlib.md5(data).hexdigest()


def test_download_verifies_and_caches(served: tuple[ArchiveServer, bytes, str], tmp_path: Path) -> None:
    server, data, md5 = served
    url = server.url("cifar-100-python.tar.gz")
    path = download(url, tmp_path / "cache", md5=md5, show_progress=False)
    assert path.parent.parent == tmp_path / "cache" / "cifar" and path.name == "cifar-100-python.tar.gz"
    assert cache_path_for(server.url("other/cifar-100-python.tar.gz"), tmp_path / "cache") != path
    assert path.read_bytes() == data
    assert download(url, tmp_path / "cache", md5=md5, show_progress=False) == path
    assert len(server.requests) == 1  # the second call used the cache
    path.write_bytes(b"corrupted cache")
    assert download(url, tmp_path / "cache", md5=md5, show_progress=False).read_bytes() == data
    assert len(server.requests) == 2
    assert sorted(p.name for p in path.parent.iterdir()) == ["cifar-100-python.tar.gz"]


def test_download_with_wrong_checksum_keeps_nothing(served: tuple[ArchiveServer, bytes, str],
                                                    tmp_path: Path) -> None:
    server, _, md5 = served
    with pytest.raises(DataError, match=f"has MD5 {md5}, expected f{{32}}"):
        download(server.url("cifar-100-python.tar.gz"), tmp_path / "cache", md5="f" * 32, show_progress=False)
    assert [p for p in (tmp_path / "cache" / "cifar").rglob("*") if p.is_file()] == []


def test_a_mistyped_checksum_does_not_destroy_a_good_cached_download(served: tuple[ArchiveServer, bytes, str],
                                                                     tmp_path: Path) -> None:
    server, data, md5 = served
    url = server.url("cifar-100-python.tar.gz")
    path = download(url, tmp_path / "cache", md5=md5, show_progress=False)
    with pytest.raises(DataError, match="expected f{32}"):
        download(url, tmp_path / "cache", md5="f" * 32, show_progress=False)
    assert path.read_bytes() == data  # still there for the next run with the right checksum
    assert download(url, tmp_path / "cache", md5=md5, show_progress=False) == path


def test_a_page_that_is_not_gzip_is_not_cached(archive_server: ArchiveServer, tmp_path: Path) -> None:
    """Without a known checksum (any URL but the official one), an HTML page served with 200 used
    to be cached and reused forever."""
    archive_server.files["/login.tar.gz"] = b"<html><body>Please sign in</body></html>"
    url = archive_server.url("login.tar.gz")
    for _ in range(2):  # the second attempt downloads again: nothing bad was cached
        with pytest.raises(DataError, match="did not answer with a .tar.gz archive .*<html><body>Please sign in"):
            download(url, tmp_path / "cache", show_progress=False)
    assert len(archive_server.requests) == 2
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_a_corrupt_gzip_download_is_not_cached(served: tuple[ArchiveServer, bytes, str], tmp_path: Path) -> None:
    server, data, _ = served
    broken = bytearray(data)
    broken[-8] ^= 0xFF  # CRC no longer matches
    server.files["/broken.tar.gz"] = bytes(broken)
    url = server.url("broken.tar.gz")
    for _ in range(2):
        with pytest.raises(DataError, match="is corrupt or incomplete"):
            download(url, tmp_path / "cache", show_progress=False)
    assert len(server.requests) == 2  # the second run downloaded again
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_download_retries_transient_failures(served: tuple[ArchiveServer, bytes, str], tmp_path: Path) -> None:
    server, data, md5 = served
    server.fail_next = [503, "truncate"]
    delays: list[float] = []
    path = download(server.url("cifar-100-python.tar.gz"), tmp_path / "cache", md5=md5, show_progress=False,
                    sleep=delays.append)
    assert path.read_bytes() == data
    assert len(server.requests) == 3 and delays == [1.0, 2.0]


def test_download_gives_up_with_a_local_source_hint(served: tuple[ArchiveServer, bytes, str], tmp_path: Path) -> None:
    server, _, md5 = served
    server.fail_next = [500, 500, 500]
    with pytest.raises(DataError, match="Could not download .*Internal Server Error") as exc:
        download(server.url("cifar-100-python.tar.gz"), tmp_path / "cache", md5=md5, show_progress=False,
                 sleep=lambda s: None)
    assert len(server.requests) == 3
    assert "--source /path/to/cifar-100-python.tar.gz" in str(exc.value)
    assert "SCONES_CIFAR_SOURCE" in str(exc.value)
    assert [p for p in (tmp_path / "cache" / "cifar").rglob("*") if p.is_file()] == []


def test_download_does_not_retry_not_found(archive_server: ArchiveServer, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Could not download .*Not Found"):
        download(archive_server.url("missing.tar.gz"), tmp_path / "cache", show_progress=False,
                 sleep=lambda s: None)
    assert len(archive_server.requests) == 1


def test_download_from_unreachable_host(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SconesError, match="Could not download") as exc:
        download(f"http://127.0.0.1:{port}/cifar-100-python.tar.gz", tmp_path / "cache", retries=2,
                 show_progress=False, sleep=lambda s: None)
    assert exc.value.hint == LOCAL_SOURCE_HINT
