"""Lambda function resources (SAM and plain CloudFormation) to ``FunctionSpec`` records.

Code comes from a local path relative to the template's folder (a folder, a
``.zip`` or a ``.py`` file), from inline ``ZipFile``/``InlineCode`` (written once to
a cache folder as the ``index.py`` Lambda itself would create), or, for the template
``scones deploy aws --template`` writes, from scones' own installed handlers. A
function scones cannot run (code in S3, a container image, another language, a
layer from outside the template) is kept as ``Unrunnable``: it is an error only when
a state machine of the template invokes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import scones
from scones.declarations import DEFAULT_MEMORY_MB, DEFAULT_RUNTIME, DEFAULT_TIMEOUT_SECONDS, FunctionSpec, Origin
from scones.lambda_runtime.contract import FUNCTION_NAME
from scones.templates.errors import TemplateError
from scones.templates.intrinsics import Resolver, text_of
from scones.templates.resources import LAMBDA_LAYER, LAYER_TYPES, SERVERLESS_FUNCTION, Resource, ResourceTable

#: The folder that holds the installed ``scones`` package: the code root of the built-in handlers
#: (``Handler: scones.functions.classify_image.lambda_handler``).
BUILT_IN_CODE: Final = Path(scones.__file__).resolve().parent.parent
#: Lambda writes inline Python code to this module (docs: AWS::Lambda::Function Code.ZipFile).
INLINE_MODULE: Final = "index"
_CODE_SUFFIXES: Final = (".zip", ".py")
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Unrunnable:
    """A function the template declares and scones cannot run, with why and what to do."""

    name: str
    where: str
    reason: str
    hint: str


@dataclass
class FunctionContext:
    """What converting one template's functions needs."""

    source: str
    folder: Path
    resolver: Resolver
    table: ResourceTable
    origin: Origin
    cache_dir: Path


def sam_globals(document: Mapping[str, Any], source: str) -> Mapping[str, Any]:
    globals_ = document.get("Globals") or {}
    function = globals_.get("Function") or {}
    if not isinstance(function, Mapping):
        raise TemplateError(source, "Globals.Function", "must be a mapping")
    return function


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in ("Ref", "Condition") or (
        isinstance(value, Mapping) and len(value) == 1 and str(next(iter(value))).startswith("Fn::"))


def with_globals(defaults: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's rule for ``Globals``: the function's own value wins, maps are merged, lists are added to."""
    merged = dict(defaults)
    for key, value in properties.items():
        default = merged.get(key)
        if isinstance(default, Mapping) and isinstance(value, Mapping) \
                and not _is_intrinsic(default) and not _is_intrinsic(value):
            merged[key] = with_globals(default, value)
        elif isinstance(default, list) and isinstance(value, list):
            merged[key] = [*default, *value]
        else:
            merged[key] = value
    return merged


def load_function(ctx: FunctionContext, resource: Resource,
                  defaults: Mapping[str, Any]) -> FunctionSpec | Unrunnable:
    """One function resource as a record, or why scones cannot run it."""
    props = with_globals(defaults, resource.properties) if resource.type == SERVERLESS_FUNCTION \
        else dict(resource.properties)
    where = resource.where
    resolver = ctx.resolver
    name = ctx.table.name_of(resource.logical_id)
    if not FUNCTION_NAME.fullmatch(name):  # else every invocation would fail with InvalidParameterValueException
        raise TemplateError(ctx.source, f"{where}.FunctionName" if "FunctionName" in props else where,
                            f"{name!r} is not a Lambda function name",
                            hint="1 to 64 letters, digits, hyphens and underscores")
    declared_at = f"{ctx.source}: {resource.logical_id}"

    def unrunnable(key: str, reason: str, hint: str) -> Unrunnable:
        return Unrunnable(name, f"{where}.{key}", reason, hint)

    package_type = resolver.resolve_text(props.get("PackageType", "Zip"), f"{where}.PackageType")
    if package_type == "Image":
        return unrunnable("PackageType", "is a container image function", "scones runs zip functions of a "
                          "python runtime: give it CodeUri, Handler and Runtime")
    runtime = resolver.resolve_text(props.get("Runtime", DEFAULT_RUNTIME), f"{where}.Runtime")
    if not runtime.startswith("python"):
        return unrunnable("Runtime", f"runs on {runtime}; scones runs Python functions only",
                          "run a python3.x function under this name, or leave it out of the workflow")
    if "Handler" not in props:
        raise TemplateError(ctx.source, where, "the function has no Handler",
                            hint="set Handler to module.function, e.g. app.lambda_handler")
    handler = resolver.resolve_text(props["Handler"], f"{where}.Handler")
    module, dot, function = handler.rpartition(".")
    if not dot or not module or not function:
        raise TemplateError(ctx.source, f"{where}.Handler", f"{handler!r} is not module.function",
                            hint="e.g. lambda_function.lambda_handler for lambda_function.py")

    origin = ctx.origin
    code = _code(ctx, resource, props, handler)
    if isinstance(code, tuple):
        key, location = code
        if _is_built_in(handler):
            code, origin = BUILT_IN_CODE, Origin.BUILT_IN
        else:
            return unrunnable(key, f"has its code in S3 ({location}), which scones does not download",
                              "point CodeUri (or Code) at the function's local folder, as before `sam package`")
    elif code.suffix == ".py":
        if module != code.stem:
            raise TemplateError(ctx.source, f"{where}.Handler", f"{handler!r} names module {module!r}, but the "
                                f"code is the file {code.name}", hint=f"set Handler to {code.stem}.{function}")
        handler = function

    layers = _layers(ctx, props.get("Layers"), f"{where}.Layers")
    if isinstance(layers, Unrunnable):
        return Unrunnable(name, layers.where, layers.reason, layers.hint)
    return FunctionSpec(name=name, code=code, handler=handler, origin=origin,
                        environment=_environment(ctx, props.get("Environment"), f"{where}.Environment"),
                        runtime=runtime,
                        timeout_seconds=_number(ctx, props.get("Timeout"), f"{where}.Timeout", float,
                                                DEFAULT_TIMEOUT_SECONDS),
                        memory_mb=_number(ctx, props.get("MemorySize"), f"{where}.MemorySize", int,
                                          DEFAULT_MEMORY_MB),
                        layers=layers, declared_at=declared_at)


def _is_built_in(handler: str) -> bool:
    """``scones.functions.<module>.lambda_handler`` of a catalogued function: scones' own deployed code."""
    from scones.functions.catalog import PACKAGE, SCONES_FUNCTIONS

    module, _, function = handler.rpartition(".")
    return function == "lambda_handler" and module in {f"{PACKAGE}.{info.module}" for info in SCONES_FUNCTIONS}


def _code(ctx: FunctionContext, resource: Resource, props: Mapping[str, Any],
          handler: str) -> Path | tuple[str, str]:
    """The local code path, or ``(property, S3 location)`` for code in S3."""
    where = resource.where
    if resource.type == SERVERLESS_FUNCTION:
        if "InlineCode" in props:
            return _inline(ctx, props["InlineCode"], f"{where}.InlineCode", resource, handler)
        key, value = "CodeUri", props.get("CodeUri", ".")  # SAM's default: the template's folder
    else:
        key, value = "Code", props.get("Code")
        if value is None:
            raise TemplateError(ctx.source, where, "the function has no Code",
                                hint="give Code: {ZipFile: ...} or a local path (as `aws cloudformation package` "
                                     "takes)")
    value = ctx.resolver.resolve(value, f"{where}.{key}")
    if isinstance(value, Mapping):
        if "ZipFile" in value:
            return _inline(ctx, value["ZipFile"], f"{where}.{key}.ZipFile", resource, handler)
        if "ImageUri" in value:
            return key, str(value["ImageUri"])
        bucket, object_key = value.get("S3Bucket", value.get("Bucket")), value.get("S3Key", value.get("Key"))
        if bucket is not None and object_key is not None:
            return key, f"s3://{bucket}/{object_key}"
        raise TemplateError(ctx.source, f"{where}.{key}", "names no code: give a local path, ZipFile, or "
                            "S3Bucket and S3Key")
    if not isinstance(value, str) or not value:
        raise TemplateError(ctx.source, f"{where}.{key}", "must be a path to the function's folder, .zip or .py")
    if value.startswith("s3://"):
        return key, value
    return local_path(ctx.source, ctx.folder, value, f"{where}.{key}", kinds="folder, .zip or .py file",
                      suffixes=_CODE_SUFFIXES)


def local_path(source: str, folder: Path, value: str, where: str, *, kinds: str,
               suffixes: tuple[str, ...] = ()) -> Path:
    """``value`` relative to the template's folder; it must exist and be a folder or a file of ``suffixes``."""
    path = (folder / value).resolve()
    if not path.exists():
        raise TemplateError(source, where, f"{value} does not exist (read relative to the template's folder, "
                            f"{folder})", hint=f"point it at the {kinds}")
    if path.is_file() and path.suffix not in suffixes:
        raise TemplateError(source, where, f"{value} is a {path.suffix or 'suffix-less'} file",
                            hint=f"point it at the {kinds}")
    return path


def _inline(ctx: FunctionContext, code: Any, where: str, resource: Resource, handler: str) -> Path:
    """Inline code written once to ``<cache>/inline-code/<digest>/index.py``, as Lambda would create it."""
    text = ctx.resolver.resolve_text(code, where, "the function's source code")
    module, _, function = handler.rpartition(".")
    if module != INLINE_MODULE:
        raise TemplateError(ctx.source, f"{resource.where}.Handler", f"{handler!r} names module {module!r}, but "
                            f"Lambda writes inline code to {INLINE_MODULE}.py",
                            hint=f"set Handler to {INLINE_MODULE}.{function}")
    from scones.store import atomic_write_bytes

    data = text.encode("utf-8")
    folder = ctx.cache_dir / "inline-code" / hashlib.sha256(data).hexdigest()[:20]
    target = folder / f"{INLINE_MODULE}.py"
    try:
        if not (target.is_file() and target.read_bytes() == data):
            atomic_write_bytes(target, data)
    except OSError as exc:
        raise TemplateError(ctx.source, where, f"cannot write the inline code to {target}: {exc.strerror or exc}",
                            hint="make the cache folder writable") from exc
    return folder


def _environment(ctx: FunctionContext, value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    environment = ctx.resolver.resolve(value, where)
    if not isinstance(environment, Mapping):
        raise TemplateError(ctx.source, where, "must be a mapping with Variables")
    variables = environment.get("Variables") or {}
    if not isinstance(variables, Mapping):
        raise TemplateError(ctx.source, f"{where}.Variables", "must be a mapping of names to values")
    out: dict[str, str] = {}
    for key, item in variables.items():
        text = text_of(item)
        if text is None:
            raise TemplateError(ctx.source, f"{where}.Variables.{key}", "must be a string, number or boolean, "
                                f"got {type(item).__name__}")
        out[str(key)] = text
    return out


def _number(ctx: FunctionContext, value: Any, where: str, kind: type[N], default: N) -> N:
    if value is None:
        return default
    text = ctx.resolver.resolve_text(value, where, "a number")
    try:
        number = kind(float(text)) if kind is int else kind(text)
    except ValueError as exc:
        raise TemplateError(ctx.source, where, f"{text!r} is not a number") from exc
    if number <= 0:
        raise TemplateError(ctx.source, where, f"must be positive, got {text}")
    return number


def _layers(ctx: FunctionContext, value: Any, where: str) -> tuple[Path, ...] | Unrunnable:
    """Each layer's folder: ``!Ref`` to a layer resource of this template with local content."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TemplateError(ctx.source, where, "must be a list of layers")
    layers: list[Path] = []
    arns = {ctx.table.ref(r.logical_id, where): r for r in ctx.table.resources.values()
            if r.type in LAYER_TYPES and ctx.table.exists(r.logical_id)}
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        target = item.get("Ref") if isinstance(item, Mapping) and len(item) == 1 else None
        resource = ctx.table.resources.get(target) if isinstance(target, str) else None
        if resource is None or resource.type not in LAYER_TYPES:
            resolved = ctx.resolver.resolve(item, at)
            resource = arns.get(resolved) if isinstance(resolved, str) else None
            if resource is None:
                return Unrunnable("", at, f"uses the layer {resolved!r}, which is not declared in this template",
                                  "declare the layer as AWS::Serverless::LayerVersion with a local ContentUri and "
                                  "refer to it with !Ref")
        ctx.table.ref(resource.logical_id, at)  # refused when its condition leaves the layer out
        layer = _layer_folder(ctx, resource)
        if isinstance(layer, Unrunnable):
            return layer
        layers.append(layer)
    return tuple(layers)


def _layer_folder(ctx: FunctionContext, resource: Resource) -> Path | Unrunnable:
    """A layer's ``python/`` folder when it has one (what Lambda puts on the path), else its content folder."""
    key = "Content" if resource.type == LAMBDA_LAYER else "ContentUri"
    where = f"{resource.where}.{key}"
    if key not in resource.properties:
        raise TemplateError(ctx.source, resource.where, f"the layer has no {key}",
                            hint=f"set {key} to the layer's local folder")
    value = ctx.resolver.resolve(resource.properties[key], where)
    if isinstance(value, Mapping) or (isinstance(value, str) and value.startswith("s3://")):
        return Unrunnable("", where, "uses a layer whose content is in S3, which scones does not download",
                          f"point {key} at the layer's local folder")
    if not isinstance(value, str) or not value:
        raise TemplateError(ctx.source, where, "must be the path of the layer's folder")
    # No suffixes: a file (a layer's .zip) is refused, scones reads layers from folders.
    path = local_path(ctx.source, ctx.folder, value, where, kinds="layer's folder (unzipped)")
    return path / "python" if (path / "python").is_dir() else path
