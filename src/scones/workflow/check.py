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


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    kind: Kind
    state: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"severity": self.severity.value, "kind": self.kind.value, "state": self.state,
                "message": self.message}


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


def check_invocations(invocations: list[Invocation], states_by_function: Mapping[str, str]) -> list[Finding]:
    from scones.functions.catalog import SCONES_FUNCTIONS

    reads = {info.name: info.reads for info in SCONES_FUNCTIONS}
    findings: list[Finding] = []
    limit = int(STATE_DATA_LIMIT * LARGE_FRACTION)
    for inv in invocations:
        state = states_by_function.get(inv.function, inv.function)
        for name in reads.get(inv.function, ()):
            where = _where(inv.received, name)
            if where is None:
                keys = list(inv.received) if isinstance(inv.received, Mapping) else type(inv.received).__name__
                findings.append(Finding(Severity.ERROR, Kind.MISSING_FIELD, state,
                                        f"{inv.function} reads '{name}' but its event has none (keys: {keys}); "
                                        f"a handler indexing event['{name}'] or event['body']['{name}'] fails "
                                        f"with KeyError"))
            elif where in ("body-string", "Payload"):
                findings.append(Finding(Severity.WARNING, Kind.MISSING_FIELD, state,
                                        f"{inv.function} finds '{name}' only under {where!r}; a handler reading "
                                        f"event['body']['{name}'] fails ('string indices must be integers' "
                                        f"or KeyError)"))
        for label, value in (("received", inv.received), ("returned", inv.returned)):
            size = json_size(value)
            if size > limit:
                findings.append(Finding(Severity.WARNING, Kind.LARGE_PAYLOAD, state,
                                        f"{inv.function} {label} {size} bytes, above 50 % of the "
                                        f"{STATE_DATA_LIMIT}-byte state limit (States.DataLimitExceeded)"))
        if inv.function_error:
            error = inv.returned if isinstance(inv.returned, Mapping) else {}
            error_type = error.get("errorType", "Lambda.Unknown")
            message = str(error.get("errorMessage", ""))[:300]
            if error_type == "Runtime.MarshalError":
                findings.append(Finding(Severity.ERROR, Kind.NOT_JSON_NATIVE, state,
                                        f"{inv.function} returned a value that is not JSON: {message} "
                                        "(base64 must be decoded to str)"))
            elif error_type == "InvalidEvent":
                findings.append(Finding(Severity.ERROR, Kind.MISSING_FIELD, state, f"{inv.function}: {message}"))
            elif error_type != LOW_CONFIDENCE_ERROR:
                hint = (" — a Catch on ThresholdConfidenceNotMet will not match it"
                        if "THRESHOLD_CONFIDENCE_NOT_MET" in message or error_type == "TypeError" else "")
                findings.append(Finding(Severity.ERROR, Kind.FUNCTION_ERROR, state,
                                        f"{inv.function} raised {error_type}: {message}{hint}"))
            continue
        findings.extend(_swallowed(inv, state))
        findings.extend(_non_native(inv, state))
    return findings


def _swallowed(inv: Invocation, state: str) -> Iterator[Finding]:
    value = inv.returned
    if not isinstance(value, Mapping):
        return
    status = value.get("statusCode")
    if isinstance(status, int) and status >= 400:
        yield Finding(Severity.ERROR, Kind.SWALLOWED_ERROR, state,
                      f"{inv.function} returned statusCode {status} instead of raising; the state succeeds "
                      "and the error is lost")
    for key in ("errorMessage", "error", "errorType"):
        if key in value or (isinstance(value.get("body"), Mapping) and key in value["body"]):
            yield Finding(Severity.ERROR, Kind.SWALLOWED_ERROR, state,
                          f"{inv.function} returned an '{key}' field instead of raising; no Retry or Catch sees it")
            return


def _non_native(inv: Invocation, state: str) -> Iterator[Finding]:
    for path, item in _walk(inv.returned):
        if not isinstance(item, str):
            continue
        if re.match(r"^b['\"]", item):
            yield Finding(Severity.ERROR, Kind.NOT_JSON_NATIVE, state,
                          f"{inv.function} returned {path} as the repr of bytes ({item[:12]}…); "
                          "use base64.b64encode(data).decode('ascii')")
        elif item[:1] in "{[" and len(item) > 1:
            try:
                json.loads(item)
            except ValueError:
                continue
            yield Finding(Severity.WARNING, Kind.NOT_JSON_NATIVE, state,
                          f"{inv.function} returned {path} as a JSON-encoded string; return the object itself")
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
                                        f"reads {path} but no earlier state produced it (its input has {keys}){hint}"))
        size = json_size(data)
        if size > limit and (name, "size") not in reported:
            reported.add((name, "size"))
            findings.append(Finding(Severity.WARNING, Kind.LARGE_PAYLOAD, name,
                                    f"input is {size} bytes, above 50 % of the {STATE_DATA_LIMIT}-byte limit"))
    return findings


def run_check(pipeline: LocalPipeline, execution_input: Any) -> CheckReport:
    """One real execution through a recording invoker, then every check."""
    recorder = RecordingInvoker(pipeline.service.invoker)
    plan = pipeline.plan
    with pipeline.service.with_invoker(recorder) as service:
        checked = LocalPipeline(service, pipeline.state_machine, bucket=pipeline.bucket)
        outcome, execution = checked.run_with_execution(execution_input)
    by_function = dict(plan.function_states)
    steps = [Step(by_function.get(inv.function, inv.function), inv) for inv in recorder.invocations]
    findings = check_invocations(recorder.invocations, by_function)
    findings += check_state_reads(plan.document, execution.events())
    if outcome.status != "SUCCEEDED" and outcome.error != LOW_CONFIDENCE_ERROR:
        findings.append(Finding(Severity.ERROR, Kind.EXECUTION_FAILED, None,
                                f"execution {outcome.status}: {outcome.error}: {str(outcome.cause)[:300]}"))
    return CheckReport(outcome=outcome, steps=steps, findings=findings)
