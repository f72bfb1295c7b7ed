"""This machine as the AWS account a state machine runs in: store, Lambda runtime, endpoint, executions.

``local_environment`` starts what a definition needs and nothing more (its
``RunPlan`` says which functions it calls): a definition of Pass and Wait states
gets the execution service alone; one that calls the Scones functions also gets
the local Lambda runtime and, when it classifies, an endpoint (the one at
``--endpoint-url``, or one started on demand from the store's model). Every
execution runs on the one ``ExecutionService`` of the environment, which keeps
histories under ``<bucket>/executions/`` and announces failures.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from scones.config import Settings
from scones.errors import NotFoundError, UsageError, WorkflowError
from scones.executions.local import bucket_publisher, open_records
from scones.executions.plan import RunPlan
from scones.executions.service import ExecutionService
from scones.store import LocalStore
from scones.workflow.asl.callbacks import TaskTokens
from scones.workflow.notifications import failure_listener
from scones.workspace import DeclarationOptions, declare

if TYPE_CHECKING:
    from scones.declarations import Declarations
    from scones.workflow.asl.distributed.objects import ObjectStore
    from scones.workflow.notifications import Notifier

#: Hears of a task waiting for a callback: ``(task, api_url=...)``, the URL of the API that can answer it or None.
WaitingListener = Callable[..., None]

LOG = logging.getLogger(__name__)

DEFAULT_MODEL_KEY: Final = "model/model.tar.gz"
DEFAULT_CAPTURE_PREFIX: Final = "data_capture"
CLASSIFY_FUNCTION: Final = "classifyImage"
SERIALIZE_FUNCTION: Final = "serializeImageData"


@dataclass(frozen=True)
class PipelineOptions:
    """How the local functions run and which endpoint they call (the shared options of the workflow commands)."""

    #: A shipped definition's name (``scones``, ``scones-batch``) or a definition file.
    definition: str | Path = "scones"
    endpoint_url: str | None = None
    model: str | None = None
    endpoint_name: str = "scones-endpoint"
    threshold: float | None = None
    isolated: bool = False
    webhook: str | None = None
    capture: bool = True
    keep_history: bool = True
    #: Invocations of one function in flight at once, beyond which Lambda throttles
    #: (``Lambda.TooManyRequestsException``); ``None``: unlimited in-process, a few workers isolated.
    function_concurrency: int | None = None
    #: In-process only: run handlers on their own threads so a timeout answers on time even
    #: while a handler blocks in a C call (slower; see the Lambda runtime).
    strict_timeouts: bool = False
    #: The user's own functions, endpoints, state machines and template, as the flags gave them.
    declared: DeclarationOptions = field(default_factory=DeclarationOptions)


@contextlib.contextmanager
def local_environment(settings: Settings, options: PipelineOptions, plan: RunPlan, *, state_machine: str,
                      declarations: Declarations | None = None,
                      on_waiting: WaitingListener | None = None) -> Iterator[ExecutionService]:
    """Start what ``plan`` needs, register it as ``state_machine``, and yield the service that runs it; stop
    everything on the way out.

    With the user's own functions or endpoint names declared, that is a whole local AWS (``scones up``, on a
    free port of this machine): their code calls S3 and SageMaker through it, with boto3, unchanged.
    ``on_waiting(task, api_url)`` hears of each task that starts waiting for a callback, with the URL of the
    Step Functions API that can answer it (None: nothing in this process serves one). ``sns:publish``
    messages go to the bucket (``scones.executions.topics``).
    """
    bucket_store = LocalStore.in_bucket(settings.store_root, settings.bucket)
    if declarations is None:
        declarations = declare(settings, options.declared)
    if declarations.functions or declarations.endpoints or declarations.buckets:
        with _local_aws(settings, options, declarations, plan, state_machine, on_waiting) as service:
            yield service
        return
    with contextlib.ExitStack() as stack:
        invoker = None
        endpoint_url = None
        if plan.calls_lambda:
            if CLASSIFY_FUNCTION in plan.functions or plan.calls_dynamic_function:
                endpoint_url = stack.enter_context(_endpoint(settings, bucket_store, options))
            invoker = stack.enter_context(_lambda_runtime(settings, options, endpoint_url or ""))
        records = open_records(settings) if options.keep_history else None
        heard = () if on_waiting is None else (functools.partial(on_waiting, api_url=None),)
        service = ExecutionService(invoker=invoker, records=records,
                                   listeners=[failure_listener(lambda: _notifier(bucket_store, options))],
                                   callbacks=TaskTokens(listeners=heard), publisher=bucket_publisher(settings),
                                   objects=_objects(settings, plan))
        stack.callback(service.close)
        service.register(state_machine, plan)
        yield service


def _objects(settings: Settings, plan: RunPlan) -> ObjectStore | None:
    """The store's buckets for a Distributed Map's ``ItemReader``/``ResultWriter``; imported only when used."""
    if not plan.uses_objects:
        return None
    from scones.workflow.asl.distributed.objects import FolderObjects

    return FolderObjects(settings.store_root)


@contextlib.contextmanager
def _local_aws(settings: Settings, options: PipelineOptions, declarations: Declarations, plan: RunPlan,
               state_machine: str, on_waiting: WaitingListener | None) -> Iterator[ExecutionService]:
    from scones.gateway.up import BuiltInOptions, UpOptions, up_in_thread
    from scones.progress import note

    if options.endpoint_url:
        check_endpoint_reachable(options.endpoint_url)
    built_ins = BuiltInOptions(threshold=options.threshold, endpoint_name=options.endpoint_name,
                               endpoint_url=options.endpoint_url, model=options.model, isolated=options.isolated,
                               function_concurrency=options.function_concurrency,
                               strict_timeouts=options.strict_timeouts)
    with up_in_thread(settings, UpOptions(port=0, declarations=declarations, built_ins=built_ins)) as (url, served):
        for line in served.notes:
            note(line)
        if state_machine not in declarations.state_machines:
            served.executions.register(state_machine, plan)
        if on_waiting is not None:  # this scones up serves the API that answers its tokens
            served.executions.callbacks.listeners.append(functools.partial(on_waiting, api_url=url))
        yield served.executions


def scones_input(settings: Settings, plan: RunPlan, execution_input: Any) -> Any:
    """The Scones serializer's input as people write it: ``{"s3_key": "test/x.png"}`` means the default
    bucket, and the staged ``dataset/test/x.png`` when only that exists (the classic layout had no prefix)."""
    if SERIALIZE_FUNCTION not in plan.functions or not isinstance(execution_input, dict) \
            or "s3_key" not in execution_input:
        return execution_input
    rewritten = dict(execution_input)
    rewritten.setdefault("s3_bucket", settings.bucket)
    key = rewritten["s3_key"]
    if isinstance(key, str) and key:
        rewritten["s3_key"] = resolve_prefix(settings, key)
    return rewritten


def resolve_prefix(settings: Settings, prefix: str) -> str:
    """``test/`` means the staged ``dataset/test/`` when only the latter exists."""
    store = LocalStore.in_bucket(settings.store_root, settings.bucket)
    if not store.list(prefix) and store.list("dataset/" + prefix):
        return "dataset/" + prefix
    return prefix


def _notifier(bucket_store: LocalStore, options: PipelineOptions) -> Notifier:
    from scones.workflow.notifications import FanOutNotifier, StoreLogNotifier, WebhookNotifier

    notifiers: list[Notifier] = [StoreLogNotifier(bucket_store)]
    if options.webhook:
        notifiers.append(WebhookNotifier(options.webhook))
    return FanOutNotifier(notifiers)


@contextlib.contextmanager
def _lambda_runtime(settings: Settings, options: PipelineOptions, endpoint_url: str) -> Iterator[Any]:
    from scones.functions.local import scones_functions
    from scones.lambda_runtime.runtime import LocalLambdaRuntime

    functions = scones_functions(store_root=settings.store_root, endpoint_url=endpoint_url,
                                 endpoint_name=options.endpoint_name, threshold=options.threshold,
                                 packaged=options.isolated)
    with LocalLambdaRuntime(functions, isolated=options.isolated, max_concurrency=options.function_concurrency,
                            strict_timeouts=options.strict_timeouts) as runtime:
        yield runtime


@contextlib.contextmanager
def _endpoint(settings: Settings, bucket_store: LocalStore, options: PipelineOptions) -> Iterator[str]:
    if options.endpoint_url:
        check_endpoint_reachable(options.endpoint_url)
        yield options.endpoint_url
        return
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


def check_endpoint_reachable(endpoint_url: str, *, timeout: float = 3.0) -> None:
    """Fail before the first execution when ``--endpoint-url`` is malformed or nothing listens there;
    otherwise every execution would fail inside classifyImage with the same connection error."""
    import socket
    from urllib.parse import urlsplit

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


def chosen_definition(options: PipelineOptions, declarations: Declarations) -> tuple[str, str]:
    """``(state machine name, definition text)`` of what a workflow command runs: a state machine the template or a
    flag declares (by name, or the only one when ``--definition`` is left out), else a file or a shipped one."""
    from scones.workflow.definitions import DEFAULT_DEFINITION, read_definition

    declared = declarations.state_machines
    wanted = str(options.definition)
    if wanted in declared:
        return wanted, declared[wanted].definition
    if wanted == DEFAULT_DEFINITION and len(declared) == 1 and not options.declared.empty:
        only = next(iter(declared.values()))
        return only.name, only.definition
    return state_machine_name(options.definition, DEFAULT_DEFINITION), read_definition(options.definition)


def state_machine_name(definition: str | Path | None, default: str) -> str:
    """The state machine name a definition runs under: its file's stem (``scones-batch.asl.json`` ->
    ``scones-batch``), or ``default``."""
    if definition is None:
        return default
    stem = Path(str(definition)).name.removesuffix(".json").removesuffix(".asl")
    return stem or default
