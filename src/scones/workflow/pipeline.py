"""The Scones workflow on this machine: state machine + local Lambda runtime + local endpoint.

``local_pipeline`` wires the three functions to the store and to an endpoint
(given by URL, or started on demand from a model), and yields a
``LocalPipeline`` that runs executions one at a time or many concurrently.
Each failed execution is announced through the notifier.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any, Final

from scones.config import Settings
from scones.errors import NotFoundError, WorkflowError
from scones.progress import progress
from scones.store import LocalStore, Store
from scones.workflow.definitions import DEFINITIONS_DIR
from scones.workflow.notifications import (
    FailureNotification,
    FanOutNotifier,
    Notifier,
    StoreLogNotifier,
    WebhookNotifier,
)

LOG = logging.getLogger(__name__)

DEFAULT_DEFINITION: Final = "scones"
BATCH_DEFINITION: Final = "scones-batch"
LOW_CONFIDENCE_ERROR: Final = "ThresholdConfidenceNotMet"
DEFAULT_MODEL_KEY: Final = "model/model.tar.gz"
DEFAULT_CAPTURE_PREFIX: Final = "data_capture"
#: Where executions are kept, as ``scones workflow history`` reads them: ``<bucket>/executions/<name>.json``.
EXECUTIONS_PREFIX: Final = "executions"
IMAGE_SUFFIXES: Final = (".png", ".jpg", ".jpeg")


class Outcome(str, Enum):
    ACCEPTED = "accepted"
    LOW_CONFIDENCE = "low_confidence"
    ERRORED = "errored"


def load_definition(name_or_path: str | Path = DEFAULT_DEFINITION) -> dict[str, Any]:
    """A shipped definition by name (``scones``, ``scones-batch``) or any ASL file by path."""
    from scones.workflow.asl.jsontext import JsonTextError, parse_json

    path = Path(name_or_path)
    # A bare name (``scones``, ``scones-batch``, ``scones.jsonata``) is a shipped definition, whatever the
    # current folder holds (a checkout named ``scones`` beside you must not shadow it); a file of the
    # same name is reached as ./scones.
    if len(path.parts) == 1 and not str(name_or_path).startswith("./"):
        shipped = DEFINITIONS_DIR / f"{name_or_path}.asl.json"
        if shipped.is_file() or (not path.suffix and not path.exists()):
            path = shipped
    hint = "give a path to an .asl.json file, or 'scones' / 'scones-batch' / 'scones.jsonata'"
    try:
        definition = parse_json(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise NotFoundError(f"No state machine definition at {path}", hint=hint) from exc
    except IsADirectoryError as exc:
        raise WorkflowError(f"{path} is a folder, not a state machine definition", hint=hint) from exc
    except OSError as exc:
        raise WorkflowError(f"Cannot read the definition {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, JsonTextError) as exc:
        raise WorkflowError(f"{path} is not a JSON state machine definition: {exc}") from exc
    if not isinstance(definition, dict):
        raise WorkflowError(f"{path} holds no JSON object")
    return definition


@dataclass(frozen=True)
class ExecutionOutcome:
    """How one execution ended, as the batch summary and the CLI need it."""

    name: str
    execution_arn: str
    status: str
    input: Any
    output: Any
    error: str | None
    cause: str | None
    seconds: float
    #: The error of the last failed Task, for executions that end in a Fail state without an Error
    #: (the AWS console's recorded definition catches States.ALL into an empty Fail).
    task_error: str | None = None

    @property
    def outcome(self) -> Outcome:
        if self.status == "SUCCEEDED":
            return Outcome.ACCEPTED
        if (self.error or self.task_error) == LOW_CONFIDENCE_ERROR:
            return Outcome.LOW_CONFIDENCE
        return Outcome.ERRORED

    @property
    def s3_key(self) -> str | None:
        key = self.input.get("s3_key") if isinstance(self.input, Mapping) else None
        return key if isinstance(key, str) else None

    @property
    def inferences(self) -> list[float] | None:
        body = self.output.get("body") if isinstance(self.output, Mapping) else None
        values = body.get("inferences") if isinstance(body, Mapping) else None
        return [float(v) for v in values] if isinstance(values, list) and values else None

    def to_json(self) -> dict[str, Any]:
        output = self.output
        if isinstance(output, Mapping) and isinstance(output.get("body"), Mapping):
            # The base64 image is noise on a terminal; everything else is printed as returned.
            output = {**output, "body": {k: v for k, v in output["body"].items() if k != "image_data"}}
        return {"name": self.name, "executionArn": self.execution_arn, "status": self.status,
                "outcome": self.outcome.value, "output": output, "error": self.error, "cause": self.cause,
                "task_error": self.task_error,
                "seconds": round(self.seconds, 6)}


def _status_text(status: Any) -> str:
    return str(getattr(status, "value", status))


def _last_task_error(events: Sequence[Mapping[str, Any]]) -> str | None:
    for event in reversed(events):
        for key in ("taskFailedEventDetails", "lambdaFunctionFailedEventDetails"):
            details = event.get(key)
            if isinstance(details, Mapping) and details.get("error"):
                return str(details["error"])
    return None


def outcome_of(execution: Any, execution_input: Any, seconds: float) -> ExecutionOutcome:
    """Read the interpreter's ``Execution`` (the one place that knows its attribute names)."""
    status = _status_text(execution.status)
    task_error = _last_task_error(execution.events()) if status != "SUCCEEDED" and not execution.error else None
    return ExecutionOutcome(name=str(execution.name), execution_arn=str(execution.execution_arn),
                            status=status, input=execution_input, output=execution.output, error=execution.error,
                            cause=execution.cause, seconds=seconds, task_error=task_error)


@dataclass(frozen=True)
class BatchSummary:
    total: int
    accepted: int
    low_confidence: int
    errored: int
    seconds: float
    labelled: int = 0
    correct: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: tuple[float, ...] = ()
    #: Executions never started because the batch was interrupted (Ctrl-C, SIGTERM).
    not_started: int = 0

    @property
    def executions_per_second(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None

    def to_json(self) -> dict[str, Any]:
        return {"executions": self.total, "succeeded": self.accepted, "low_confidence": self.low_confidence,
                "errored": self.errored, "errors": dict(self.errors), "seconds": round(self.seconds, 4),
                "executions_per_second": round(self.executions_per_second, 2),
                "accuracy_accepted": None if self.accuracy is None else round(self.accuracy, 4),
                "labelled_accepted": self.labelled, "not_started": self.not_started,
                "latency_ms": latency_percentiles(self.latencies)}

    def format_text(self) -> str:
        lines = [
            f"executions:            {self.total}",
            f"succeeded:             {self.accepted}",
            f"failed, low confidence: {self.low_confidence}",
            f"errored:               {self.errored}" + (f"  {dict(self.errors)}" if self.errors else ""),
            *([f"not started:           {self.not_started} (interrupted)"] if self.not_started else []),
            f"executions per second: {self.executions_per_second:.1f} ({self.seconds:.2f} s)",
        ]
        if self.accuracy is None:
            why = "no image was accepted" if not self.accepted else "no labels for the accepted images"
            lines.append(f"accuracy (accepted):   n/a ({why})")
        else:
            lines.append(f"accuracy (accepted):   {self.accuracy:.4f} ({self.correct}/{self.labelled})")
        pct = latency_percentiles(self.latencies)
        if pct:
            lines.append("latency ms:            " + ", ".join(f"{k} {v:.1f}" for k, v in pct.items()))
        return "\n".join(lines)


def latency_percentiles(latencies: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max in milliseconds (nearest-rank)."""
    if not latencies:
        return {}
    ordered = sorted(latencies)

    def rank(p: float) -> float:
        index = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 1)) - 1))
        return ordered[index] * 1000.0

    return {"p50": round(rank(0.50), 3), "p90": round(rank(0.90), 3), "p99": round(rank(0.99), 3),
            "max": round(ordered[-1] * 1000.0, 3)}


def summarize(outcomes: Sequence[ExecutionOutcome], seconds: float, labels: Mapping[str, int]) -> BatchSummary:
    counts = {o: 0 for o in Outcome}
    errors: dict[str, int] = {}
    labelled = correct = 0
    for item in outcomes:
        counts[item.outcome] += 1
        if item.outcome is Outcome.ERRORED:
            errors[item.error or "unknown"] = errors.get(item.error or "unknown", 0) + 1
        inferences = item.inferences
        if item.outcome is Outcome.ACCEPTED and inferences and item.s3_key in labels:
            labelled += 1
            correct += int(max(range(len(inferences)), key=inferences.__getitem__) == labels[item.s3_key])
    return BatchSummary(total=len(outcomes), accepted=counts[Outcome.ACCEPTED],
                        low_confidence=counts[Outcome.LOW_CONFIDENCE], errored=counts[Outcome.ERRORED],
                        seconds=seconds, labelled=labelled, correct=correct, errors=errors,
                        latencies=tuple(o.seconds for o in outcomes))


def load_labels(store: Store, keys: Iterable[str]) -> dict[str, int]:
    """Labels of ``keys`` from the SageMaker manifests beside them (``dataset/test/x.png`` -> ``dataset/test.lst``)."""
    labels: dict[str, int] = {}
    folders = {key.rpartition("/")[0] for key in keys if "/" in key}
    for folder in sorted(folders):
        manifest = folder + ".lst"
        if not store.exists(manifest):
            LOG.info("no manifest %s: accuracy will not count images of %s/", manifest, folder)
            continue
        for line in store.get_text(manifest).splitlines():
            parts = line.split("\t")
            if len(parts) != 3:
                continue
            try:
                labels[f"{folder}/{parts[2].strip()}"] = int(float(parts[1]))
            except ValueError:
                continue
    return labels


def image_keys(store: Store, prefix: str, limit: int | None = None) -> list[str]:
    keys = [k for k in store.list(prefix) if k.lower().endswith(IMAGE_SUFFIXES)]
    if not keys:
        raise NotFoundError(f"No images under {store.uri_for(prefix)}",
                            hint="stage the dataset first (scones data stage) or pass another --prefix")
    return keys[:limit] if limit is not None else keys


class HistoryWriter:
    """Keeps each finished execution as ``<name>.json`` where ``scones workflow history`` reads it.

    The interpreter could save executions itself (``Executor(store=...)``), but
    through the generic ``Store.put_text`` each save resolves the key's path
    (symlink checks), makes a random temporary name and checks for an earlier
    execution of the same name, on the execution's own thread. Here one
    background thread renders each history straight to JSON text and writes it
    under a temporary name, then renames it (never half-written), into the
    folder of a local store resolved once; other stores (S3) get ``put_text``.
    Executions hand their record over and go on; ``flush`` waits until every
    handed-over history is written (``LocalPipeline.run_many`` flushes before it
    stops its clock, so throughput figures include the writing).
    """

    def __init__(self, store: Store, *, max_pending: int = 256) -> None:
        self.store = store
        self.folder: Path | None = None
        if isinstance(store, LocalStore):
            store.base.mkdir(parents=True, exist_ok=True)
            self.folder = Path(os.path.realpath(store.base))
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def exists(self, name: str) -> bool:
        from scones.workflow.asl.executor import execution_key

        self.flush()
        return self.store.exists(execution_key(name))

    def reserve(self, name: str) -> bool:
        """Claim ``name`` for a run about to start: False when a kept execution or a run in progress (in
        this or another process) has it. Checking ``exists`` alone let two runs started at once with
        the same --name both succeed, the second history replacing the first. The claim is a marker
        file created exclusively, removed once the history is written."""
        if self.exists(name):
            return False
        if self.folder is None:  # remote stores: the existence check is what S3 offers
            return True
        try:
            os.close(os.open(self._marker(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            return False
        if self.exists(name):  # written between the check and the claim
            self.release(name)
            return False
        return True

    def release(self, name: str) -> None:
        """Drop the claim ``reserve`` made: the history is written, or the run ended without one."""
        if self.folder is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._marker(name))

    def _marker(self, name: str) -> Path:
        from scones.workflow.asl.executor import execution_key

        assert self.folder is not None
        return self.folder / f".{execution_key(name)}.running"

    def submit(self, execution: Any) -> None:
        """Write ``execution`` in the background."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="scones-history")
                self._thread.start()
        self._queue.put(execution)

    def flush(self) -> None:
        """Wait until every submitted history is written; raise the first write error, if any."""
        if self._thread is not None:
            self._queue.join()
        error, self._error = self._error, None
        if error is not None:
            raise WorkflowError(f"Could not keep an execution history in {self.store.uri}: {error}",
                                hint="check the store's free space and permissions, or run with --no-history") \
                from error

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.join()
            self._queue.put(None)
            thread.join()
        self.flush()

    def _run(self) -> None:
        while True:
            execution = self._queue.get()
            try:
                if execution is None:
                    return
                self.write(execution)
            except Exception as exc:  # reported by flush(); the executions themselves are unaffected
                LOG.error("could not write the history of %s: %s", getattr(execution, "name", "?"), exc)
                if self._error is None:
                    self._error = exc
            finally:
                self._queue.task_done()

    def write(self, execution: Any) -> None:
        """Write one execution now, on this thread."""
        from scones.workflow.asl.executor import execution_json_text, execution_key

        text = execution_json_text(execution)
        key = execution_key(execution.name)
        if self.folder is None:
            self.store.put_text(key, text)
            return
        tmp = self.folder / f".{key}.{threading.get_ident()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, text.encode("utf-8"))
            finally:
                os.close(fd)
            os.replace(tmp, self.folder / key)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        finally:
            self.release(execution.name)


def _writes_results(definition: Mapping[str, Any]) -> bool:
    """Whether a Map state writes its results to the store (``ResultWriter``), which needs the executor's store."""
    return '"ResultWriter"' in json.dumps(definition)


class LocalPipeline:
    """Runs the state machine against a Lambda invoker; announces every failed execution."""

    def __init__(self, *, invoker: Any, definition: Mapping[str, Any], bucket: str,
                 history_store: Store | None = None, notifier: Notifier | None = None,
                 state_machine: str = DEFAULT_DEFINITION) -> None:
        from scones.workflow.asl import Executor
        from scones.workflow.asl.clock import SystemClock

        self.invoker = invoker
        self.definition = dict(definition)
        self.bucket = bucket
        self.history_store = history_store
        self.notifier = notifier
        self.state_machine = state_machine
        # Histories are written by the pipeline (cheaper, see HistoryWriter) unless a Map state
        # needs the executor's store for its ResultWriter, in which case the executor saves them.
        executor_store = history_store if history_store is not None and _writes_results(self.definition) else None
        self.history = HistoryWriter(history_store) if history_store is not None and executor_store is None else None
        self._names = random.Random()
        # Parsed and validated once; executions share nothing, so they may run concurrently.
        self.executor = Executor(self.definition, invoker=invoker, clock=SystemClock(), store=executor_store,
                                 state_machine_name=state_machine)

    def flush(self) -> None:
        """Wait until the histories of finished executions are written."""
        if self.history is not None:
            self.history.flush()

    def close(self) -> None:
        """Write what is pending and stop the history writer (``local_pipeline`` does this on exit)."""
        if self.history is not None:
            self.history.close()

    def __enter__(self) -> LocalPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def input_for(self, key: str) -> dict[str, str]:
        return {"s3_bucket": self.bucket, "s3_key": key}

    def run(self, execution_input: Any, *, name: str | None = None) -> ExecutionOutcome:
        return self.run_with_execution(execution_input, name=name)[0]

    def run_with_execution(self, execution_input: Any, *, name: str | None = None) -> tuple[ExecutionOutcome, Any]:
        """The outcome and the interpreter's ``Execution`` (with its history)."""
        if name is None:
            # 48 random bits: names do not repeat, so only a name given by the caller is checked
            # against the kept ones.
            name = f"{self.state_machine}-{self._names.getrandbits(48):012x}"
        elif self.history is not None and not self.history.reserve(name):
            from scones.workflow.asl.errors import InputError

            raise InputError(f"Execution Already Exists: an execution named {name!r} is already in "
                             f"{self.history.store.uri} (or is running now)",
                             hint="execution names are unique, as on AWS: pick another --name or omit it")
        started = time.perf_counter()
        try:
            execution = self.executor.run(execution_input, name=name)
        except BaseException:
            if self.history is not None:
                self.history.release(name)
            raise
        if self.history is not None:
            self.history.submit(execution)
        outcome = outcome_of(execution, execution_input, time.perf_counter() - started)
        if outcome.status != "SUCCEEDED" and self.notifier is not None:
            self.notifier.notify(FailureNotification.create(
                execution_name=outcome.name, execution_arn=outcome.execution_arn, status=outcome.status,
                error=outcome.error or outcome.task_error, cause=outcome.cause, execution_input=execution_input))
        return outcome, execution

    def run_many(self, inputs: Sequence[Any], *, concurrency: int = 8,
                 show_progress: bool = False) -> tuple[list[ExecutionOutcome], float]:
        """One execution per input, ``concurrency`` at a time; outcomes in input order, and the wall time."""
        if concurrency < 1:
            raise WorkflowError(f"--concurrency must be at least 1, got {concurrency}")
        results: list[ExecutionOutcome | None] = [None] * len(inputs)
        started = time.perf_counter()
        interrupted: BaseException | None = None
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="scones-exec") as pool, \
                progress(total=len(inputs), enabled=show_progress, desc="executions", unit="exec") as bar:
            futures = {pool.submit(self.run, item): i for i, item in enumerate(inputs)}
            try:
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.update(1)
            except (KeyboardInterrupt, SystemExit) as exc:
                # Ctrl-C or SIGTERM: start nothing new; the executions in flight end normally
                # (leaving the pool waits for them; a second Ctrl-C stops at once).
                interrupted = exc
                for future in futures:
                    future.cancel()
        if interrupted is not None:
            for future, i in futures.items():
                if future.done() and not future.cancelled() and future.exception() is None:
                    results[i] = future.result()
        if self.history is not None:
            self.history.flush()
        elapsed = time.perf_counter() - started
        done = [r for r in results if r is not None]
        if interrupted is not None:
            raise BatchInterrupted(done, len(inputs) - len(done), elapsed, interrupted)
        return done, elapsed

    def run_batch(self, keys: Sequence[str], *, concurrency: int = 8, labels: Mapping[str, int] | None = None,
                  show_progress: bool = False) -> BatchSummary:
        """The batch's summary; when interrupted, ``BatchInterrupted`` carries the summary of what ran."""
        try:
            outcomes, elapsed = self.run_many([self.input_for(k) for k in keys], concurrency=concurrency,
                                              show_progress=show_progress)
        except BatchInterrupted as stop:
            stop.summary = replace(summarize(stop.outcomes, stop.seconds, labels or {}), not_started=stop.not_started)
            raise
        return summarize(outcomes, elapsed, labels or {})


class BatchInterrupted(Exception):
    """A batch stopped by Ctrl-C or SIGTERM: what ran, and how many executions were never started."""

    def __init__(self, outcomes: list[ExecutionOutcome], not_started: int, seconds: float,
                 cause: BaseException) -> None:
        super().__init__(f"interrupted: {not_started} execution(s) not started")
        self.outcomes, self.not_started, self.seconds, self.cause = outcomes, not_started, seconds, cause
        self.summary: BatchSummary | None = None

    @property
    def exit_code(self) -> int:
        return self.cause.code if isinstance(self.cause, SystemExit) and isinstance(self.cause.code, int) else 130


@dataclass(frozen=True)
class PipelineOptions:
    endpoint_url: str | None = None
    model: str | None = None
    endpoint_name: str = "scones-endpoint"
    threshold: float | None = None
    isolated: bool = False
    definition: str | Path = DEFAULT_DEFINITION
    webhook: str | None = None
    capture: bool = True
    keep_history: bool = True
    #: Invocations of one function in flight at once, beyond which Lambda throttles
    #: (``Lambda.TooManyRequestsException``); ``None``: unlimited in-process, a few workers isolated.
    function_concurrency: int | None = None
    #: In-process only: run handlers on their own threads so a timeout answers on time even
    #: while a handler blocks in a C call (slower; see ``scones.workflow.lambda_runtime``).
    strict_timeouts: bool = False


@contextlib.contextmanager
def local_pipeline(settings: Settings, options: PipelineOptions = PipelineOptions()) -> Iterator[LocalPipeline]:
    """The workflow wired to the local store, the local Lambda runtime and an endpoint."""
    from scones.functions.local import scones_functions
    from scones.lambda_runtime.runtime import LocalLambdaRuntime

    definition = load_definition(options.definition)
    bucket_store = LocalStore.in_bucket(settings.store_root, settings.bucket)
    notifiers: list[Notifier] = [StoreLogNotifier(bucket_store)]
    if options.webhook:
        notifiers.append(WebhookNotifier(options.webhook))
    with contextlib.ExitStack() as stack:
        endpoint_url = options.endpoint_url
        if endpoint_url:
            check_endpoint_reachable(endpoint_url)
        else:
            endpoint_url = stack.enter_context(_endpoint_on_demand(settings, bucket_store, options))
        functions = scones_functions(store_root=settings.store_root, endpoint_url=endpoint_url,
                                     endpoint_name=options.endpoint_name, threshold=options.threshold,
                                     packaged=options.isolated)
        runtime = stack.enter_context(LocalLambdaRuntime(functions, isolated=options.isolated,
                                                         max_concurrency=options.function_concurrency,
                                                         strict_timeouts=options.strict_timeouts))
        stem = Path(str(options.definition)).name.removesuffix(".json").removesuffix(".asl")
        pipeline = stack.enter_context(LocalPipeline(
            invoker=runtime, definition=definition, bucket=settings.bucket,
            history_store=bucket_store.child(EXECUTIONS_PREFIX) if options.keep_history else None,
            notifier=FanOutNotifier(notifiers), state_machine=stem or DEFAULT_DEFINITION))
        yield pipeline


def check_endpoint_reachable(endpoint_url: str, *, timeout: float = 3.0) -> None:
    """Fail before the first execution when ``--endpoint-url`` is malformed or nothing listens there;
    otherwise every execution would fail inside classifyImage with the same connection error."""
    import socket
    from urllib.parse import urlsplit

    from scones.errors import UsageError

    hint = "pass the URL of a running endpoint, e.g. --endpoint-url http://127.0.0.1:8080 ('scones serve')"
    try:
        parts = urlsplit(endpoint_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UsageError(f"--endpoint-url {endpoint_url!r} is not a valid URL: {exc}", hint=hint) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--endpoint-url {endpoint_url!r} is not an http(s)://host[:port] URL", hint=hint)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise WorkflowError(f"No endpoint answers at {endpoint_url} ({reason})", hint=hint) from exc


@contextlib.contextmanager
def _endpoint_on_demand(settings: Settings, bucket_store: LocalStore, options: PipelineOptions) -> Iterator[str]:
    from scones.serve import running_endpoint

    model = options.model or str(bucket_store.local_path(DEFAULT_MODEL_KEY))
    if not options.model and not Path(model).is_file():
        raise NotFoundError(f"No model at {model} to start the endpoint with",
                            hint="train one (scones train), pass --model URI, or give --endpoint-url of a running "
                                 "'scones serve'")
    capture = bucket_store.uri_for(DEFAULT_CAPTURE_PREFIX) if options.capture else None
    LOG.info("starting an endpoint for %s", model)
    with running_endpoint(model, endpoint_name=options.endpoint_name, capture_dest=capture) as endpoint:
        yield str(endpoint.url)
