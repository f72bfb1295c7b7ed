"""Functions declared by flags: ``--function NAME=PATH[:HANDLER]`` and ``--env NAME:KEY=VALUE``, as ``Declarations``.

``PATH`` is a ``.py`` file (``HANDLER`` is the function's name in it, default
``lambda_handler``), a folder or a ``.zip`` (``HANDLER`` is Lambda's
``module.function`` setting, default ``lambda_function.lambda_handler``). Every
flag is checked, and every declared function's code read (not run), before
anything starts: the problems found are reported together, and nothing is
written. The CLI passes the flags' values as given; this module knows no click.

Example
-------
>>> declare_functions(["resize=handlers/resize.py:handler"], ["resize:SIZE=64"])  # doctest: +SKIP
Declarations(functions={'resize': FunctionSpec(name='resize', code=PosixPath('/…/handlers/resize.py'), …)})
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from scones.declarations import Declarations, FunctionSpec, Origin
from scones.errors import SconesError, UsageError
from scones.lambda_runtime.contract import FUNCTION_NAME
from scones.lambda_runtime.names import nearest
from scones.lambda_runtime.user_code import DEFAULT_FILE_HANDLER, DEFAULT_MODULE_HANDLER, check_code

#: Lambda's rule for an environment variable's key (docs/aws-facts.md, Lambda: environment variables).
ENV_KEY: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]+")
FUNCTION_FORM: Final = "--function NAME=PATH[:HANDLER]"
ENV_FORM: Final = "--env NAME:KEY=VALUE"


def declare_functions(functions: Sequence[str], environment: Sequence[str] = (), *,
                      cwd: Path | None = None, template: Mapping[str, FunctionSpec] | None = None) -> Declarations:
    """``Declarations.functions`` from the values of ``--function`` and ``--env`` (relative paths from ``cwd``,
    default the current folder). Raises ``UsageError`` listing every problem found.

    ``template``: the functions a template declares. ``--env`` sets their variables by the same rules, and they
    come back too, after the template's own order; a ``--function`` of one of their names is a problem."""
    base = Path.cwd() if cwd is None else cwd
    declared = dict(template or {})
    problems: list[SconesError] = []
    specs: dict[str, FunctionSpec] = {}
    for raw in functions:
        try:
            spec = parse_function(raw, base)
        except UsageError as exc:
            problems.append(exc)
            continue
        if spec.name in specs:
            problems.append(UsageError(f"{spec.name} is declared twice: {specs[spec.name].declared_at} and "
                                       f"{spec.declared_at}", hint="keep one --function per name"))
            continue
        if spec.name in declared:
            problems.append(UsageError(f"The function {spec.name!r} is declared twice: "
                                       f"{declared[spec.name].declared_at or 'the template'} and {spec.declared_at}",
                                       hint="declare it once: in the template or by a flag"))
            continue
        specs[spec.name] = spec
    declared.update(specs)
    environments: dict[str, dict[str, str]] = {}
    for raw in environment:
        try:
            name, key, value = parse_env(raw)
            _set_env(environments.setdefault(name, {}), name, key, value, raw, declared, template is not None)
        except UsageError as exc:
            problems.append(exc)
    for name, env in environments.items():
        if name in declared:
            declared[name] = dataclasses.replace(declared[name], environment={**declared[name].environment, **env})
    for name in specs:
        try:
            check_code(declared[name])
        except UsageError as exc:
            problems.append(exc)
    if problems:
        raise _together(problems)
    return Declarations(functions=declared)


def parse_function(raw: str, base: Path) -> FunctionSpec:
    """One ``--function`` value: the name checked, the path made absolute (its code is not checked here)."""
    name, sep, target = raw.partition("=")
    if not sep or not name or not target:
        raise UsageError(f"--function {raw!r} is not {FUNCTION_FORM}", hint="e.g. --function resize=./resize.py")
    check_name(name, f"--function {raw}")
    path_text, handler = _split_target(target, base)
    path = (base / Path(path_text).expanduser()).absolute()
    if handler is None:
        handler = DEFAULT_FILE_HANDLER if path.suffix == ".py" else DEFAULT_MODULE_HANDLER
    return FunctionSpec(name=name, code=path, handler=handler, origin=Origin.FLAG, declared_at=f"--function {raw}")


def parse_env(raw: str) -> tuple[str, str, str]:
    """One ``--env`` value: ``(function, key, value)``; the value may hold ``=`` and ``:``."""
    name, sep, assignment = raw.partition(":")
    key, eq, value = assignment.partition("=")
    if not sep or not eq or not name:
        raise UsageError(f"--env {raw!r} is not {ENV_FORM}", hint="e.g. --env resize:SIZE=64")
    if not ENV_KEY.fullmatch(key):
        raise UsageError(f"--env {raw!r}: {key!r} is not an environment variable name",
                         hint="a letter, then at least one more letter, digit or underscore, as Lambda requires")
    return name, key, value


def check_name(name: str, where: str) -> None:
    if not FUNCTION_NAME.fullmatch(name):
        raise UsageError(f"{where}: {name!r} is not a Lambda function name",
                         hint="1 to 64 letters, digits, hyphens and underscores")


def _split_target(target: str, base: Path) -> tuple[str, str | None]:
    """``PATH[:HANDLER]``: a path that exists as written wins, so a path may itself hold a colon."""
    if (base / Path(target).expanduser()).exists() or ":" not in target:
        return target, None
    path, _, handler = target.rpartition(":")
    if not path or not handler:
        raise UsageError(f"--function …={target!r} is not PATH[:HANDLER]",
                         hint="give the handler after the path, e.g. ./app:app.handler")
    return path, handler


def _set_env(env: dict[str, str], name: str, key: str, value: str, raw: str,
             specs: Mapping[str, FunctionSpec], with_template: bool) -> None:
    if name not in specs:
        guess = nearest(name, specs)
        raise UsageError(f"--env {raw}: no --function declares {name}" + (", nor the template" if with_template
                                                                          else ""),
                         hint=f"did you mean {guess}?" if guess else "declare it with --function NAME=PATH first")
    if key in env and env[key] != value:
        raise UsageError(f"--env {raw}: {name}'s {key} is already set to {env[key]!r}",
                         hint="give each variable once")
    env[key] = value


def _together(problems: list[SconesError]) -> UsageError:
    if len(problems) == 1 and isinstance(problems[0], UsageError):
        return problems[0]
    listed = "\n".join(f"  - {p.format_message()}".replace("\n", "\n    ") for p in problems)
    return UsageError(f"{len(problems)} problems with the declared functions:\n{listed}")
