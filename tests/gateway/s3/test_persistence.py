"""The folder is the truth: metadata survives restarts, files dropped or changed by hand are objects."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from scones.store import LocalStore

from .conftest import client_for, running_s3


def test_metadata_survives_restart(tmp_path: Path) -> None:
    store, state = tmp_path / "store", tmp_path / "state"
    with running_s3(store, state) as s3:
        client = client_for(s3.url)
        client.create_bucket(Bucket="keep")
        client.put_object(Bucket="keep", Key="doc.bin", Body=b"payload", ContentType="application/x-thing",
                          Metadata={"origin": "test"}, ChecksumAlgorithm="SHA256", ContentDisposition="inline")
        before = client.head_object(Bucket="keep", Key="doc.bin", ChecksumMode="ENABLED")
    with running_s3(store, state) as s3:
        after = client_for(s3.url).head_object(Bucket="keep", Key="doc.bin", ChecksumMode="ENABLED")
    for field in ("ETag", "ContentType", "Metadata", "ChecksumSHA256", "LastModified", "ContentDisposition"):
        assert after[field] == before[field], field


def test_files_written_by_hand_or_by_the_store_are_objects(tmp_path: Path) -> None:
    store, state = tmp_path / "store", tmp_path / "state"
    with running_s3(store, state) as s3:
        client = client_for(s3.url)
        client.create_bucket(Bucket="mixed")
        (store / "mixed" / "notes").mkdir()
        (store / "mixed" / "notes" / "a.txt").write_bytes(b"by hand")
        tarball = b"\x1f\x8b by the store"
        LocalStore.in_bucket(store, "mixed").put_bytes("model/model.tar.gz", tarball)
        head = client.head_object(Bucket="mixed", Key="notes/a.txt")
        assert head["ETag"] == f'"{hashlib.md5(b"by hand").hexdigest()}"'
        assert head["ContentType"] == "text/plain"
        got = client.get_object(Bucket="mixed", Key="model/model.tar.gz")
        assert got["Body"].read() == tarball
        assert got["ContentType"] == "application/x-tar"
        keys = [(o["Key"], o["ETag"]) for o in client.list_objects_v2(Bucket="mixed")["Contents"]]
        assert keys == [("model/model.tar.gz", f'"{hashlib.md5(tarball).hexdigest()}"'),
                        ("notes/a.txt", head["ETag"])]
        # Written through S3, replaced by hand: the old record no longer describes the file.
        client.put_object(Bucket="mixed", Key="notes/b.txt", Body=b"first", ContentType="text/x-first",
                          Metadata={"m": "1"})
        path = store / "mixed" / "notes" / "b.txt"
        path.write_bytes(b"rewritten by hand")
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
        again = client.get_object(Bucket="mixed", Key="notes/b.txt")
        assert again["Body"].read() == b"rewritten by hand"
        assert again["ETag"] == f'"{hashlib.md5(b"rewritten by hand").hexdigest()}"'
        assert again["Metadata"] == {}
        # Objects put through S3 are plain files for the store.
        assert LocalStore.in_bucket(store, "mixed").get_bytes("notes/b.txt") == b"rewritten by hand"
        assert sorted(LocalStore.in_bucket(store, "mixed").list()) == ["model/model.tar.gz", "notes/a.txt",
                                                                       "notes/b.txt"]
    # Nothing but objects in the bucket folder: metadata lives in the state folder.
    assert sorted(p.name for p in (store / "mixed").rglob("*")) == ["a.txt", "b.txt", "model", "model.tar.gz",
                                                                   "notes"]
    assert (state / "metadata.sqlite").exists()
