"""Nothing reaches outside the store; keys that cannot be files get a clear answer; interrupted writes leave
nothing visible; bodies stream in bounded memory; malformed requests get S3's errors, never a 500."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import RunningS3, client_for, error_of, running_s3, server_process


def raw_request(s3: RunningS3, method: str, path: str, body: bytes = b"",
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """A request whose path goes out exactly as written (no dot-segment normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", s3.port, timeout=10)
    conn.putrequest(method, path, skip_accept_encoding=True)
    for name, value in {"content-length": str(len(body)), **(headers or {})}.items():
        conn.putheader(name, value)
    conn.endheaders(body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("path", ["/{b}/../escape", "/{b}/a/../../escape", "/{b}/%2E%2E/escape", "/{b}//abs",
                                  "/{b}/a//b", "/{b}/a%5Cb", "/{b}/a%00b", "/{b}/./x", "/{b}/.x.123.tmp",
                                  "/{b}/.scones-staging-x/y"])
def test_unsafe_keys_refused(s3: RunningS3, bucket: str, path: str) -> None:
    status, body = raw_request(s3, "PUT", path.format(b=bucket), b"data")
    assert status == 400, body
    assert b"<Code>InvalidArgument</Code>" in body
    assert files_under(s3.store) == [bucket]
    assert not (s3.store.parent / "escape").exists()
    status, body = raw_request(s3, "GET", path.format(b=bucket))
    assert status == 400 and b"<Code>InvalidArgument</Code>" in body


def test_unsafe_bucket_names_refused(s3: RunningS3) -> None:
    for path in ("/../x", "/%2E%2E/x", "/.hidden/x"):
        status, body = raw_request(s3, "PUT", path, b"data")
        assert status in (400, 404), (path, body)
        assert b"<Code>" in body
    assert not (s3.store.parent / "x").exists()
    assert files_under(s3.store) == []


def test_key_too_long(client: Any, bucket: str) -> None:
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="k" * 1025, Body=b"1"))
    assert (err["Code"], err["Status"]) == ("KeyTooLongError", 400)
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="s" * 300, Body=b"1"))
    assert err["Code"] == "KeyTooLongError"  # one path segment longer than a file name may be


def test_symlink_out_of_the_store_is_not_followed(s3: RunningS3, client: Any, bucket: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (s3.store / bucket / "link").symlink_to(outside, target_is_directory=True)
    (s3.store / bucket / "file-link").symlink_to(outside / "secret.txt")
    for key in ("link/secret.txt", "file-link"):
        err = error_of(lambda key=key: client.get_object(Bucket=bucket, Key=key))
        assert (err["Code"], err["Status"]) == ("AccessDenied", 403)
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="link/new.txt", Body=b"x"))
    assert (err["Code"], err["Status"]) == ("AccessDenied", 403)
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="file-link", Body=b"x"))
    assert err["Code"] == "AccessDenied"
    assert sorted(os.listdir(outside)) == ["secret.txt"] and (outside / "secret.txt").read_text() == "secret"
    assert "Contents" not in client.list_objects_v2(Bucket=bucket)
    result = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "link/secret.txt"}]})
    assert result["Errors"][0]["Code"] == "AccessDenied"
    assert (outside / "secret.txt").exists()


def test_symlink_inside_the_store_is_an_object(s3: RunningS3, client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="real.txt", Body=b"real")
    (s3.store / bucket / "alias.txt").symlink_to(s3.store / bucket / "real.txt")
    assert client.get_object(Bucket=bucket, Key="alias.txt")["Body"].read() == b"real"


def test_bucket_folder_symlinked_out_is_no_bucket(s3: RunningS3, client: Any, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x").write_text("1")
    (s3.store / "sneaky").symlink_to(outside, target_is_directory=True)
    assert "sneaky" not in [b["Name"] for b in client.list_buckets()["Buckets"]]
    err = error_of(lambda: client.get_object(Bucket="sneaky", Key="x"))
    assert err["Status"] in (403, 404)


def test_folder_markers(s3: RunningS3, client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="photos/", Body=b"")
    assert (s3.store / bucket / "photos").is_dir()
    assert client.head_object(Bucket=bucket, Key="photos/")["ContentLength"] == 0
    client.put_object(Bucket=bucket, Key="photos/cat.jpg", Body=b"meow")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["photos/", "photos/cat.jpg"]
    out = client.list_objects_v2(Bucket=bucket, Prefix="photos/", Delimiter="/")
    assert [o["Key"] for o in out["Contents"]] == ["photos/", "photos/cat.jpg"]
    client.delete_object(Bucket=bucket, Key="photos/")
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["photos/cat.jpg"]
    client.delete_object(Bucket=bucket, Key="photos/cat.jpg")
    assert not (s3.store / bucket / "photos").exists()
    # An empty folder kept by its marker.
    client.put_object(Bucket=bucket, Key="empty/", Body=b"")
    client.put_object(Bucket=bucket, Key="empty/x", Body=b"1")
    client.delete_object(Bucket=bucket, Key="empty/x")
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["empty/"]
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="full/", Body=b"not empty"))
    assert (err["Code"], err["Status"]) == ("InvalidArgument", 400)
    # Copies: a marker to a plain key is an empty object; a non-empty object cannot become a marker.
    client.copy_object(Bucket=bucket, Key="from-marker", CopySource={"Bucket": bucket, "Key": "empty/"})
    assert client.get_object(Bucket=bucket, Key="from-marker")["Body"].read() == b""
    assert (s3.store / bucket / "from-marker").is_file()
    client.copy_object(Bucket=bucket, Key="again/", CopySource={"Bucket": bucket, "Key": "empty/"})
    assert (s3.store / bucket / "again").is_dir()
    client.put_object(Bucket=bucket, Key="full.txt", Body=b"x")
    err = error_of(lambda: client.copy_object(Bucket=bucket, Key="full/", CopySource={"Bucket": bucket,
                                                                                      "Key": "full.txt"}))
    assert err["Code"] == "InvalidArgument"
    # A folder made by hand is no object until a marker is put.
    (s3.store / bucket / "handmade").mkdir()
    assert error_of(lambda: client.head_object(Bucket=bucket, Key="handmade/"))["Status"] == 404


def test_file_folder_conflicts(s3: RunningS3, client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="a", Body=b"file")
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="a/b", Body=b"1"))
    assert (err["Code"], err["Status"]) == ("InvalidArgument", 400)
    assert "cannot hold" in err["Message"]
    client.put_object(Bucket=bucket, Key="d/e", Body=b"1")
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="d", Body=b"1"))
    assert (err["Code"], err["Status"]) == ("InvalidArgument", 400)
    err = error_of(lambda: client.get_object(Bucket=bucket, Key="d"))
    assert err["Code"] == "NoSuchKey"
    assert client.get_object(Bucket=bucket, Key="a")["Body"].read() == b"file"


def test_malformed_xml(s3: RunningS3, bucket: str) -> None:
    def post(path: str, body: bytes) -> tuple[int, bytes]:
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        return raw_request(s3, "POST", path, body, {"content-md5": md5})

    for body in (b"<Delete><Object><Key>a</Key></Object>", b"not xml at all", b"<Wrong/>",
                 b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><Delete><Object><Key>&e;</Key></Object>'
                 b"</Delete>"):
        status, answer = post(f"/{bucket}?delete", body)
        assert (status, b"<Code>MalformedXML</Code>" in answer) == (400, True), (body, answer)
    upload = httpx.post(f"{s3.url}/{bucket}/mp?uploads").text.split("<UploadId>")[1].split("<")[0]
    status, answer = post(f"/{bucket}/mp?uploadId={upload}", b"<CompleteMultipartUpload><Part>")
    assert status == 400 and b"<Code>MalformedXML</Code>" in answer
    status, answer = post(f"/{bucket}/mp?uploadId={upload}",
                          b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>")
    assert status == 400 and b"<Code>MalformedXML</Code>" in answer


def test_bad_numbers_are_invalid_argument(s3: RunningS3, bucket: str) -> None:
    response = httpx.get(f"{s3.url}/{bucket}?list-type=2&max-keys=lots")
    assert response.status_code == 400 and b"<Code>InvalidArgument</Code>" in response.content
    response = httpx.put(f"{s3.url}/{bucket}/k?partNumber=one&uploadId=x", content=b"1")
    assert response.status_code in (400, 404) and b"<Code>" in response.content


def test_declared_size_above_five_gib_refused_before_reading(s3: RunningS3, bucket: str) -> None:
    with socket.create_connection(("127.0.0.1", s3.port), timeout=10) as sock:
        sock.sendall(f"PUT /{bucket}/huge HTTP/1.1\r\nHost: x\r\nContent-Length: {6 * 1024**3}\r\n"
                     "Expect: 100-continue\r\n\r\n".encode())
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400") and b"<Code>EntityTooLarge</Code>" in answer
    assert files_under(s3.store / bucket) == []


def _send_partial(port: int, bucket: str, key: str, total: int, sent: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"PUT /{bucket}/{key} HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n".encode())
    sock.sendall(os.urandom(sent))
    return sock


def _wait(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*.tmp")]


def test_client_disconnect_mid_body_leaves_nothing(s3: RunningS3, client: Any, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="keep", Body=b"old")
    sock = _send_partial(s3.port, bucket, "keep", 8 * 1024 * 1024, 3 * 1024 * 1024)
    assert _wait(lambda: bool(_partials(s3.store / bucket)))  # the write is in progress, hidden
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep"]
    sock.close()
    assert _wait(lambda: not _partials(s3.store / bucket))
    assert client.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"old"
    sock = _send_partial(s3.port, bucket, "new", 8 * 1024 * 1024, 1024 * 1024)
    sock.close()
    assert _wait(lambda: not _partials(s3.store / bucket))
    assert error_of(lambda: client.head_object(Bucket=bucket, Key="new"))["Status"] == 404


@pytest.mark.slow
def test_killed_server_leaves_no_object_and_is_cleaned_on_restart(tmp_path: Path) -> None:
    store, state, ready = tmp_path / "store", tmp_path / "state", tmp_path / "ready"
    (store / "bkt").mkdir(parents=True)
    with server_process(store, state, ready) as proc:
        port = int(proc.url.rsplit(":", 1)[1])
        sock = _send_partial(port, "bkt", "half", 8 * 1024 * 1024, 4 * 1024 * 1024)
        assert _wait(lambda: bool(_partials(store / "bkt")))
        os.kill(proc.pid, signal.SIGKILL)
        proc.proc.wait()
        sock.close()
    assert _partials(store / "bkt") and not (store / "bkt" / "half").exists()
    with server_process(store, state, ready) as proc:
        client = client_for(proc.url)
        assert "Contents" not in client.list_objects_v2(Bucket="bkt")
        assert _wait(lambda: not _partials(store / "bkt"))


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to read the peak RSS")
def test_large_bodies_stream_in_bounded_memory(tmp_path: Path) -> None:
    size = 400 * 1024 * 1024
    store, state, ready = tmp_path / "store", tmp_path / "state", tmp_path / "ready"
    (store / "big").mkdir(parents=True)

    def body() -> Iterator[bytes]:
        block = os.urandom(1024 * 1024)
        for _ in range(size // len(block)):
            yield block

    with server_process(store, state, ready) as proc:
        before = _peak_rss_kib(proc.pid)
        response = httpx.put(f"{proc.url}/big/blob", content=body(), headers={"content-length": str(size)},
                             timeout=120)
        assert response.status_code == 200, response.text
        received = 0
        with httpx.stream("GET", f"{proc.url}/big/blob", timeout=120) as download:
            for chunk in download.iter_bytes():
                received += len(chunk)
        assert received == size
        grown_mib = (_peak_rss_kib(proc.pid) - before) / 1024
    assert (store / "big" / "blob").stat().st_size == size
    assert grown_mib < 64, f"the server's peak RSS grew by {grown_mib:.0f} MiB for a {size >> 20} MiB body"


def test_restart_in_process_cleans_own_partials(tmp_path: Path) -> None:
    store, state = tmp_path / "store", tmp_path / "state"
    (store / "b").mkdir(parents=True)
    stale = store / "b" / f".s3-partial-{os.getpid()}-deadbeef.tmp"
    stale.write_bytes(b"half")
    foreign = store / "b" / ".other-writer.abc.tmp"  # another scones process's write: not ours to remove
    foreign.write_bytes(b"x")
    with running_s3(store, state):
        assert _wait(lambda: not stale.exists())
    assert foreign.exists()


@pytest.mark.parametrize("prefix", ["../", "../../", "/etc/", "..", "a/../../", "link/", "link/x", "a//"])
def test_listing_prefixes_never_leave_the_bucket(s3: RunningS3, client: Any, bucket: str, tmp_path: Path,
                                                 prefix: str) -> None:
    client.create_bucket(Bucket="neighbour")
    client.put_object(Bucket="neighbour", Key="private.txt", Body=b"1")
    outside = tmp_path / "outside-listing"
    outside.mkdir()
    (outside / "x.txt").write_text("secret")
    (s3.store / bucket / "link").symlink_to(outside, target_is_directory=True)
    for listed in (client.list_objects_v2(Bucket=bucket, Prefix=prefix), client.list_objects(Bucket=bucket,
                                                                                              Prefix=prefix)):
        assert "Contents" not in listed and "CommonPrefixes" not in listed, listed


def test_copy_sources_are_checked_like_keys(s3: RunningS3, client: Any, bucket: str) -> None:
    client.create_bucket(Bucket="neighbour")
    client.put_object(Bucket="neighbour", Key="private.txt", Body=b"1")
    upload = client.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    for source in (f"{bucket}/../neighbour/private.txt", f"{bucket}/%2E%2E/neighbour/private.txt", "../etc/passwd"):
        status, body = raw_request(s3, "PUT", f"/{bucket}/copy", headers={"x-amz-copy-source": source})
        assert status in (400, 404) and b"<Code>Invalid" in body, (source, body)
        status, body = raw_request(s3, "PUT", f"/{bucket}/mp?partNumber=1&uploadId={upload}",
                                   headers={"x-amz-copy-source": source})
        assert status in (400, 404) and b"<Code>Invalid" in body, (source, body)


ODD_REQUESTS = [
    ("GET", "/{b}?list-type=2&max-keys=-1", {}, b""),
    ("GET", "/{b}?list-type=2&encoding-type=xml", {}, b""),
    ("GET", "/{b}?list-type=2&fetch-owner=maybe", {}, b""),
    ("GET", "/{b}/k", {"range": "bytes=abc"}, b""),
    ("GET", "/{b}/k", {"if-modified-since": "yesterday"}, b""),
    ("GET", "/{b}/k?partNumber=0", {}, b""),
    ("GET", "/{b}/k?response-expires=never", {}, b""),
    ("PUT", "/{b}/k2", {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": "abc"}, b"0\r\n\r\n"),
    ("PUT", "/{b}/k2", {"x-amz-trailer": "x-amz-checksum-crc32"}, b"plain body, no trailer"),
    ("PUT", "/{b}/k2", {"x-amz-tagging": "a=%ZZ&=&&b"}, b"x"),
    ("PUT", "/{b}/k2", {"expires": "garbage", "x-amz-checksum-type": "COMPOSITE"}, b"x"),
    ("POST", "/{b}/k?uploads", {"x-amz-checksum-algorithm": "foo"}, b""),
    ("POST", "/{b}/k?uploads", {"x-amz-checksum-type": "FULL_OBJECT"}, b""),
    ("POST", "/{b}/k?uploadId=abc", {}, b"garbage"),
    ("PUT", "/{b}/k?partNumber=abc&uploadId=x", {}, b"1"),
    ("GET", "/{b}?uploads&max-uploads=abc", {}, b""),
    ("GET", "/{b}/k?uploadId=x&max-parts=-5", {}, b""),
    ("PUT", "/{b}?tagging", {}, b"<Tagging><TagSet><Tag><Key>a"),
    ("PUT", "/{b}?acl", {}, b"<AccessControlPolicy><nonsense/></AccessControlPolicy>"),
    ("PUT", "/{b}?versioning", {}, b"<VersioningConfiguration><Status>Sideways</Status></VersioningConfiguration>"),
    ("PUT", "/new-bucket-odd", {}, b"<CreateBucketConfiguration><LocationConstraint>"),
    ("DELETE", "/no-such-bucket-odd?tagging", {}, b""),
    ("PUT", "/{b}/c1", {"x-amz-copy-source": ""}, b""),
    ("PUT", "/{b}/c1", {"x-amz-copy-source": "nobucketonly"}, b""),
    ("PUT", "/{b}/c1", {"x-amz-copy-source": "{b}/k?versionId=abc"}, b""),
    ("PUT", "/{b}/c1", {"x-amz-copy-source": "{b}/k", "x-amz-metadata-directive": "WEIRD"}, b""),
    ("PUT", "/{b}/c1", {"x-amz-copy-source": "{b}/k", "x-amz-copy-source-if-modified-since": "bad"}, b""),
    ("GET", "/", {"host": "..localhost"}, b""),
    ("GET", "/{b}?list-type=2&continuation-token=", {}, b""),
    ("GET", "/{b}?location&x=1&y", {}, b""),
    ("POST", "/{b}?delete", {}, b""),
    ("PUT", "/{b}/k?tagging", {}, b"<Tagging/>"),
    ("PUT", "/{b}/k?tagging", {}, b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>"),
    ("PUT", "/{b}?tagging", {}, b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>"),
    ("PUT", "/{b}/k2", {"content-encoding": "aws-chunked"}, b"1\r\nX\r\n-6\r\n"),
    ("GET", "/{b}/k", {"x-amz-checksum-mode": "ENABLED", "range": "bytes=0-0"}, b""),
    ("GET", "/{b}?X-Amz-Credential=a/b&X-Amz-Signature=x", {}, b""),
    ("GET", "/{b}?Signature=x&Expires=soon", {}, b""),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), ODD_REQUESTS,
                         ids=[f"{m} {p}" for m, p, _, _ in ODD_REQUESTS])
def test_odd_requests_get_s3_answers_never_500(s3: RunningS3, client: Any, method: str, path: str,
                                               headers: dict[str, str], body: bytes) -> None:
    client.create_bucket(Bucket="odd")
    client.put_object(Bucket="odd", Key="k", Body=b"0123456789")
    status, answer = raw_request(s3, method, path.format(b="odd"),
                                 body, {k: v.format(b="odd") for k, v in headers.items()})
    assert status < 500 or (status == 501 and b"<Code>NotImplemented</Code>" in answer), (status, answer)
    if status >= 400:
        assert answer.startswith(b"<?xml") and b"<Code>" in answer and b"<RequestId>" in answer, answer
