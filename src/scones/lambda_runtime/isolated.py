"""Running functions in clean worker interpreters: from a deployment zip, or in place from the user's folder.

A worker sees only the function's code, its requirements and layers, boto3 and
the standard library — a handler that imports anything else fails here with
``Runtime.ImportModuleError``, before any deploy. Each function has its own
workers, so each has its own modules: two functions whose files are both
``lambda_function.py`` never meet. Workers stay warm between invocations, like
Lambda execution environments, and serve one invocation at a time; a timed-out
or exited worker is dropped and the next invocation starts a new one. Every
concurrent invocation needs its own worker interpreter.

The user's functions get a private ``/tmp`` per worker (``sandbox.py``). Where
this machine cannot give one, each user function runs one invocation at a time
instead (the others wait their turn), so two invocations of one function still
never see each other's files; the mode is logged once.
"""

from __future__ import annotations

import enum
import importlib.util
import itertools
import logging
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from scones.declarations import Origin
from scones.errors import WorkflowError
from scones.lambda_runtime import sandbox
from scones.lambda_runtime.contract import ErrorType
from scones.lambda_runtime.function import FunctionConfig, Ran
from scones.lambda_runtime.unzip import safe_unzip
from scones.lambda_runtime.worker import BOOTSTRAP, Worker, WorkerOutcome

LOG = logging.getLogger(__name__)

_NO_MODULE: Final = re.compile(r"No module named '([^']+)'")
#: What the python3.12 Lambda runtime provides besides the standard library.
RUNTIME_PACKAGES: Final = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "certifi")


class TmpIsolation(str, enum.Enum):
    """How the user's functions are kept from each other's ``/tmp``."""

    PRIVATE = "a private /tmp per container (mount namespace)"
    ONE_AT_A_TIME = "one invocation at a time per function (no mount namespace on this machine)"


class IsolatedRunner:
    """Warm workers per function, in a temporary folder holding the unpacked zips and the runtime's packages.

    ``private_tmp``: ``None`` gives the user's functions a private ``/tmp`` when this machine allows it,
    ``False`` never (one invocation at a time per user function instead), ``True`` requires it.
    """

    def __init__(self, functions: Mapping[str, FunctionConfig], *, region: str,
                 private_tmp: bool | None = None) -> None:
        for f in functions.values():
            if (f.package is None and f.code is None) or not isinstance(f.handler, str):
                raise WorkflowError(f"Function {f.name} has no deployment zip or code folder to run in isolated mode",
                                    hint="give FunctionConfig.package (see scones.aws.package) or FunctionConfig.code")
        self.functions = functions
        self.region = region
        self.private_tmp = private_tmp
        #: How the user's functions are kept apart; ``None`` until opened, or when there are none.
        self.tmp_isolation: TmpIsolation | None = None
        self._lock = threading.Lock()
        self._workdir: Path | None = None
        self._closed = False
        self._idle: dict[str, list[Worker]] = {name: [] for name in functions}
        self._busy: set[Worker] = set()
        self._turns: dict[str, threading.Lock] = {}  # ONE_AT_A_TIME: the function's one turn
        self._expose: dict[str, list[str]] = {}  # PRIVATE: what each function's workers keep seeing under /tmp
        self._numbers = itertools.count(1)

    def open(self) -> None:
        with self._lock:
            if self._workdir is None:
                workdir = Path(tempfile.mkdtemp(prefix="scones-lambda-"))
                try:
                    _prepare(workdir, self.functions.values())
                    self._choose_tmp_isolation(workdir)
                except BaseException:
                    shutil.rmtree(workdir, ignore_errors=True)
                    raise
                self._workdir = workdir

    def _choose_tmp_isolation(self, workdir: Path) -> None:
        users = [f for f in self.functions.values() if f.origin is not Origin.BUILT_IN]
        if not users:
            return
        reason = "turned off" if self.private_tmp is False else sandbox.probe(str(_make_dir(workdir / "probe")))
        if reason is None:
            self.tmp_isolation = TmpIsolation.PRIVATE
            runtime = workdir / "runtime"
            common = [str(runtime), *(str(link) for link in runtime.iterdir()), str(BOOTSTRAP.parent),
                      sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent)]
            for f in users:
                self._expose[f.name] = sandbox.under_tmp([str(p) for p in _code_paths(workdir, f)] + common)
            LOG.info("your functions run with %s", self.tmp_isolation.value)
            return
        if self.private_tmp:
            raise WorkflowError(f"This machine cannot give each function container a private /tmp: {reason}",
                                hint="run where user and mount namespaces are allowed, or let scones run one "
                                     "invocation at a time per function")
        self.tmp_isolation = TmpIsolation.ONE_AT_A_TIME
        self._turns = {f.name: threading.Lock() for f in users}
        LOG.warning("your functions run one invocation at a time each, so that two never share /tmp "
                    "(no mount namespace here: %s); concurrent invocations of one function wait their turn",
                    reason)

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
        turn = self._turns.get(config.name)
        if turn is None:
            return self._invoke(config, event, request_id, arn)
        with turn:
            return self._invoke(config, event, request_id, arn)

    def _invoke(self, config: FunctionConfig, event: Any, request_id: str, arn: str) -> Ran:
        with self._lock:
            idle = self._idle[config.name]
            worker = idle.pop() if idle else None
            workdir = self._workdir
        if worker is None:
            assert workdir is not None, "the runner is opened before its first invocation"
            worker = self._start(config, workdir)
        with self._lock:
            self._busy.add(worker)
        ran, outcome = worker.invoke(event, request_id, arn)
        with self._lock:
            self._busy.discard(worker)
            keep = outcome is WorkerOutcome.OK and not self._closed
            if keep:
                self._idle[config.name].append(worker)
        if not keep:
            _drop(worker)
        if ran.failed and config.origin is not Origin.BUILT_IN:
            return _with_import_hint(config, ran)
        return ran

    def _start(self, config: FunctionConfig, workdir: Path) -> Worker:
        paths = _code_paths(workdir, config)
        expose = self._expose.get(config.name)
        if expose is None:
            return Worker(config, paths[0], paths, self.region)
        tmp = _make_dir(workdir / "tmp" / f"{config.name}-{next(self._numbers)}")
        return Worker(config, paths[0], paths, self.region, private_tmp=tmp, expose=expose)

    def workers(self) -> Iterator[tuple[str, int]]:
        """``(function, pid)`` of the warm workers."""
        with self._lock:
            warm = [(name, w.pid) for name, ws in self._idle.items() for w in ws]
        yield from warm


def _with_import_hint(config: FunctionConfig, ran: Ran) -> Ran:
    """AWS's ``Runtime.ImportModuleError`` message, then where the missing package should be declared."""
    error = ran.payload
    if not isinstance(error, dict) or error.get("errorType") != ErrorType.IMPORT_MODULE.value:
        return ran
    found = _NO_MODULE.search(str(error.get("errorMessage", "")))
    if found is None:
        return ran
    package = found.group(1).split(".")[0]
    if config.code is None:
        hint = f"a deployment zip must ship '{package}' itself: add it to the zip (pip install --target)"
    else:
        hint = (f"list '{package}' in {config.code / 'requirements.txt'}, which scones installs as sam build does "
                "(or put it in a layer)")
    return ran._replace(payload={**error, "errorMessage": f"{error['errorMessage']} — scones: {hint}"})


def _code_paths(workdir: Path, config: FunctionConfig) -> list[Path]:
    """The worker's path: its code (the task root, also its working folder), requirements and layers, the runtime."""
    task = config.code if config.code is not None else workdir / "task" / config.name
    return [task, *config.paths, workdir / "runtime"]


def _drop(worker: Worker) -> None:
    worker.kill()
    if worker.private_tmp is not None:
        shutil.rmtree(worker.private_tmp, ignore_errors=True)


def _make_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _prepare(workdir: Path, functions: Iterable[FunctionConfig]) -> None:
    """``runtime/``: links to the runtime's packages; ``task/<function>/``: each zipped function, unpacked."""
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
        if f.code is None:
            assert f.package is not None
            task = workdir / "task" / f.name
            task.mkdir(parents=True)
            safe_unzip(f.package, task)
