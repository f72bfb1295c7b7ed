"""``scones up``: build every local AWS service from the settings and the declarations, and serve them on one port.

What is served:

- **S3** over the local store: every folder under ``SCONES_HOME/store`` is a bucket
  (``scones`` is the Scones workflow's own); buckets a template declares are created.
- **Lambda**: the functions the user declared, and the three Scones functions for the
  names the user did not take; user functions run isolated, built-ins in-process.
- **Step Functions**: state machines made through the API (kept under
  ``SCONES_HOME/state``), those declared, and the Scones workflow's two
  (``scones-workflow``, ``scones-workflow-batch``, as ``scones deploy aws`` names them);
  executions run on the execution service and are kept under ``<bucket>/executions``.
- **SageMaker Runtime**: each declared endpoint name, plus ``scones-endpoint`` serving the
  store's model when there is one, with Data Capture into ``<bucket>/data_capture``.

The functions reach the other services through this same port: their environment
points ``AWS_ENDPOINT_URL`` here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from scones.config import Settings
from scones.declarations import Declarations
from scones.errors import UsageError
from scones.gateway.app import Gateway
from scones.gateway.handler import ServiceHandler
from scones.gateway.routing import Service
from scones.local_account import LOCAL_REGION

if TYPE_CHECKING:
    from scones.executions.service import ExecutionService
    from scones.gateway.sigv4 import Credentials
    from scones.serve.app import Endpoint
    from scones.workspace import DeclarationOptions

LOG = logging.getLogger(__name__)

DEFAULT_PORT: Final = 4566
DEFAULT_ENDPOINT: Final = "scones-endpoint"
#: The Scones state machines, by the names ``scones deploy aws`` gives them, and their shipped definitions.
SCONES_STATE_MACHINES: Final = {"scones-workflow": "scones", "scones-workflow-batch": "scones-batch"}
PLACEHOLDER_KEY: Final = "scones"
LOOPBACK: Final = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class BuiltInOptions:
    """The Scones functions' settings: filter threshold, the endpoint classifyImage calls, how they run."""

    threshold: float | None = None
    endpoint_name: str = DEFAULT_ENDPOINT
    #: An endpoint outside this gateway (``--endpoint-url``); by default classifyImage calls the gateway.
    endpoint_url: str | None = None
    #: The model ``scones-endpoint`` serves (default: the store's ``model/model.tar.gz``).
    model: str | None = None
    isolated: bool = False
    function_concurrency: int | None = None
    strict_timeouts: bool = False


@dataclass(frozen=True)
class UpOptions:
    """What ``scones up`` was asked to serve; declarations come from flags and templates."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    #: The user's functions, state machines, endpoints and buckets (flags and template).
    declarations: Declarations = field(default_factory=Declarations)
    credentials: Credentials | None = None
    log_level: str = "warning"
    #: Seconds running executions get to finish when the server stops; the rest end ABORTED.
    shutdown_grace: float = 2.0
    #: How the Scones built-in functions are wired (the workflow commands' --threshold, --model, ...).
    built_ins: BuiltInOptions = field(default_factory=lambda: BuiltInOptions())
    #: The console (``/_console/``) may start and stop executions (``--console-write``); it only reads otherwise.
    console_write: bool = False

    def check(self) -> None:
        """Binding beyond this machine needs keys to check signatures against."""
        if self.host not in LOOPBACK and self.credentials is None:
            raise UsageError(f"scones up binds {self.host} only with --access-key and --secret-key",
                             hint="every request is then checked against those keys (SigV4); on this machine "
                                  "alone, leave --host at 127.0.0.1")


def exports(url: str, credentials: Credentials | None) -> dict[str, str]:
    """The environment unchanged boto3 code and the AWS CLI need to talk to ``url``."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_ACCESS_KEY_ID": credentials.access_key if credentials else PLACEHOLDER_KEY,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key if credentials else PLACEHOLDER_KEY,
        # botocore puts sync-/runtime- prefixes in front of some hosts, which cannot resolve for an IP.
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
    }


@dataclass
class LocalAws:
    """Everything one ``scones up`` serves; ``gateway`` is the ASGI app."""

    gateway: Gateway
    executions: ExecutionService
    runtime: Any
    endpoints: Mapping[str, Endpoint]
    #: Which function names are the user's and which built-ins, and what a template left out: said once.
    notes: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        """Lines for the start-up message: what is served under which names."""
        machines = ", ".join(m.name for m in self.executions.state_machines()) or "none"
        endpoints = ", ".join(sorted(self.endpoints)) or "none (no model in the store; pass --endpoint NAME=MODEL)"
        return [f"state machines: {machines}", f"endpoints:      {endpoints}", *self.notes]


@contextlib.contextmanager
def local_aws(settings: Settings, options: UpOptions, url: str) -> Iterator[LocalAws]:
    """Build the services for a gateway reachable at ``url``; closes what they opened on exit."""
    from scones.executions.local import local_executions
    from scones.functions.local import scones_functions
    from scones.gateway.console import ConsoleContext, ConsoleService
    from scones.gateway.lambda_api import LambdaService
    from scones.gateway.s3.service import S3Service
    from scones.gateway.sagemaker_runtime import SageMakerRuntimeService
    from scones.gateway.stepfunctions.service import StepFunctionsService
    from scones.lambda_runtime.user_functions import CACHE_FOLDER, function_roster, local_lambda_runtime
    from scones.progress import note
    from scones.workflow.definitions import read_definition
    from scones.workflow.notifications import failure_listener

    options.check()
    declared = options.declarations
    store_root = settings.store_root
    for bucket in {settings.bucket, *declared.buckets}:
        (store_root / bucket).mkdir(parents=True, exist_ok=True)
    endpoints = _endpoints(settings, options)
    wiring = options.built_ins
    built_ins = scones_functions(store_root=store_root, endpoint_url=wiring.endpoint_url or url,
                                 endpoint_name=wiring.endpoint_name, threshold=wiring.threshold,
                                 packaged=wiring.isolated)
    with contextlib.ExitStack() as stack:
        runtime = stack.enter_context(local_lambda_runtime(
            declared, deps_cache=settings.cache_dir / CACHE_FOLDER, built_ins=built_ins, endpoint_url=url,
            isolated=wiring.isolated, max_concurrency=wiring.function_concurrency,
            strict_timeouts=wiring.strict_timeouts, progress=note))
        executions = local_executions(settings, invoker=runtime,
                                      listeners=[failure_listener(lambda: _notifier(settings))])
        for name, shipped in SCONES_STATE_MACHINES.items():
            if name not in declared.state_machines:
                executions.register(name, read_definition(shipped))
        for spec in declared.state_machines.values():
            executions.register(spec.name, spec.definition)
        credentials = None if options.credentials is None else \
            {options.credentials.access_key: options.credentials.secret_key}
        handlers: dict[Service, ServiceHandler] = {
            Service.S3: S3Service(store_root, state_dir=settings.home / "state" / "s3", credentials=credentials),
            Service.LAMBDA: LambdaService(runtime),
            Service.STEP_FUNCTIONS: StepFunctionsService(executions, shutdown_grace=options.shutdown_grace),
            Service.SAGEMAKER_RUNTIME: SageMakerRuntimeService(endpoints),
            Service.CONSOLE: ConsoleService(
                ConsoleContext(executions, runtime, endpoints, store_root, settings.bucket,
                               write=options.console_write),
                hosts=_console_hosts(options.host)),
        }
        verifier = None
        if options.credentials is not None:
            from scones.gateway.sigv4 import SignatureVerifier

            verifier = SignatureVerifier(options.credentials)
        notes = [*function_roster(runtime, built_ins=[f.name for f in built_ins]).lines(), *declared.notes]
        yield LocalAws(Gateway(handlers, verifier=verifier), executions, runtime, endpoints, notes)


def _console_hosts(host: str) -> tuple[str, ...] | None:
    """The host names the console answers for: on loopback, loopback names only (a page elsewhere cannot
    reach it through a name of its own, DNS rebinding); bound wider, any (signatures are checked then)."""
    return (*LOOPBACK, host) if host in LOOPBACK else None


def _endpoints(settings: Settings, options: UpOptions) -> dict[str, Endpoint]:
    """Each endpoint name with its model loaded (a bad model fails here, before the port opens)."""
    from scones.serve.app import Endpoint
    from scones.serve.capture import CaptureConfig
    from scones.serve.config import ServeConfig

    models = {name: spec.model_uri for name, spec in options.declarations.endpoints.items()}
    default_model = options.built_ins.model or settings.store_root / settings.bucket / "model" / "model.tar.gz"
    if DEFAULT_ENDPOINT not in models and (options.built_ins.model or Path(default_model).is_file()):
        models[DEFAULT_ENDPOINT] = str(default_model)
    capture = settings.default_uri("data_capture")
    endpoints: dict[str, Endpoint] = {}
    for name, model in models.items():
        config = ServeConfig(model=model, endpoint_name=name, capture=CaptureConfig(capture), log_level="warning")
        endpoint = Endpoint(config)
        endpoint.prepare()
        endpoints[name] = endpoint
    return endpoints


def _notifier(settings: Settings) -> Any:
    from scones.store import LocalStore
    from scones.workflow.notifications import StoreLogNotifier

    return StoreLogNotifier(LocalStore.in_bucket(settings.store_root, settings.bucket))


def up(settings: Settings, options: UpOptions, *, declared: DeclarationOptions | None = None,
       on_ready: Any = None) -> None:
    """Serve until SIGINT/SIGTERM. ``declared``: the declaration flags, read here (every problem before the port
    opens). ``on_ready(url, local_aws)`` runs once the first request can be answered."""
    from scones.gateway.server import serve_socket

    if declared is not None:
        from scones.workspace import declare

        options = dataclasses.replace(options, declarations=declare(settings, declared))
    sock, url = _bind(options)
    with local_aws(settings, options, url) as served:
        serve_socket(served.gateway, sock, log_level=options.log_level,
                     on_ready=None if on_ready is None else (lambda: on_ready(url, served)))


@contextlib.contextmanager
def up_in_thread(settings: Settings, options: UpOptions) -> Iterator[tuple[str, LocalAws]]:
    """``scones up`` in a thread of this process (tests, notebooks); yields its URL and services."""
    from scones.gateway.server import serving_in_thread

    sock, url = _bind(options)
    with local_aws(settings, options, url) as served, serving_in_thread(served.gateway, sock):
        yield url, served


def _bind(options: UpOptions) -> tuple[socket.socket, str]:
    """The gateway's socket, bound before the services are built (the functions call its URL back), and that
    URL, an IPv6 host in brackets."""
    from scones.http_server import bind_socket

    options.check()
    sock = bind_socket(options.host, options.port)
    host = f"[{options.host}]" if ":" in options.host else options.host
    return sock, f"http://{host}:{sock.getsockname()[1]}"
