"""Running each function from its own deployment zip in clean worker interpreters.

A worker sees only the unpacked zip, boto3 and the standard library — a handler
that imports anything else fails here with ``Runtime.ImportModuleError``, before
any deploy. Workers stay warm between invocations, like Lambda execution
environments; a timed-out or exited worker is dropped and the next invocation
starts a new one. Every concurrent invocation needs its own worker interpreter.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from scones.errors import WorkflowError
from scones.lambda_runtime.function import FunctionConfig, Ran
from scones.lambda_runtime.unzip import safe_unzip
from scones.lambda_runtime.worker import Worker, WorkerOutcome

#: What the python3.12 Lambda runtime provides besides the standard library.
RUNTIME_PACKAGES: Final = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "certifi")


class IsolatedRunner:
    """Warm workers per function, in a temporary folder holding the unpacked zips and the runtime's packages."""

    def __init__(self, functions: Mapping[str, FunctionConfig], *, region: str) -> None:
        for f in functions.values():
            if f.package is None or not isinstance(f.handler, str):
                raise WorkflowError(f"Function {f.name} has no deployment zip to run in isolated mode",
                                    hint="give FunctionConfig.package (see scones.aws.package)")
        self.functions = functions
        self.region = region
        self._lock = threading.Lock()
        self._workdir: Path | None = None
        self._closed = False
        self._idle: dict[str, list[Worker]] = {name: [] for name in functions}
        self._busy: set[Worker] = set()

    def open(self) -> None:
        with self._lock:
            if self._workdir is None:
                workdir = Path(tempfile.mkdtemp(prefix="scones-lambda-"))
                _prepare(workdir, self.functions.values())
                self._workdir = workdir

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = [w for ws in self._idle.values() for w in ws] + list(self._busy)
            self._idle = {name: [] for name in self.functions}
            self._busy.clear()
            workdir, self._workdir = self._workdir, None
        for worker in workers:
            worker.kill()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)

    def invoke(self, config: FunctionConfig, event: Any, request_id: str, arn: str) -> Ran:
        with self._lock:
            idle = self._idle[config.name]
            worker = idle.pop() if idle else None
            workdir = self._workdir
        if worker is None:
            assert workdir is not None, "the runner is opened before its first invocation"
            worker = Worker(config, workdir / "task" / config.name, workdir / "runtime", self.region)
        with self._lock:
            self._busy.add(worker)
        ran, outcome = worker.invoke(event, request_id, arn)
        with self._lock:
            self._busy.discard(worker)
            keep = outcome is WorkerOutcome.OK and not self._closed
            if keep:
                self._idle[config.name].append(worker)
        if not keep:
            worker.kill()
        return ran

    def workers(self) -> Iterator[tuple[str, int]]:
        """``(function, pid)`` of the warm workers."""
        with self._lock:
            warm = [(name, w.pid) for name, ws in self._idle.items() for w in ws]
        yield from warm


def _prepare(workdir: Path, functions: Iterable[FunctionConfig]) -> None:
    """``runtime/``: links to the runtime's packages; ``task/<function>/``: each function's unpacked zip."""
    layer = workdir / "runtime"
    layer.mkdir()
    for package in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (layer / source.name).symlink_to(source)
    for f in functions:
        assert f.package is not None
        task = workdir / "task" / f.name
        task.mkdir(parents=True)
        safe_unzip(f.package, task)
