"""The AWS CLI (v1, from PyPI) against the local S3: ``aws s3`` and ``aws s3api`` as a user types them.

The CLI pins its own botocore, so it lives in its own virtual environment, built once per checkout under
``.pytest_cache/awscli-<version>`` (a file lock makes pytest-xdist workers wait for the first builder).
Without a reachable package index the tests skip and say so.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from .conftest import REPO, RunningS3

AWSCLI: Final = "awscli==1.46.2"
MiB = 1024 * 1024


def _build(venv: Path) -> str | None:
    """Create the CLI's environment; the reason it could not be made, or None."""
    shutil.rmtree(venv, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", AWSCLI], check=True,
                       capture_output=True, timeout=600)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(venv, ignore_errors=True)
        return f"could not install {AWSCLI}: {exc.stderr.decode(errors='replace').strip()[-300:]}"
    except subprocess.TimeoutExpired:
        shutil.rmtree(venv, ignore_errors=True)
        return f"installing {AWSCLI} timed out (is a package index reachable?)"
    return None


@pytest.fixture(scope="session")
def aws_cli() -> Iterator[Path]:
    cache = REPO / ".pytest_cache"
    cache.mkdir(exist_ok=True)
    venv = cache / AWSCLI.replace("==", "-")
    ready = venv / ".ready"
    with open(cache / "awscli.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            reason = _build(venv)
            if reason is not None:
                pytest.skip(reason)
            ready.touch()
    yield venv / "bin" / "aws"


@pytest.fixture
def aws(aws_cli: Path, s3: RunningS3, tmp_path: Path) -> Any:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": s3.url,
           "AWS_CONFIG_FILE": str(tmp_path / "no-config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-creds")}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(aws_cli), *args], env=env, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    return run


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first test of a fresh checkout also builds the CLI's environment
def test_aws_s3_commands(aws: Any, s3: RunningS3, tmp_path: Path) -> None:
    small, large = tmp_path / "small.txt", tmp_path / "large.bin"
    small.write_text("hello from the cli\n")
    large.write_bytes(os.urandom(12 * MiB + 7))
    aws("s3", "mb", "s3://cli-bucket")
    assert "cli-bucket" in aws("s3", "ls").stdout
    aws("s3", "cp", str(small), "s3://cli-bucket/docs/small.txt")
    aws("s3", "cp", str(large), "s3://cli-bucket/data/large.bin")  # multipart above 8 MiB
    assert (s3.store / "cli-bucket" / "data" / "large.bin").read_bytes() == large.read_bytes()
    top = aws("s3", "ls", "s3://cli-bucket/").stdout
    assert "PRE docs/" in top and "PRE data/" in top
    recursive = aws("s3", "ls", "s3://cli-bucket", "--recursive").stdout
    assert "docs/small.txt" in recursive and "data/large.bin" in recursive and str(12 * MiB + 7) in recursive
    aws("s3", "cp", "s3://cli-bucket/docs/small.txt", str(tmp_path / "small.back"))
    aws("s3", "cp", "s3://cli-bucket/data/large.bin", str(tmp_path / "large.back"))  # ranged GETs
    assert (tmp_path / "small.back").read_text() == small.read_text()
    assert (tmp_path / "large.back").read_bytes() == large.read_bytes()
    aws("s3", "rm", "s3://cli-bucket/docs/small.txt")
    assert "small.txt" not in aws("s3", "ls", "s3://cli-bucket", "--recursive").stdout
    aws("s3", "cp", str(small), "s3://cli-bucket/more/a.txt")
    aws("s3", "cp", str(small), "s3://cli-bucket/more/b/c.txt")
    aws("s3", "rm", "s3://cli-bucket", "--recursive")
    assert aws("s3", "ls", "s3://cli-bucket", "--recursive").stdout.strip() == ""
    aws("s3", "rb", "s3://cli-bucket")
    assert not (s3.store / "cli-bucket").exists()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_aws_s3api_put_and_head(aws: Any, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"a": 1}')
    aws("s3api", "create-bucket", "--bucket", "api-bucket")
    put = json.loads(aws("s3api", "put-object", "--bucket", "api-bucket", "--key", "cfg/x.json", "--body", str(body),
                         "--content-type", "application/json", "--metadata", "stage=test").stdout)
    head = json.loads(aws("s3api", "head-object", "--bucket", "api-bucket", "--key", "cfg/x.json").stdout)
    assert head["ETag"] == put["ETag"]
    assert (head["ContentType"], head["ContentLength"], head["Metadata"]) == ("application/json", 8,
                                                                              {"stage": "test"})
    missing = aws("s3api", "head-object", "--bucket", "api-bucket", "--key", "nope", check=False)
    assert missing.returncode != 0 and "404" in missing.stderr
    no_bucket = aws("s3", "ls", "s3://no-such-bucket-cli", check=False)
    assert no_bucket.returncode != 0 and "NoSuchBucket" in no_bucket.stderr
