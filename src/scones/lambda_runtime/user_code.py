"""A declared function's code, found and checked before anything runs.

A ``FunctionSpec`` names its code as a ``.py`` file (the handler is a function
in it), a folder or a ``.zip`` (the handler is Lambda's ``module.function``
setting). ``check_code`` finds the handler's module and reads it without running
it: a syntax error is reported with its file and line (on AWS every invocation
would fail with ``Runtime.UserCodeSyntaxError``), a handler the module does not
define by name (``Runtime.HandlerNotFound``), a zip that is not one or whose
members would land outside its folder (zip-slip). The user's module is never
imported in this process: its top-level code runs in its own worker only.
"""

from __future__ import annotations

import ast
import enum
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from scones.declarations import FunctionSpec
from scones.errors import UsageError
from scones.lambda_runtime.unzip import escapes

#: The handler setting a folder or zip gets when none is given (the console's default for Python).
DEFAULT_MODULE_HANDLER: Final = "lambda_function.lambda_handler"
#: The handler function a ``.py`` file gets when none is given.
DEFAULT_FILE_HANDLER: Final = "lambda_handler"


class CodeError(UsageError):
    """A declared function's code that cannot run: missing, unreadable, not Python, or without its handler."""


class CodeKind(enum.Enum):
    FILE = "file"  # one .py file: its folder is the task root, the handler a function in it
    FOLDER = "folder"  # run in place: the folder is the task root
    ZIP = "zip"  # a deployment package, unpacked for the worker


@dataclass(frozen=True)
class HandlerCode:
    """Where a function's handler is, in Lambda's terms."""

    kind: CodeKind
    #: Lambda's ``Handler`` setting (``module.function``); a file's module is its name without ``.py``.
    handler: str
    #: The folder the worker runs in (``LAMBDA_TASK_ROOT``); ``None`` for a zip (unpacked at start).
    task_root: Path | None


def code_kind(spec: FunctionSpec) -> CodeKind:
    path = spec.code
    if not path.exists():
        raise CodeError(f"{spec.name}: {path} does not exist ({_where(spec)})",
                        hint="give the path of a .py file, a folder or a .zip, relative to this folder or absolute")
    if path.is_dir():
        return CodeKind.FOLDER
    if path.suffix == ".py":
        return CodeKind.FILE
    if path.suffix == ".zip":
        return CodeKind.ZIP
    raise CodeError(f"{spec.name}: {path} is neither a .py file, a folder nor a .zip ({_where(spec)})")


def locate(spec: FunctionSpec) -> HandlerCode:
    """The handler setting and task root of ``spec`` (no checks beyond the path's kind)."""
    kind = code_kind(spec)
    path = spec.code.absolute()  # the worker runs in the task root: a relative path would mean another folder
    if kind is CodeKind.FILE:
        return HandlerCode(kind, f"{path.stem}.{spec.handler}", path.parent)
    return HandlerCode(kind, spec.handler, path if kind is CodeKind.FOLDER else None)


def check_code(spec: FunctionSpec) -> HandlerCode:
    """Find ``spec``'s handler module and check it can load, as AWS's runtime would at init; raise ``CodeError``."""
    if not spec.runtime.startswith("python"):
        raise CodeError(f"{spec.name}: runtime {spec.runtime} ({_where(spec)}): scones runs Python functions only",
                        hint="declare a pythonX.Y runtime, or leave this function out of the local run")
    code = locate(spec)
    module, attr = _split_handler(spec, code)
    if code.kind is CodeKind.ZIP:
        source, shown = _from_zip(spec, module)
    else:
        assert code.task_root is not None
        source, shown = _from_folders(spec, module, [code.task_root, *spec.layers])
    tree = _parse(spec, source, shown)
    names = top_level_names(tree)
    if names is not None and attr not in names:
        functions = sorted(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
        raise CodeError(f"{spec.name}: handler '{attr}' missing on module '{module}' ({shown}); on AWS every "
                        "invocation would fail with Runtime.HandlerNotFound",
                        hint=f"functions defined in it: {', '.join(functions)}" if functions
                        else "define the handler function in that file")
    return code


def _split_handler(spec: FunctionSpec, code: HandlerCode) -> tuple[str, str]:
    if code.kind is CodeKind.FILE:
        if "." in spec.code.stem:
            raise CodeError(f"{spec.name}: {spec.code.name} cannot be a handler module: a dot in a module's name "
                            "means a package to Python", hint="rename the file without the dot")
        if not spec.handler.isidentifier():
            raise CodeError(f"{spec.name}: '{spec.handler}' is not a Python function name ({_where(spec)})",
                            hint=f"give the name of the handler function in {spec.code.name}")
        return spec.code.stem, spec.handler
    module, _, attr = code.handler.replace("/", ".").rpartition(".")
    if not module or not attr.isidentifier() or not all(module.split(".")):
        raise CodeError(f"{spec.name}: handler '{code.handler}' is not Lambda's module.function form "
                        f"({_where(spec)})", hint=f"e.g. {DEFAULT_MODULE_HANDLER} (the file lambda_function.py, "
                                                  "the function lambda_handler)")
    return module, attr


def _module_files(module: str) -> tuple[str, str]:
    base = module.replace(".", "/")
    return f"{base}.py", f"{base}/__init__.py"


def _from_folders(spec: FunctionSpec, module: str, folders: list[Path]) -> tuple[bytes, str]:
    candidates = _module_files(module)
    for folder in folders:
        for relative in candidates:
            path = folder / relative
            if path.is_file():
                try:
                    return path.read_bytes(), str(path)
                except OSError as exc:
                    raise CodeError(f"{spec.name}: cannot read {path}: {exc.strerror or exc}") from exc
    raise CodeError(f"{spec.name}: no module '{module}' in {folders[0]} (looked for {candidates[0]}); on AWS every "
                    "invocation would fail with Runtime.ImportModuleError",
                    hint="give the handler as module.function, the module being a .py file in that folder")


def _from_zip(spec: FunctionSpec, module: str) -> tuple[bytes, str]:
    try:
        with zipfile.ZipFile(spec.code) as zf:
            members = zf.namelist()
            bad = [m for m in members if escapes(m)]
            if bad:
                raise CodeError(f"{spec.name}: {spec.code} has member {bad[0]!r}, which would land outside the "
                                "folder it is unpacked into (zip-slip); scones refuses to unpack it",
                                hint="rebuild the zip with paths relative to its root")
            for relative in _module_files(module):
                if relative in members:
                    return zf.read(relative), f"{spec.code}/{relative}"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise CodeError(f"{spec.name}: {spec.code} is not a readable zip file: {exc}",
                        hint="give a deployment package made by zip, sam build or your CI") from exc
    raise CodeError(f"{spec.name}: no module '{module}' in {spec.code} (looked for {_module_files(module)[0]} at its "
                    "root); on AWS every invocation would fail with Runtime.ImportModuleError",
                    hint="put the handler's file at the zip's root, or give the handler as module.function")


def _parse(spec: FunctionSpec, source: bytes, shown: str) -> ast.Module:
    try:
        return ast.parse(source, filename=shown)
    except SyntaxError as exc:
        line = (exc.text or "").rstrip()
        where = f"{shown}, line {exc.lineno}" if exc.lineno else shown
        raise CodeError(f"{spec.name}: syntax error in {where}: {exc.msg}" + (f"\n    {line.strip()}" if line else "")
                        + "\n  (on AWS every invocation would fail with Runtime.UserCodeSyntaxError)",
                        hint="fix the line and run again") from exc
    except ValueError as exc:  # NUL bytes and the like
        raise CodeError(f"{spec.name}: {shown} is not Python source: {exc}") from exc


def top_level_names(tree: ast.Module) -> set[str] | None:
    """Names the module binds at its top level (also under ``if``/``try``/``with``/loops); ``None`` when it cannot be
    told without running it (``from x import *``, a module ``__getattr__``)."""
    names: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
                               ast.TryStar)):
            # A loop's target and a with's ``as`` bind names too.
            bound = [node.target] if isinstance(node, (ast.For, ast.AsyncFor)) else \
                [item.optional_vars for item in node.items if item.optional_vars is not None] \
                if isinstance(node, (ast.With, ast.AsyncWith)) else []
            names.update(n.id for t in bound for n in ast.walk(t) if isinstance(n, ast.Name))
            for body in ("body", "orelse", "finalbody"):
                pending.extend(getattr(node, body, []))
            for handler in getattr(node, "handlers", []):
                pending.extend(handler.body)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                pending.extend(case.body)
    if "__getattr__" in names:
        return None
    return names


def _where(spec: FunctionSpec) -> str:
    return spec.declared_at or "declared"
