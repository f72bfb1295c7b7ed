"""The three Lambda functions: created, or updated in place only where code or configuration differ."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from scones.aws.errors import AwsError, is_not_found, wrap
from scones.aws.iam import retry_while_role_propagates
from scones.aws.plan import Action, Change
from scones.aws.tags import check_not_foreign

LOG = logging.getLogger(__name__)

KIND: Final = "lambda function"
RUNTIME: Final = "python3.12"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str
    role_arn: str
    zip_bytes: bytes = field(repr=False)
    environment: dict[str, str] = field(default_factory=dict)
    timeout: int = 30
    memory: int = 128
    runtime: str = RUNTIME
    description: str = ""

    @property
    def code_sha256(self) -> str:
        """Lambda's ``CodeSha256``: base64 of the zip's SHA-256 digest (docs/aws-facts.md, Lambda)."""
        return base64.b64encode(hashlib.sha256(self.zip_bytes).digest()).decode()

    def configuration(self) -> dict[str, Any]:
        return {"Runtime": self.runtime, "Role": self.role_arn, "Handler": self.handler,
                "Timeout": self.timeout, "MemorySize": self.memory,
                "Environment": {"Variables": dict(self.environment)}, "Description": self.description}


def handler_for(base: str, zip_bytes: bytes) -> str:
    """Find the handler module of function ``base`` inside its zip (at the root or as a package path).

    Read from the zip itself, so the ``Handler`` setting always matches the code that ships.
    """
    from scones.functions.catalog import function_info

    module = function_info(base).module
    try:
        names = set(zipfile.ZipFile(io.BytesIO(zip_bytes)).namelist())
    except zipfile.BadZipFile as exc:
        raise AwsError(f"The package of {base} is not a zip file",
                       hint="rebuild it with 'scones package functions'") from exc
    candidates = sorted((n for n in names if n == f"{module}.py" or n.endswith(f"/{module}.py")),
                        key=lambda n: n.count("/"))
    if not candidates:
        raise AwsError(f"The package of {base} has no {module}.py",
                       hint="rebuild it with 'scones package functions'")
    return candidates[0].removesuffix(".py").replace("/", ".") + ".lambda_handler"


def _current(lam: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(lam.get_function(FunctionName=name))
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise wrap(exc, action="read", resource=f"Lambda function {name!r}") from exc


def _config_diff(spec: FunctionSpec, config: dict[str, Any]) -> list[str]:
    wanted = spec.configuration()
    current = {
        "Runtime": config.get("Runtime"), "Role": config.get("Role"), "Handler": config.get("Handler"),
        "Timeout": config.get("Timeout"), "MemorySize": config.get("MemorySize"),
        "Environment": {"Variables": dict(config.get("Environment", {}).get("Variables", {}))},
        "Description": config.get("Description", ""),
    }
    return [key for key in wanted if wanted[key] != current[key]]


def _wait_updated(lam: Any, name: str, sleep: Callable[[float], None], attempts: int = 60) -> None:
    """A function accepts one update at a time (docs/aws-facts.md, Lambda); wait until the last one has landed."""
    for _ in range(attempts):
        config = lam.get_function_configuration(FunctionName=name)
        if config.get("LastUpdateStatus", "Successful") != "InProgress" and config.get("State") != "Pending":
            return
        sleep(2.0)
    raise AwsError(f"Lambda function {name!r} is still updating", hint="wait a minute and deploy again")


def _create(lam: Any, spec: FunctionSpec, tags: dict[str, str], sleep: Callable[[float], None]) -> None:
    try:
        retry_while_role_propagates(
            lambda: lam.create_function(FunctionName=spec.name, Code={"ZipFile": spec.zip_bytes}, Tags=tags,
                                        Publish=False, **spec.configuration()), sleep=sleep)
    except Exception as exc:
        raise wrap(exc, action="create", resource=f"Lambda function {spec.name!r}") from exc


def ensure_function(lam: Any, spec: FunctionSpec, *, tags: dict[str, str], apply: bool,
                    sleep: Callable[[float], None] = time.sleep) -> Change:
    current = _current(lam, spec.name)
    if current is None:
        if apply:
            _create(lam, spec, tags, sleep)
        return Change(KIND, spec.name, Action.CREATE)
    config = current.get("Configuration", {})
    check_not_foreign(KIND, spec.name, dict(current.get("Tags") or {}), tags)
    todo: list[str] = []
    code_changed = config.get("CodeSha256") != spec.code_sha256
    if code_changed:
        todo.append("code")
    config_keys = _config_diff(spec, config)
    todo += [k.lower() for k in config_keys]
    current_tags = dict(current.get("Tags") or {})
    tags_changed = any(current_tags.get(k) != v for k, v in tags.items())
    if tags_changed:
        todo.append("tags")
    if not todo:
        return Change(KIND, spec.name, Action.NO_CHANGE)
    if apply:
        try:
            if code_changed:
                lam.update_function_code(FunctionName=spec.name, ZipFile=spec.zip_bytes)
                _wait_updated(lam, spec.name, sleep)
            if config_keys:
                lam.update_function_configuration(FunctionName=spec.name, **spec.configuration())
                _wait_updated(lam, spec.name, sleep)
            if tags_changed:
                lam.tag_resource(Resource=config.get("FunctionArn"), Tags=tags)
        except AwsError:
            raise
        except Exception as exc:
            raise wrap(exc, action="update", resource=f"Lambda function {spec.name!r}") from exc
    return Change(KIND, spec.name, Action.UPDATE, ", ".join(todo))


def delete_function(lam: Any, name: str) -> None:
    try:
        lam.delete_function(FunctionName=name)
    except Exception as exc:
        if not is_not_found(exc):
            raise wrap(exc, action="delete", resource=f"Lambda function {name!r}") from exc
