"""The user's declared functions as the runtime runs them, beside the built-ins they replace or leave.

``lambda_functions`` turns ``Declarations.functions`` into ``FunctionConfig``s:
each function's code is checked first (``user_code``), its ``requirements.txt``
installed into the cache (``requirements``), and it is set to run in isolated
workers with boto3 pointed at the local endpoint. A built-in joins only when
nobody declared its name. ``local_lambda_runtime`` builds the runtime from them
in one call; ``function_roster`` says once which names are whose.

Example
-------
>>> from scones.declaration_flags import declare_functions
>>> declarations = declare_functions(["resize=./resize.py"])          # doctest: +SKIP
>>> with local_lambda_runtime(declarations, built_ins=scones_functions(...), endpoint_url=url,
...                           deps_cache=settings.cache_dir / CACHE_FOLDER) as runtime:  # doctest: +SKIP
...     print("\\n".join(function_roster(runtime).lines()))
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from scones.declarations import Declarations, FunctionSpec, Origin
from scones.lambda_runtime.function import FunctionConfig
from scones.lambda_runtime.isolated import TmpIsolation
from scones.lambda_runtime.requirements import CACHE_FOLDER, Progress, install, requirements_of
from scones.lambda_runtime.runtime import DEFAULT_ACCOUNT, DEFAULT_REGION, LocalLambdaRuntime
from scones.lambda_runtime.user_code import CodeKind, HandlerCode, check_code

__all__ = ["CACHE_FOLDER", "FunctionRoster", "aws_environment", "function_roster", "lambda_functions",
           "local_lambda_runtime"]

#: What boto3 signs with locally: the local endpoint checks nothing, but boto3 refuses to send unsigned requests.
PLACEHOLDER_KEY: Final = "scones-local"


def aws_environment(endpoint_url: str | None, region: str) -> dict[str, str]:
    """What a user function's environment gets unless it sets the variable itself: boto3 reaching the local
    endpoint, in the local region, with placeholder credentials, and none of this machine's AWS files (a Lambda
    environment has no ``~/.aws``)."""
    env = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": PLACEHOLDER_KEY,
        "AWS_SECRET_ACCESS_KEY": PLACEHOLDER_KEY,
        # Operations with a host prefix (sync-states., data-.…) would otherwise aim at a host that is not there.
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def lambda_functions(declarations: Declarations | Mapping[str, FunctionSpec], *, deps_cache: Path,
                     built_ins: Iterable[FunctionConfig] = (), endpoint_url: str | None = None,
                     region: str = DEFAULT_REGION, progress: Progress | None = None) -> list[FunctionConfig]:
    """Every function to register: the declared ones (checked, requirements installed), then each built-in whose
    name was not declared. Raises a ``SconesError`` before anything runs when a declaration cannot be used.

    ``endpoint_url`` is where the user's boto3 calls go (the local gateway); ``deps_cache`` is the folder
    requirements are installed under (``SCONES_HOME/cache/lambda-deps``: ``CACHE_FOLDER``).
    """
    specs = declarations.functions if isinstance(declarations, Declarations) else declarations
    checked = [(spec, check_code(spec)) for spec in specs.values()]  # every check before the first install
    configs = [_user_config(spec, code, deps_cache=deps_cache, endpoint_url=endpoint_url, region=region,
                            progress=progress) for spec, code in checked]
    configs.extend(b for b in built_ins if b.name not in specs)
    return configs


def local_lambda_runtime(declarations: Declarations | Mapping[str, FunctionSpec], *, deps_cache: Path,
                         built_ins: Iterable[FunctionConfig] = (), endpoint_url: str | None = None,
                         region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT, isolated: bool = False,
                         max_concurrency: int | None = None, strict_timeouts: bool = False,
                         private_tmp: bool | None = None, progress: Progress | None = None) -> LocalLambdaRuntime:
    """The runtime for ``declarations`` and the built-ins (use it as a context manager); see ``lambda_functions``
    and ``LocalLambdaRuntime`` for the parameters."""
    functions = lambda_functions(declarations, deps_cache=deps_cache, built_ins=built_ins, endpoint_url=endpoint_url,
                                 region=region, progress=progress)
    return LocalLambdaRuntime(functions, isolated=isolated, region=region, account_id=account_id,
                              max_concurrency=max_concurrency, strict_timeouts=strict_timeouts,
                              private_tmp=private_tmp)


def _user_config(spec: FunctionSpec, code: HandlerCode, *, deps_cache: Path, endpoint_url: str | None,
                 region: str, progress: Progress | None) -> FunctionConfig:
    paths: list[Path] = []
    if code.task_root is not None:
        requirements = requirements_of(code.task_root)
        if requirements is not None:
            paths.append(install(requirements, deps_cache, function=spec.name, progress=progress))
    for layer in spec.layers:
        paths.extend(layer_paths(layer))
    return FunctionConfig(
        name=spec.name, handler=code.handler, environment={**aws_environment(endpoint_url, region), **spec.environment},
        timeout_seconds=spec.timeout_seconds, memory_mb=spec.memory_mb,
        package=spec.code.read_bytes() if code.kind is CodeKind.ZIP else None, code=code.task_root,
        paths=tuple(paths), isolated=True, origin=spec.origin, declared_at=spec.declared_at)


def layer_paths(layer: Path) -> list[Path]:
    """A layer's folders on the path: its ``python/`` (and ``python/lib/pythonX.Y/site-packages``) as Lambda
    unpacks a layer under ``/opt``; a folder without ``python/`` goes on the path as it is."""
    python = layer / "python"
    if not python.is_dir():
        return [layer]
    site = python / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    return [python, site] if site.is_dir() else [python]


@dataclass(frozen=True)
class FunctionRoster:
    """Which function names are the user's and which are built-ins, said once when the runtime starts."""

    #: ``(name, where declared)`` of the user's functions.
    user: tuple[tuple[str, str], ...]
    built_in: tuple[str, ...]
    #: Built-in names a user declaration replaced.
    replaced: tuple[str, ...] = ()
    #: ``(user name, built-in name)`` pairs differing only in case: a definition gets the one it spells.
    case_only: tuple[tuple[str, str], ...] = ()
    tmp_isolation: TmpIsolation | None = None

    def lines(self) -> list[str]:
        out = []
        if self.user:
            declared = ", ".join(f"{name} ({where})" if where else name for name, where in self.user)
            out.append(f"your functions:     {declared}")
            if self.tmp_isolation is not None:
                out.append(f"                    run isolated, {self.tmp_isolation.value}")
        if self.built_in:
            out.append(f"built-in functions: {', '.join(self.built_in)}")
        out.extend(f"{name}: yours, in place of the built-in" for name in self.replaced)
        out.extend(f"note: your {mine} and the built-in {theirs} differ only in case; a definition gets the one it "
                   "spells" for mine, theirs in self.case_only)
        return out


def function_roster(runtime: LocalLambdaRuntime, *, built_ins: Iterable[str] = ()) -> FunctionRoster:
    """The roster of ``runtime``; ``built_ins``: the names of the built-ins offered (to tell which were replaced)."""
    functions = runtime.functions.values()
    user = tuple(sorted((f.name, f.declared_at) for f in functions if f.origin is not Origin.BUILT_IN))
    built_in = tuple(sorted(f.name for f in functions if f.origin is Origin.BUILT_IN))
    offered = set(built_ins)
    mine = {name for name, _ in user}
    replaced = tuple(sorted(offered & mine))
    case_only = tuple(sorted((m, b) for m in mine for b in offered | set(built_in)
                             if m != b and m.casefold() == b.casefold()))
    return FunctionRoster(user, built_in, replaced, case_only, runtime.tmp_isolation)
