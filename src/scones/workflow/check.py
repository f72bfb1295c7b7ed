"""The contract check: one real execution, then what each state received and returned, and what is wrong with it.

Every finding corresponds to a classic failure of this workflow on AWS:

- ``missing_field``: a later step reads a field no earlier step produced
  (``KeyError: 'image_data'``), or finds it only inside a JSON *string*
  (``string indices must be integers``) or an un-filtered invoke result.
- ``not_json_native``: bytes returned by a handler (``Runtime.MarshalError``),
  the repr of bytes (``"b'iVBOR...'"``), a body re-encoded as a JSON string,
  numbers carried as strings.
- ``large_payload``: state data above 50 % of the 256 KiB Step Functions limit
  (docs/aws-facts.md, Step Functions).
- ``swallowed_error``: a function that *returned* an error (``statusCode`` >= 400,
  ``errorMessage``) instead of raising it, so the state machine reports success.
- ``function_error`` / ``execution_failed``: what failed, with its type, and
  whether a low-confidence ``Catch`` could ever match it.

It works on any workflow, not only the Scones functions: what a function reads is
known for the catalogued Scones functions (``catalog.reads``) and otherwise inferred
from what the state machine passes (every ``.$`` path against the input the state
got) and from what failed (``KeyError: 'image_data'``, ``string indices must be
integers``). Each finding that is one of the classic bugs of this workflow says so
in the user's terms (``ClassicBug``: returned bytes, raised a string, swallowed an
error, a field no earlier state produced, a body travelling as a JSON string, a
module that is not packaged), with a one-line explanation and fix.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from scones.executions.plan import states_of
from scones.workflow.outcomes import LOW_CONFIDENCE_ERROR, ExecutionOutcome
from scones.workflow.pipeline import LocalPipeline

STATE_DATA_LIMIT: Final = 262_144
LARGE_FRACTION: Final = 0.5
_SIMPLE_PATH: Final = re.compile(r"^\$((?:\.[A-Za-z_][A-Za-z0-9_]*)*)$")


class Kind(str, Enum):
    MISSING_FIELD = "missing_field"
    NOT_JSON_NATIVE = "not_json_native"
    LARGE_PAYLOAD = "large_payload"
    SWALLOWED_ERROR = "swallowed_error"
    FUNCTION_ERROR = "function_error"
    EXECUTION_FAILED = "execution_failed"


class ClassicBug(str, Enum):
    """The classic bugs of this workflow, as a user would name them; ``explanation`` and ``fix`` say the rest."""

    RETURNED_BYTES = "returned_bytes"
    RAISED_STRING = "raised_string"
    SWALLOWED_ERROR = "swallowed_error"
    FIELD_NEVER_PRODUCED = "field_never_produced"
    BODY_AS_JSON_STRING = "body_as_json_string"
    MODULE_NOT_PACKAGED = "module_not_packaged"

    @property
    def label(self) -> str:
        return _CLASSIC[self][0]

    @property
    def explanation(self) -> str:
        return _CLASSIC[self][1]

    @property
    def fix(self) -> str:
        return _CLASSIC[self][2]


_CLASSIC: Final[dict[ClassicBug, tuple[str, str, str]]] = {
    ClassicBug.RETURNED_BYTES: (
        "returned bytes",
        "base64.b64encode() gives bytes, and a Lambda result must be JSON: the invocation fails with "
        "Runtime.MarshalError (or carries the text \"b'...'\" when str() was used)",
        "return base64.b64encode(data).decode('utf-8')"),
    ClassicBug.RAISED_STRING: (
        "raised a string",
        "raise(\"THRESHOLD_CONFIDENCE_NOT_MET\") raises TypeError: exceptions must derive from BaseException, so "
        "no Retry or Catch on your error name ever matches",
        "raise an exception: raise Exception(\"THRESHOLD_CONFIDENCE_NOT_MET\"), or a class of your own named as "
        "the Catch expects"),
    ClassicBug.SWALLOWED_ERROR: (
        "swallowed an error",
        "the handler caught its error and returned it (statusCode 500, an error field): the state succeeds and the "
        "execution goes on as if nothing happened",
        "let the exception propagate (raise it) and handle it in the state machine with Retry and Catch"),
    ClassicBug.FIELD_NEVER_PRODUCED: (
        "a field no earlier state produced",
        "a state reads a field (a .$ path, or event[...] in the handler) that the state before it did not "
        "return, often because the whole Lambda invoke result (ExecutedVersion, Payload, StatusCode) was "
        "passed on",
        "return the field from the earlier function, or give the earlier Lambda state \"OutputPath\": "
        "\"$.Payload\""),
    ClassicBug.BODY_AS_JSON_STRING: (
        "a body that travels as a JSON string",
        "the body was returned as json.dumps(...) text, so the next handler's event['body']['field'] fails with "
        "'string indices must be integers'",
        "return the body as an object (a dict), not json.dumps(body)"),
    ClassicBug.MODULE_NOT_PACKAGED: (
        "a module that is not packaged",
        "the handler imports a module that is neither in its deployment package nor in a layer "
        "(Runtime.ImportModuleError); Lambda's Python runtime has the standard library and boto3 only",
        "list the package in requirements.txt beside the handler (or ship it in a layer), or drop the import: "
        "boto3.client('sagemaker-runtime') replaces the sagemaker SDK's Predictor"),
}


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    kind: Kind
    state: str | None
    message: str
    #: Which classic bug this is, when it is one.
    classic_bug: ClassicBug | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"severity": self.severity.value, "kind": self.kind.value, "state": self.state,
                                "message": self.message,
                                "classic_bug": self.classic_bug.value if self.classic_bug else None}
        if self.classic_bug:
            data.update(label=self.classic_bug.label, explanation=self.classic_bug.explanation,
                        fix=self.classic_bug.fix)
        return data


@dataclass(frozen=True)
class Invocation:
    function: str
    received: Any
    returned: Any
    function_error: str | None
    seconds: float


class RecordingInvoker:
    """Passes invocations through and keeps what each function received and returned."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()

    def invoke(self, function_name: str, payload: Any, *, qualifier: str | None = None) -> Any:
        started = time.perf_counter()
        result = self.inner.invoke(function_name, payload, qualifier=qualifier)
        name = function_name.split(":function:")[-1].split(":")[0]
        with self._lock:
            self.invocations.append(Invocation(name, payload, result.payload, result.function_error,
                                               time.perf_counter() - started))
        return result


@dataclass(frozen=True)
class Step:
    state: str
    invocation: Invocation

    def to_json(self) -> dict[str, Any]:
        inv = self.invocation
        return {"state": self.state, "function": inv.function, "received": shape(inv.received),
                "returned": shape(inv.returned), "received_bytes": json_size(inv.received),
                "returned_bytes": json_size(inv.returned), "function_error": inv.function_error}


@dataclass(frozen=True)
class CheckReport:
    outcome: ExecutionOutcome
    steps: list[Step]
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def error_count(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "execution": self.outcome.to_json(), "steps": [s.to_json() for s in self.steps],
                "findings": [f.to_json() for f in self.findings]}

    def format_text(self) -> str:
        lines = [f"execution {self.outcome.name}: {self.outcome.status}"
                 + (f" ({self.outcome.error})" if self.outcome.error else "")]
        for step in self.steps:
            data = step.to_json()
            lines.append(f"\n[{step.state}] {data['function']}"
                         + (f"  FunctionError={data['function_error']}" if data["function_error"] else ""))
            lines.append(f"  received ({data['received_bytes']} B): {data['received']}")
            lines.append(f"  returned ({data['returned_bytes']} B): {data['returned']}")
        lines.append("")
        if not self.findings:
            lines.append("no findings: every state got the fields it reads, in JSON-native form")
        for f in self.findings:
            lines.append(f"{f.severity.value.upper():7} {f.kind.value:17} {f.state or '-'}: {f.message}")
            if f.classic_bug:
                lines.append(f"{'':26}classic bug, {f.classic_bug.label}: {f.classic_bug.explanation}")
                lines.append(f"{'':26}fix: {f.classic_bug.fix}")
        return "\n".join(lines)


# -- shapes --------------------------------------------------------------------

def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str).encode("utf-8"))


def shape(value: Any, depth: int = 0) -> str:
    """A compact type sketch: ``{"statusCode": int, "body": {"image_data": str[4.1 KB], ...}}``."""
    if depth > 4:
        return "…"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {shape(v, depth + 1)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        kinds = sorted({shape(v, depth + 1) for v in value})
        return f"[{' | '.join(kinds)} ×{len(value)}]"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"str[{len(value) / 1024:.1f} KB]" if len(value) >= 1024 else "str"
    return type(value).__name__


# -- envelope lookup -----------------------------------------------------------

def _where(payload: Any, name: str) -> str | None:
    """Where ``name`` is in an event: ``top``, ``body``, ``body-string``, ``Payload``, or None."""
    if not isinstance(payload, Mapping):
        return None
    if name in payload:
        return "top"
    body = payload.get("body")
    if isinstance(body, Mapping) and name in body:
        return "body"
    if isinstance(body, str):
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if isinstance(decoded, Mapping) and name in decoded:
            return "body-string"
    if "Payload" in payload and _where(payload["Payload"], name):
        return "Payload"
    return None


def _walk(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value[:50]):
            yield from _walk(v, f"{path}[{i}]")


def _resolve(data: Any, path: str) -> bool:
    match = _SIMPLE_PATH.match(path)
    if not match:
        return True  # context paths, filters, intrinsics: not checked here
    for part in [p for p in match.group(1).split(".") if p]:
        if not isinstance(data, Mapping) or part not in data:
            return False
        data = data[part]
    return True


def _parameter_paths(parameters: Any) -> Iterator[str]:
    if isinstance(parameters, Mapping):
        for key, value in parameters.items():
            if str(key).endswith(".$") and isinstance(value, str) and value.startswith("$") \
                    and not value.startswith("$$"):
                yield value
            else:
                yield from _parameter_paths(value)


# -- the checks ----------------------------------------------------------------

def _all_states(definition: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for name, state in states_of(definition):
        out.setdefault(name, state)
    return out


def _state_inputs(execution_history: Sequence[Mapping[str, Any]]) -> list[tuple[str, Any]]:
    """``(state, input)`` for every state entered, from AWS-shaped history events."""
    entered = []
    for event in execution_history:
        details = event.get("stateEnteredEventDetails")
        if isinstance(details, Mapping) and "name" in details:
            try:
                data = json.loads(details.get("input", "null"))
            except ValueError:
                data = None
            entered.append((str(details["name"]), data))
    return entered


def catalogue_reads() -> dict[str, tuple[str, ...]]:
    """What each Scones function reads, from its catalogue; other functions' reads are inferred."""
    from scones.functions.catalog import SCONES_FUNCTIONS

    return {info.name: info.reads for info in SCONES_FUNCTIONS}


def check_invocations(invocations: list[Invocation], states_by_function: Mapping[str, str],
                      reads: Mapping[str, Sequence[str]] | None = None) -> list[Finding]:
    """Every finding in what each function received and returned.

    ``reads`` names the fields each function needs (default: the Scones catalogue); for any other
    function they are inferred from what failed (``KeyError: 'image_data'``).
    """
    reads = catalogue_reads() if reads is None else reads
    findings: list[Finding] = []
    limit = int(STATE_DATA_LIMIT * LARGE_FRACTION)
    for index, inv in enumerate(invocations):
        state = states_by_function.get(inv.function, inv.function)
        for name in reads.get(inv.function, ()):
            finding = _missing(inv, state, name, _where(inv.received, name), invocations[:index])
            if finding is not None:
                findings.append(finding)
        for label, value in (("received", inv.received), ("returned", inv.returned)):
            size = json_size(value)
            if size > limit:
                findings.append(Finding(Severity.WARNING, Kind.LARGE_PAYLOAD, state,
                                        f"{inv.function} {label} {size} bytes, above 50 % of the "
                                        f"{STATE_DATA_LIMIT}-byte state limit (States.DataLimitExceeded)"))
        if inv.function_error:
            finding = _function_error(inv, state, invocations[:index], reads.get(inv.function, ()))
            if finding is not None:
                findings.append(finding)
            continue
        findings.extend(_swallowed(inv, state))
        findings.extend(_non_native(inv, state))
    return findings


def _missing(inv: Invocation, state: str, name: str, where: str | None,
             earlier: Sequence[Invocation]) -> Finding | None:
    """A field the function reads, looked for in its event: absent, or only in a JSON string or a Payload."""
    if where is None:
        keys = list(inv.received) if isinstance(inv.received, Mapping) else type(inv.received).__name__
        return Finding(Severity.ERROR, Kind.MISSING_FIELD, state,
                       f"{inv.function} reads '{name}' but its event has none (keys: {keys}); a handler indexing "
                       f"event['{name}'] or event['body']['{name}'] fails with KeyError",
                       ClassicBug.FIELD_NEVER_PRODUCED)
    if where == "body-string":
        return Finding(Severity.WARNING, Kind.MISSING_FIELD, state,
                       f"{inv.function} finds '{name}' only under 'body-string'{_producer(earlier)}; a handler "
                       f"reading event['body']['{name}'] fails ('string indices must be integers' or KeyError)",
                       ClassicBug.BODY_AS_JSON_STRING)
    if where == "Payload":
        return Finding(Severity.WARNING, Kind.MISSING_FIELD, state,
                       f"{inv.function} finds '{name}' only under 'Payload'; a handler reading "
                       f"event['body']['{name}'] fails ('string indices must be integers' or KeyError)",
                       ClassicBug.FIELD_NEVER_PRODUCED)
    return None


def _producer(earlier: Sequence[Invocation]) -> str:
    """`` (serializeImageData returned it as a JSON string)`` for the latest function whose body was text."""
    for inv in reversed(earlier):
        body = inv.returned.get("body") if isinstance(inv.returned, Mapping) else None
        if isinstance(body, str) and body[:1] == "{":
            return f" ({inv.function} returned its body as a JSON string)"
    return ""


def _key_error_field(message: str) -> str | None:
    """``'image_data'`` (a KeyError's message) -> ``image_data``."""
    match = re.fullmatch(r"""\s*['"]([^'"]+)['"]\s*""", message)
    return match.group(1) if match else None


def _function_error(inv: Invocation, state: str, earlier: Sequence[Invocation],
                    known_reads: Sequence[str]) -> Finding | None:
    """What a failed invocation says, in the user's terms."""
    error = inv.returned if isinstance(inv.returned, Mapping) else {}
    error_type = str(error.get("errorType", "Lambda.Unknown"))
    message = str(error.get("errorMessage", ""))[:300]
    if error_type == "Runtime.MarshalError":
        return Finding(Severity.ERROR, Kind.NOT_JSON_NATIVE, state,
                       f"{inv.function} returned a value that is not JSON: {message} (base64 must be decoded to str)",
                       ClassicBug.RETURNED_BYTES)
    if error_type == "InvalidEvent":
        body = inv.received.get("body") if isinstance(inv.received, Mapping) else None
        bug = ClassicBug.BODY_AS_JSON_STRING if isinstance(body, str) else ClassicBug.FIELD_NEVER_PRODUCED
        return Finding(Severity.ERROR, Kind.MISSING_FIELD, state, f"{inv.function}: {message}", bug)
    if error_type == "Runtime.ImportModuleError":
        return Finding(Severity.ERROR, Kind.FUNCTION_ERROR, state,
                       f"{inv.function} cannot start: {message}", ClassicBug.MODULE_NOT_PACKAGED)
    if error_type == "KeyError":
        name = _key_error_field(message)
        if name is not None:
            if name in known_reads:
                return None  # reported by the reads check already
            finding = _missing(inv, state, name, _where(inv.received, name), earlier)
            if finding is not None:
                return Finding(Severity.ERROR, finding.kind, state,
                               f"{inv.function} raised KeyError: '{name}' — " + finding.message.split("; ", 1)[0],
                               finding.classic_bug)
    if error_type == "TypeError" and "string indices must be integers" in message:
        body = inv.received.get("body") if isinstance(inv.received, Mapping) else None
        if isinstance(body, str):
            return Finding(Severity.ERROR, Kind.MISSING_FIELD, state,
                           f"{inv.function} raised TypeError: {message} — its event's body is a JSON string"
                           f"{_producer(earlier)}", ClassicBug.BODY_AS_JSON_STRING)
    if error_type == LOW_CONFIDENCE_ERROR:
        return None
    low_confidence = "THRESHOLD_CONFIDENCE_NOT_MET" in message
    raised_string = error_type == "TypeError" and "exceptions must derive from BaseException" in message
    hint = " — a Catch on ThresholdConfidenceNotMet will not match it" if low_confidence or raised_string else ""
    if low_confidence and not raised_string:
        # The filter doing its job with a plain Exception: the workflow's intended low-confidence end.
        return Finding(Severity.WARNING, Kind.FUNCTION_ERROR, state,
                       f"{inv.function} raised {error_type}: {message}{hint} (Catch {error_type} or States.ALL)")
    return Finding(Severity.ERROR, Kind.FUNCTION_ERROR, state, f"{inv.function} raised {error_type}: {message}{hint}",
                   ClassicBug.RAISED_STRING if raised_string else None)


def _swallowed(inv: Invocation, state: str) -> Iterator[Finding]:
    value = inv.returned
    if not isinstance(value, Mapping):
        return
    status = value.get("statusCode")
    if isinstance(status, int) and status >= 400:
        yield Finding(Severity.ERROR, Kind.SWALLOWED_ERROR, state,
                      f"{inv.function} returned statusCode {status} instead of raising; the state succeeds "
                      "and the error is lost", ClassicBug.SWALLOWED_ERROR)
    for key in ("errorMessage", "error", "errorType"):
        if key in value or (isinstance(value.get("body"), Mapping) and key in value["body"]):
            yield Finding(Severity.ERROR, Kind.SWALLOWED_ERROR, state,
                          f"{inv.function} returned an '{key}' field instead of raising; no Retry or Catch sees it",
                          ClassicBug.SWALLOWED_ERROR)
            return


def _non_native(inv: Invocation, state: str) -> Iterator[Finding]:
    for path, item in _walk(inv.returned):
        if not isinstance(item, str):
            continue
        if re.match(r"^b['\"]", item):
            yield Finding(Severity.ERROR, Kind.NOT_JSON_NATIVE, state,
                          f"{inv.function} returned {path} as the repr of bytes ({item[:12]}…); "
                          "use base64.b64encode(data).decode('ascii')", ClassicBug.RETURNED_BYTES)
        elif item[:1] in "{[" and len(item) > 1:
            try:
                json.loads(item)
            except ValueError:
                continue
            yield Finding(Severity.WARNING, Kind.NOT_JSON_NATIVE, state,
                          f"{inv.function} returned {path} as a JSON-encoded string; return the object itself",
                          ClassicBug.BODY_AS_JSON_STRING)
        elif path.endswith(tuple(f"inferences[{i}]" for i in range(10))):
            yield Finding(Severity.WARNING, Kind.NOT_JSON_NATIVE, state,
                          f"{inv.function} returned {path} as a string ({item!r}); inferences must be numbers")


def check_state_reads(definition: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """Every ``.$`` path and ``InputPath`` a state reads, against the input that state actually got."""
    states = _all_states(definition)
    findings: list[Finding] = []
    limit = int(STATE_DATA_LIMIT * LARGE_FRACTION)
    reported: set[tuple[str, str]] = set()
    for name, data in _state_inputs(history):
        state = states.get(name, {})
        paths = list(_parameter_paths(state.get("Parameters")))
        paths += list(_parameter_paths(state.get("ItemSelector")))
        if isinstance(state.get("InputPath"), str):
            paths.append(state["InputPath"])
        for path in paths:
            if (name, path) not in reported and not _resolve(data, path):
                reported.add((name, path))
                keys = list(data) if isinstance(data, Mapping) else type(data).__name__
                hint = ""
                if isinstance(data, Mapping) and _resolve(data.get("Payload"), path):
                    hint = ("; it is under $.Payload: give the previous Lambda state \"OutputPath\": \"$.Payload\""
                            " (or a ResultSelector)")
                findings.append(Finding(Severity.ERROR, Kind.MISSING_FIELD, name,
                                        f"reads {path} but no earlier state produced it (its input has {keys}){hint}",
                                        ClassicBug.FIELD_NEVER_PRODUCED))
        size = json_size(data)
        if size > limit and (name, "size") not in reported:
            reported.add((name, "size"))
            findings.append(Finding(Severity.WARNING, Kind.LARGE_PAYLOAD, name,
                                    f"input is {size} bytes, above 50 % of the {STATE_DATA_LIMIT}-byte limit"))
    return findings


def run_check(pipeline: LocalPipeline, execution_input: Any,
              reads: Mapping[str, Sequence[str]] | None = None) -> CheckReport:
    """One real execution through a recording invoker, then every check.

    ``reads``: the fields each function needs, by function name (default: the Scones catalogue). Pass
    ``{}`` for a user's functions that merely share a Scones name; their reads are then inferred.
    """
    recorder = RecordingInvoker(pipeline.service.invoker)
    plan = pipeline.plan
    with pipeline.service.with_invoker(recorder) as service:
        checked = LocalPipeline(service, pipeline.state_machine, bucket=pipeline.bucket)
        outcome, execution = checked.run_with_execution(execution_input)
    by_function = dict(plan.function_states)
    steps = [Step(by_function.get(inv.function, inv.function), inv) for inv in recorder.invocations]
    findings = check_invocations(recorder.invocations, by_function, reads)
    findings += check_state_reads(plan.document, execution.events())
    if outcome.status != "SUCCEEDED" and outcome.error != LOW_CONFIDENCE_ERROR:
        # A filter that raised a plain Exception("THRESHOLD_CONFIDENCE_NOT_MET") ended the run as designed.
        severity = Severity.WARNING if _ended_by_low_confidence(recorder.invocations) else Severity.ERROR
        findings.append(Finding(severity, Kind.EXECUTION_FAILED, None,
                                f"execution {outcome.status}: {outcome.error}: {str(outcome.cause)[:300]}"))
    return CheckReport(outcome=outcome, steps=steps, findings=findings)


def _ended_by_low_confidence(invocations: Sequence[Invocation]) -> bool:
    failed = [inv for inv in invocations if inv.function_error and isinstance(inv.returned, Mapping)]
    if not failed:
        return False
    error = failed[-1].returned
    return "THRESHOLD_CONFIDENCE_NOT_MET" in str(error.get("errorMessage", "")) and error.get("errorType") not in (
        "TypeError", "Runtime.MarshalError", "Runtime.ImportModuleError")
