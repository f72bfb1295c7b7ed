"""A private /tmp per container: concurrent invocations of code writing /tmp/image.png never read each other's file."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scones.errors import WorkflowError
from scones.lambda_runtime import sandbox
from scones.lambda_runtime.isolated import TmpIsolation
from scones.lambda_runtime.runtime import LocalLambdaRuntime

from .conftest import UserRuntime, spec, write

#: The classic serializer's pattern: a fixed file in /tmp, written, then read back. Where /tmp is this machine's
#: (one invocation at a time), the tests give a name of their own, so as not to meet other processes' files.
FIXED_FILE = '''
import os, time

def lambda_handler(event, context):
    path = event.get("path", "/tmp/image.png")
    with open(path, "w") as fh:
        fh.write(event["image"])
    time.sleep(event.get("sleep", 0.1))
    with open(path) as fh:
        return {"image": fh.read(), "pid": os.getpid()}
'''


@pytest.fixture
def shared_name() -> Iterator[str]:
    """A file name of this test's own in this machine's /tmp, removed afterwards."""
    path = Path("/tmp", f"scones-test-image-{uuid.uuid4().hex}.png")
    yield str(path)
    path.unlink(missing_ok=True)

AT_ONCE = 16


def invoke_at_once(rt: LocalLambdaRuntime, name: str, events: list[dict[str, Any]]) -> list[Any]:
    results: list[Any] = [None] * len(events)
    start = threading.Barrier(len(events))

    def run(i: int) -> None:
        start.wait()
        results[i] = rt.invoke(name, events[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("private_tmp", [None, False], ids=["private-tmp-when-possible", "one-at-a-time"])
def test_sixteen_at_once_each_reads_its_own_file(tmp_path: Path, user_runtime: UserRuntime,
                                                  private_tmp: bool | None, shared_name: str) -> None:
    source = write(tmp_path / "serialize.py", FIXED_FILE)
    shared = private_tmp is False or sandbox.probe(str(write(tmp_path / "probe" / ".keep", "").parent)) is not None
    events = [{"image": f"image-{i}-{uuid.uuid4().hex}", "sleep": 0.02 if shared else 0.2,
               **({"path": shared_name} if shared else {})} for i in range(AT_ONCE)]
    with user_runtime(spec("serialize", source, timeout_seconds=30), max_concurrency=AT_ONCE,
                      private_tmp=private_tmp) as rt:
        results = invoke_at_once(rt, "serialize", events)
        isolation = rt.tmp_isolation
    for event, result in zip(events, results, strict=True):
        assert result.function_error is None, result.payload
        assert result.payload["image"] == event["image"]
    pids = {r.payload["pid"] for r in results}
    if isolation is TmpIsolation.PRIVATE:
        assert len(pids) > 1  # they ran at once, each in its own container
    else:
        assert isolation is TmpIsolation.ONE_AT_A_TIME and len(pids) == 1  # one container, one at a time


def test_private_tmp_is_the_workers_own_and_kept_while_warm(tmp_path: Path, user_runtime: UserRuntime) -> None:
    if sandbox.probe(str(write(tmp_path / "probe" / ".keep", "").parent)) is not None:
        pytest.skip("no mount namespaces on this machine")
    marker = f"scones-test-{uuid.uuid4().hex}"
    source = write(tmp_path / "writes.py", f'''
import os

def lambda_handler(event, context):
    if event.get("write"):
        open("/tmp/{marker}", "w").write("mine")
    return os.path.exists("/tmp/{marker}")
''')
    with user_runtime(spec("writes", source)) as rt:
        assert rt.tmp_isolation is TmpIsolation.PRIVATE
        assert rt.invoke("writes", {"write": True}).payload is True
        assert rt.invoke("writes", {}).payload is True  # the warm container keeps its /tmp, as on Lambda
        assert not Path("/tmp", marker).exists()  # this machine's /tmp never saw it
        folders = list(Path(rt._isolated_runner._workdir, "tmp").iterdir())  # type: ignore[union-attr, arg-type]
        assert [p.name for p in folders] == ["writes-1"] and (folders[0] / marker).read_text() == "mine"
    assert not folders[0].exists()  # the workers' folders go when the runtime closes


def test_without_mount_namespaces_one_invocation_at_a_time_is_logged_once(
        tmp_path: Path, user_runtime: UserRuntime, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, shared_name: str) -> None:
    monkeypatch.setattr(sandbox, "probe", lambda folder, timeout=10.0: "unshare: Operation not permitted")
    source = write(tmp_path / "serialize.py", FIXED_FILE)
    caplog.set_level(logging.INFO, logger="scones.lambda_runtime.isolated")
    with user_runtime(spec("serialize", source)) as rt:
        assert rt.tmp_isolation is TmpIsolation.ONE_AT_A_TIME
        results = invoke_at_once(rt, "serialize", [{"image": str(i), "sleep": 0.01, "path": shared_name}
                                                   for i in range(4)])
    assert [r.payload["image"] for r in results] == ["0", "1", "2", "3"]
    warnings = [r.getMessage() for r in caplog.records if "one invocation at a time" in r.getMessage()]
    assert len(warnings) == 1 and "unshare: Operation not permitted" in warnings[0]


def test_requiring_a_private_tmp_where_there_is_none_fails_clearly(
        tmp_path: Path, user_runtime: UserRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "probe", lambda folder, timeout=10.0: "mount namespaces are Linux only")
    source = write(tmp_path / "serialize.py", FIXED_FILE)
    with pytest.raises(WorkflowError, match="cannot give each function container a private /tmp"):
        with user_runtime(spec("serialize", source), private_tmp=True):
            pass


def test_built_ins_alone_need_no_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    from scones.lambda_runtime.function import FunctionConfig

    monkeypatch.setattr(sandbox, "probe", lambda folder, timeout=10.0: pytest.fail("probed"))
    with LocalLambdaRuntime([FunctionConfig("echo", lambda e, c: e)]) as rt:
        assert rt.invoke("echo", 1).payload == 1 and rt.tmp_isolation is None


def test_outermost_and_under_tmp(tmp_path: Path) -> None:
    assert sandbox.outermost(["/tmp/a/b", "/tmp/a", "/tmp/ab", "/tmp/a/c"]) == ["/tmp/a", "/tmp/ab"]
    inside = write(tmp_path / "x.py", "")
    assert sandbox.under_tmp([str(inside), "/usr", "/tmp", "/nonexistent"]) == (
        [str(inside.resolve())] if str(inside.resolve()).startswith("/tmp/") else [])
