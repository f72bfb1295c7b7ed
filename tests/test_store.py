"""The store contract, checked on every backend: a local folder, S3 through moto in-process, and S3 over HTTP."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from scones.errors import NotFoundError, StoreError, UnsafeKeyError
from scones.store import LocalStore, S3Store, Store, atomic_write_bytes, open_store

UNSAFE_KEYS = ["../escape.txt", "a/../../escape.txt", "a/..", "/etc/passwd", "a\x00b", "a\\b", "./a", ""]
UNSAFE_IDS = ["dotdot", "nested-dotdot", "trailing-dotdot", "absolute", "nul", "backslash", "dot", "empty"]


@pytest.fixture(params=["local", "moto", "moto-server"])
def store(request: pytest.FixtureRequest, tmp_path: Path, make_bucket: Any) -> Store:
    """The same contract on every backend, each based below a prefix so the base is not the bucket root."""
    if request.param == "local":
        return LocalStore.in_bucket(tmp_path / "root", "bucket", "base")
    client = request.getfixturevalue("s3_inprocess" if request.param == "moto" else "s3_server")
    return S3Store(make_bucket(client), "base", client=client)


# -- the contract, on every backend -------------------------------------------------------------


def test_bytes_and_text_round_trip(store: Store) -> None:
    store.put_bytes("a/b/c.bin", b"\x00\x01payload")
    store.put_text("notes/readme.txt", "héllo\n")
    assert store.get_bytes("a/b/c.bin") == b"\x00\x01payload"
    assert store.get_text("notes/readme.txt") == "héllo\n"
    store.put_bytes("a/b/c.bin", b"replaced")
    assert store.get_bytes("a/b/c.bin") == b"replaced"


def test_files_round_trip(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(70_000))
    store.put_file("files/src.bin", src)
    out = store.get_file("files/src.bin", tmp_path / "out" / "copy.bin")
    assert out == tmp_path / "out" / "copy.bin"
    assert out.read_bytes() == src.read_bytes()
    assert [p.name for p in out.parent.iterdir()] == ["copy.bin"]  # no temporary left behind


def test_put_file_without_source_is_not_found(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="No file to upload"):
        store.put_file("x", tmp_path / "missing.bin")


def test_missing_object_is_not_found(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="No object .*nothing/here"):
        store.get_bytes("nothing/here")
    with pytest.raises(NotFoundError):
        store.get_file("nothing/here", tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()


def test_local_get_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    """A FIFO would block the reader in open() forever; a folder or an over-long key is simply no object."""
    store = LocalStore(tmp_path)
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "folder").mkdir()
    for key, reason in (("pipe.png", "is not a regular file"), ("folder", "is not a regular file"),
                        ("k" * 300, "too long")):
        with pytest.raises(NotFoundError, match=reason):
            store.get_bytes(key)


def test_get_text_refuses_binary(store: Store) -> None:
    store.put_bytes("bin", b"\xff\xfe\x00")
    with pytest.raises(StoreError, match="not UTF-8"):
        store.get_text("bin")


def test_list_by_prefix(store: Store) -> None:
    for key in ["train/b.png", "train/a.png", "train/sub/c.png", "trainer.txt", "test/a.png", "top.json"]:
        store.put_bytes(key, b"x")
    assert store.list() == ["test/a.png", "top.json", "train/a.png", "train/b.png", "train/sub/c.png",
                            "trainer.txt"]
    assert store.list("train/") == ["train/a.png", "train/b.png", "train/sub/c.png"]
    # A prefix is a string prefix, as on S3, not a folder name.
    assert store.list("train") == ["train/a.png", "train/b.png", "train/sub/c.png", "trainer.txt"]
    assert store.list("train/sub/") == ["train/sub/c.png"]
    assert store.list("nothing/") == []


def test_exists_and_delete(store: Store) -> None:
    store.put_bytes("d/x", b"1")
    store.put_bytes("d/y", b"2")
    assert store.exists("d/x")
    assert not store.exists("d/z")
    assert not store.exists("d")  # a "folder" is not an object
    store.delete("d/x")
    assert not store.exists("d/x")
    store.delete("d/x")  # deleting what is gone is not an error, as on S3
    store.put_bytes("e/z", b"3")
    assert store.delete_prefix("d/") == 1
    assert store.list() == ["e/z"]


def test_child_and_uris(store: Store) -> None:
    child = store.child("sub/dir")
    child.put_bytes("k.txt", b"c")
    assert store.get_bytes("sub/dir/k.txt") == b"c"
    assert child.uri == store.uri_for("sub/dir")
    assert child.uri_for("k.txt") == store.uri_for("sub/dir/k.txt")
    assert store.uri_for("") == store.uri
    assert store.uri.endswith("/base")


@pytest.mark.parametrize("key", UNSAFE_KEYS, ids=UNSAFE_IDS)
def test_unsafe_keys_are_refused(store: Store, key: str) -> None:
    store.put_bytes("inside.txt", b"keep")
    with pytest.raises(UnsafeKeyError):
        store.put_bytes(key, b"evil")
    with pytest.raises(UnsafeKeyError):
        store.get_bytes(key)
    with pytest.raises(UnsafeKeyError):
        store.exists(key)
    with pytest.raises(UnsafeKeyError):
        store.delete(key)
    if key:  # the empty key is a valid prefix (the whole store)
        with pytest.raises(UnsafeKeyError):
            store.list(key)
        with pytest.raises(UnsafeKeyError):
            store.child(key)
        with pytest.raises(UnsafeKeyError):
            with store.publish(key):
                pass
    assert store.list() == ["inside.txt"]


def test_publish_replaces_prefix_as_a_whole(store: Store) -> None:
    store.put_bytes("ds/old-only.txt", b"old")
    store.put_bytes("ds/shared.txt", b"old")
    store.put_bytes("other.txt", b"untouched")
    with store.publish("ds") as staging:
        staging.put_bytes("shared.txt", b"new")
        staging.put_bytes("sub/new.txt", b"new")
        assert store.get_bytes("ds/shared.txt") == b"old"  # nothing visible before the block ends
        assert store.list("ds/") == ["ds/old-only.txt", "ds/shared.txt"]
    assert store.list() == ["ds/shared.txt", "ds/sub/new.txt", "other.txt"]
    assert store.get_bytes("ds/shared.txt") == b"new"


def test_publish_with_replaces_refuses_a_folder_holding_other_things(store: Store) -> None:
    """An output folder pointed at the wrong place (the dataset, someone's notes) is refused before
    anything is written; an earlier output of the same kind is replaced as before."""
    outputs = ("report.html", "charts/")
    store.put_bytes("out/report.html", b"old")
    store.put_bytes("out/charts/a.png", b"old")
    with store.publish("out", replaces=outputs) as staging:
        staging.put_bytes("report.html", b"new")
    assert store.list() == ["out/report.html"]
    store.put_bytes("out/notes.txt", b"precious")
    with pytest.raises(StoreError, match="already holds files that are not this command's output .*'notes.txt'"):
        with store.publish("out", replaces=outputs) as staging:
            raise AssertionError("never reached: the check comes first")  # pragma: no cover
    assert store.get_bytes("out/notes.txt") == b"precious" and store.get_bytes("out/report.html") == b"new"
    _assert_no_staging_left(store)


def test_local_output_that_is_a_file_or_holds_hidden_things_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError, match="exists and is not a folder"):
        store.check_replaceable("afile", ("report.html",))
    (tmp_path / "out" / "empty-sub").mkdir(parents=True)
    with pytest.raises(StoreError, match="'empty-sub/'"):
        store.check_replaceable("out", ("report.html",))
    (tmp_path / "out" / "empty-sub").rmdir()
    (tmp_path / "out" / ".hidden").write_text("x")
    with pytest.raises(StoreError, match="'.hidden'"):
        store.check_replaceable("out", ("report.html",))
    (tmp_path / "out" / ".hidden").unlink()
    (tmp_path / "out" / ".report.html.abc.tmp").write_text("x")  # an interrupted atomic write is not content
    store.check_replaceable("out", ("report.html",))


def test_file_uri_without_a_path_is_refused() -> None:
    """'file://' used to mean the filesystem root for some commands and './file:' for others."""
    with pytest.raises(StoreError, match="names no path"):
        open_store("file://")


def test_a_symlinked_output_folder_is_explained_not_called_a_file(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    with pytest.raises(StoreError, match="is a symbolic link.*") as exc:
        LocalStore(tmp_path).check_replaceable("link", ("report.html",))
    assert str(tmp_path / "real") in (exc.value.hint or "")


def test_write_errors_name_the_output_not_the_staging_area(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    store = LocalStore(tmp_path / "file" / "below")  # its base lies under a file: nothing can be written
    with pytest.raises(StoreError) as exc:
        with store.publish("out") as staging:
            staging.put_bytes("a.txt", b"x")
    assert ".scones-staging-" not in exc.value.message
    assert str(tmp_path / "file" / "below" / "out") in exc.value.message


def test_local_write_failures_are_store_errors(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    store = LocalStore(tmp_path)
    with pytest.raises(StoreError, match=r"Cannot write .*file/sub/a.txt: Not a directory"):
        store.put_bytes("file/sub/a.txt", b"x")
    source = tmp_path / "source.txt"
    source.write_text("y")
    with pytest.raises(StoreError, match=r"Cannot write .*file/b.txt"):
        store.put_file("file/b.txt", source)


def test_publish_failure_leaves_old_content(store: Store) -> None:
    store.put_bytes("ds/a.txt", b"old")
    with pytest.raises(RuntimeError, match="mid-way"):
        with store.publish("ds") as staging:
            staging.put_bytes("a.txt", b"new")
            staging.put_bytes("b.txt", b"new")
            raise RuntimeError("failed mid-way")
    assert store.list() == ["ds/a.txt"]
    assert store.get_bytes("ds/a.txt") == b"old"
    _assert_no_staging_left(store)


def test_publish_failure_into_empty_prefix_writes_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError):
        with store.publish("fresh/ds") as staging:
            staging.put_bytes("a.txt", b"new")
            raise RuntimeError("boom")
    assert store.list() == []
    assert not store.exists("fresh/ds/a.txt")
    _assert_no_staging_left(store)


def test_publish_whole_base(store: Store) -> None:
    store.put_bytes("stale.txt", b"old")
    with store.publish() as staging:
        staging.put_bytes("dataset.json", b"{}")
        staging.put_bytes("train/x.png", b"png")
    assert store.list() == ["dataset.json", "train/x.png"]
    _assert_no_staging_left(store)


def _assert_no_staging_left(store: Store) -> None:
    if isinstance(store, LocalStore):
        leftovers = [p for p in store.base.parent.rglob("*") if ".scones-staging-" in p.name or p.suffix == ".tmp"]
    else:
        assert isinstance(store, S3Store)
        listed = store.client.list_objects_v2(Bucket=store.bucket).get("Contents", [])
        leftovers = [o["Key"] for o in listed if ".scones-staging-" in o["Key"]]
    assert leftovers == []


# -- local backend --------------------------------------------------------------------------------


def test_local_layout_mirrors_s3(tmp_path: Path) -> None:
    store = LocalStore.in_bucket(tmp_path, "my-bucket", "some/prefix")
    store.put_bytes("train/x.png", b"png")
    assert (tmp_path / "my-bucket" / "some" / "prefix" / "train" / "x.png").read_bytes() == b"png"
    assert store.local_path("train/x.png") == tmp_path / "my-bucket" / "some" / "prefix" / "train" / "x.png"
    assert store.uri == (tmp_path / "my-bucket" / "some" / "prefix").as_uri()


@pytest.mark.parametrize("bucket", ["", "a/b", "..", "a\x00"], ids=["empty", "slash", "dotdot", "nul"])
def test_local_bad_bucket_names(tmp_path: Path, bucket: str) -> None:
    with pytest.raises(UnsafeKeyError):
        LocalStore.in_bucket(tmp_path, bucket)


def test_local_store_on_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is not a directory"):
        LocalStore(tmp_path / "file")


def test_symlink_pointing_out_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    store = LocalStore(tmp_path / "store")
    store.put_bytes("keep.txt", b"k")
    (store.base / "dir-link").symlink_to(outside, target_is_directory=True)
    (store.base / "file-link").symlink_to(outside / "secret.txt")
    (store.base / "dangling").symlink_to(outside / "not-yet")
    (store.base / "inner").mkdir()
    (store.base / "inner" / "hop").symlink_to(store.base / "dir-link", target_is_directory=True)
    for key in ["dir-link/secret.txt", "dir-link/new.txt", "file-link", "dangling", "inner/hop/secret.txt"]:
        with pytest.raises(UnsafeKeyError, match="resolves outside the store"):
            store.get_bytes(key)
        with pytest.raises(UnsafeKeyError):
            store.put_bytes(key, b"evil")
        with pytest.raises(UnsafeKeyError):
            store.exists(key)
    with pytest.raises(UnsafeKeyError):
        store.child("dir-link")
    with pytest.raises(UnsafeKeyError):
        store.local_path("dir-link/secret.txt")
    with pytest.raises(UnsafeKeyError):
        with store.publish("dir-link"):
            pass
    assert (outside / "secret.txt").read_text() == "secret"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]  # nothing written through a link


def test_symlink_pointing_inside_is_allowed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    store.put_bytes("real/x.txt", b"x")
    (store.base / "alias").symlink_to(store.base / "real", target_is_directory=True)
    assert store.get_bytes("alias/x.txt") == b"x"


def test_listing_skips_temporaries_and_staging(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    store.put_bytes("a.txt", b"a")
    (store.base / ".a.txt.1234.tmp").write_bytes(b"half")
    (store.base / ".scones-staging-abc").mkdir()
    (store.base / ".scones-staging-abc" / "b.txt").write_bytes(b"b")
    assert store.list() == ["a.txt"]


def test_publish_commit_failure_restores_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path / "store")
    store.put_bytes("ds/a.txt", b"old")
    real_replace = os.replace
    calls: list[tuple[str, str]] = []

    def failing_replace(src: Any, dst: Any) -> None:
        calls.append((str(src), str(dst)))
        if len(calls) == 2:  # the old content has moved aside; moving the new one in fails
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    with pytest.raises(StoreError, match="Cannot publish .*No space left"):
        with store.publish("ds") as staging:
            staging.put_bytes("a.txt", b"new")
            monkeypatch.setattr("scones.store.os.replace", failing_replace)
    monkeypatch.setattr("scones.store.os.replace", real_replace)
    assert store.list() == ["ds/a.txt"]
    assert store.get_bytes("ds/a.txt") == b"old"
    _assert_no_staging_left(store)


def test_publish_whole_base_of_a_new_folder(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "deep" / "new" / "dataset")
    with store.publish() as staging:
        staging.put_bytes("x.txt", b"x")
    assert (tmp_path / "deep" / "new" / "dataset" / "x.txt").read_bytes() == b"x"
    assert os.listdir(tmp_path / "deep" / "new") == ["dataset"]


def test_atomic_write_bytes_keeps_old_content_on_failure(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("scones.store.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


# -- S3 backend -----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["s3_inprocess", "s3_server"])
def test_s3_keys_sit_under_the_prefix(request: pytest.FixtureRequest, backend: str, make_bucket: Any) -> None:
    client = request.getfixturevalue(backend)
    bucket = make_bucket(client)
    store = S3Store(bucket, "pre/fix", client=client)
    store.put_bytes("train/x.png", b"png")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["pre/fix/train/x.png"]
    assert store.uri == f"s3://{bucket}/pre/fix"
    assert store.uri_for("train/x.png") == f"s3://{bucket}/pre/fix/train/x.png"
    assert store.local_path("train/x.png") is None
    # A neighbouring prefix that shares the same characters is not listed.
    client.put_object(Bucket=bucket, Key="pre/fixture.txt", Body=b"n")
    assert store.list() == ["train/x.png"]


@pytest.mark.parametrize("backend", ["s3_inprocess", "s3_server"])
def test_s3_missing_bucket_is_a_clear_error(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> None:
    client = request.getfixturevalue(backend)
    store = S3Store(f"scones-missing-{uuid.uuid4().hex[:8]}", client=client)
    with pytest.raises(NotFoundError, match="does not exist"):
        store.put_bytes("x", b"x")
    with pytest.raises(NotFoundError, match="does not exist"):
        store.list()
    src = tmp_path / "f"
    src.write_bytes(b"f")
    with pytest.raises(NotFoundError, match="does not exist"):
        store.put_file("x", src)


def test_s3_bad_bucket_names() -> None:
    for bucket in ["", "a/b"]:
        with pytest.raises(StoreError, match="Not a bucket name"):
            S3Store(bucket, client=object())


# -- URIs -----------------------------------------------------------------------------------------


def test_open_plain_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(tmp_path / "a")
    assert isinstance(store, LocalStore) and store.base == tmp_path / "a"
    monkeypatch.chdir(tmp_path)
    relative = open_store("rel/dir")
    assert isinstance(relative, LocalStore) and relative.base == tmp_path / "rel" / "dir"


def test_open_file_uri_round_trips(tmp_path: Path) -> None:
    folder = tmp_path / "with space" / "100%"
    store = LocalStore(folder)
    reopened = open_store(store.uri)
    assert isinstance(reopened, LocalStore) and reopened.base == folder
    localhost = open_store(f"file://localhost{tmp_path}")
    assert isinstance(localhost, LocalStore) and localhost.base == tmp_path


def test_open_s3_uri(s3_inprocess: Any) -> None:
    store = open_store("s3://my-bucket/some/prefix/", s3_client=s3_inprocess)
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix, store.uri) == ("my-bucket", "some/prefix", "s3://my-bucket/some/prefix")
    assert isinstance(open_store("s3://my-bucket", s3_client=s3_inprocess), S3Store)


def test_default_uri_opens_the_bucket_layout(tmp_path: Path) -> None:
    from scones.config import Settings

    settings = Settings(home=tmp_path / "home")
    store = open_store(settings.default_uri("dataset"))
    store.put_bytes("x.txt", b"x")
    assert (tmp_path / "home" / "store" / "scones" / "dataset" / "x.txt").read_bytes() == b"x"


@pytest.mark.parametrize("uri, message", [
    ("s3://", "names no bucket"),
    ("s3:///prefix", "names no bucket"),
    ("file://remote-host/x", "remote host"),
    ("ftp://host/x", "Unsupported store URI"),
    ("/tmp/a\x00b", "NUL"),
], ids=["s3-empty", "s3-no-bucket", "file-remote", "ftp", "nul"])
def test_bad_uris(uri: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(uri)


def test_local_files_get_the_ordinary_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    import stat

    from scones.store import FILE_MODE, LocalStore

    store = LocalStore(tmp_path / "s")
    store.put_bytes("a/b.txt", b"x")
    src = tmp_path / "src.txt"
    src.write_bytes(b"y")
    store.put_file("a/c.txt", src)
    for name in ("b.txt", "c.txt"):
        assert stat.S_IMODE((tmp_path / "s" / "a" / name).stat().st_mode) == FILE_MODE
    assert FILE_MODE & 0o044  # readable by others under a usual umask


@pytest.mark.parametrize(("uri", "expected"), [
    ("s3://b/a/k", ("s3://b/a", "k")), ("file:///tmp/x/m", ("file:///tmp/x", "m")), ("ftp://x/y", ("ftp://x", "y")),
    ("a/b", ("a", "b")), ("/a", ("/", "a")), ("model", (".", "model")), ("./m/", (".", "m")),
])
def test_split_uri_keeps_the_scheme_intact(uri: str, expected: tuple[str, str]) -> None:
    """'ftp://x/y' used to come back as 'ftp:/x', garbling the error message about it."""
    from scones.store import split_uri

    assert split_uri(uri) == expected
