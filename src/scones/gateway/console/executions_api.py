"""State machines and executions for the console: lists, one execution in detail, start and stop.

Every call goes to the execution service, the one owner of executions; nothing here reads
histories or the listing index by itself.
"""

from __future__ import annotations

import json
from typing import Any, Final

from scones.errors import NotFoundError
from scones.executions.records import ExecutionSummary, InvalidToken
from scones.executions.service import ExecutionAlreadyExists, ExecutionDoesNotExist, StateMachineDoesNotExist
from scones.gateway.console.context import ConsoleContext
from scones.gateway.console.errors import BadRequest, Conflict, NotFound, ReadOnly
from scones.gateway.console.graph import definition_graph
from scones.gateway.console.images import find_image_data, parse_json_text, s3_reference
from scones.gateway.console.outcomes import Outcome, event_details, fail_states_of, read_history
from scones.workflow.asl.errors import InputError
from scones.workflow.asl.executor import Execution, ExecutionStatus, check_execution_name
from scones.workflow.asl.jsontext import PAYLOAD_LIMIT_BYTES, JsonTextError, parse_json, to_compact_json

PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 500
READ_ONLY_MESSAGE: Final = ("The console is read-only: start 'scones up --console-write' to start and stop "
                            "executions from it")


def machine_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def state_machines(ctx: ConsoleContext) -> dict[str, Any]:
    return {"stateMachines": [{"name": m.name, "arn": m.arn, "type": m.type.value, "status": m.info.status.value,
                               "creationDate": m.info.creation_date} for m in ctx.executions.state_machines()]}


def state_machine(ctx: ConsoleContext, name: str) -> dict[str, Any]:
    try:
        machine = ctx.executions.state_machine(name)
    except StateMachineDoesNotExist as exc:
        raise NotFound(f"No state machine named {name!r}") from exc
    definition = machine.info.definition
    return {"name": machine.name, "arn": machine.arn, "type": machine.type.value,
            "status": machine.info.status.value, "creationDate": machine.info.creation_date,
            "definition": definition, "graph": definition_graph(machine.plan.document).to_json(),
            "lastInput": _last_input(ctx, machine.name)}


def _last_input(ctx: ConsoleContext, machine: str) -> str | None:
    """The input of the newest execution of ``machine``: what the start form offers to edit."""
    page = ctx.executions.list(state_machine=machine, limit=1)
    if not page.items:
        return None
    try:
        return json.dumps(ctx.executions.describe(page.items[0].name).input, indent=2, ensure_ascii=False)
    except (ExecutionDoesNotExist, NotFoundError):
        return None


def _item(summary: ExecutionSummary) -> dict[str, Any]:
    stop = summary.stop_time
    return {"name": summary.name, "stateMachine": machine_name(summary.state_machine_arn),
            "status": summary.status.value, "startDate": summary.start_time, "stopDate": stop,
            "durationMs": None if stop is None else round((stop - summary.start_time) * 1000, 3)}


def list_executions(ctx: ConsoleContext, *, machine: str | None = None, status: str | None = None,
                    name: str | None = None, token: str | None = None, limit: int = PAGE_SIZE) -> dict[str, Any]:
    """Newest first. ``name`` keeps those whose name contains it (any case), searched in the listing index."""
    wanted = _status(status)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if machine:
        try:
            ctx.executions.state_machine(machine)
        except StateMachineDoesNotExist as exc:
            raise NotFound(f"No state machine named {machine!r}") from exc
    try:
        page = ctx.executions.list(state_machine=machine or None, status=wanted, limit=limit, next_token=token,
                                   name_contains=name or None)
        return {"items": [_item(s) for s in page.items], "nextToken": page.next_token}
    except InvalidToken as exc:
        raise BadRequest("The page token is not one this console gave out; start again from the first page") \
            from exc


def _status(status: str | None) -> ExecutionStatus | None:
    if not status:
        return None
    try:
        return ExecutionStatus(status)
    except ValueError as exc:
        known = ", ".join(s.value for s in ExecutionStatus)
        raise BadRequest(f"Unknown status {status!r}; one of {known}") from exc


def find(ctx: ConsoleContext, name: str) -> Execution:
    try:
        check_execution_name(name)
        return ctx.executions.describe(name)
    except (InputError, ExecutionDoesNotExist, NotFoundError) as exc:
        raise NotFound(f"No execution named {name!r}") from exc


def execution_detail(ctx: ConsoleContext, name: str) -> dict[str, Any]:
    """The execution, its graph as of its start, each state's outcome, its events, and the failed image."""
    execution = find(ctx, name)
    events = execution.events()
    running = execution.status is ExecutionStatus.RUNNING
    graph = None
    fail_states: dict[str, tuple[str | None, str | None]] = {}
    try:
        _, revision = ctx.executions.revision_of(execution)
        document = json.loads(revision.definition)
        graph = definition_graph(document).to_json()
        fail_states = fail_states_of(document)
    except (StateMachineDoesNotExist, ValueError):
        pass  # a state machine deleted since: the history is still shown
    reading = read_history(events, running=running, fail_states=fail_states)
    by_id = {int(e["id"]): e for e in events}
    runs = [run.to_json() for run in reading.runs]
    for run in runs:
        for item in run.get("iterations") or []:
            entered = by_id.get(item["inputEventId"] or -1)
            ref = s3_reference(parse_json_text(event_details(entered).get("input")))
            item["image"] = {"bucket": ref[0], "key": ref[1]} if ref else None
    return {
        "execution": {**_item(ExecutionSummary.of(execution)), "arn": execution.execution_arn,
                      "input": to_compact_json(execution.input),
                      "output": to_compact_json(execution.output)
                      if execution.status is ExecutionStatus.SUCCEEDED else None,
                      "error": execution.error, "cause": execution.cause},
        "graph": graph,
        "runs": runs,
        "states": {k: v.to_json() for k, v in reading.states.items()},
        "events": events,
        "image": _failed_image(execution, reading.runs, by_id),
    }


def _failed_image(execution: Execution, runs: list[Any], by_id: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    """The image a failed execution was about: its input's ``s3_bucket``/``s3_key``, or the ``image_data``
    in the input of the state that failed."""
    if execution.status not in (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED):
        return None
    ref = s3_reference(execution.input)
    if ref is not None:
        return {"kind": "s3", "bucket": ref[0], "key": ref[1]}
    for run in reversed(runs):
        if run.outcome in (Outcome.FAILED, Outcome.CAUGHT):
            value = parse_json_text(event_details(by_id.get(run.entered_event)).get("input"))
            found = find_image_data(value)
            if found is not None:
                return {"kind": "inline", "state": run.state, **found}
    return None


def start_execution(ctx: ConsoleContext, machine: str, body: Any) -> dict[str, Any]:
    """StartExecution from the console's editor: ``{"input": "<JSON text>", "name": "…"}`` (name optional)."""
    if not ctx.write:
        raise ReadOnly(READ_ONLY_MESSAGE)
    if not isinstance(body, dict):
        raise BadRequest('Send {"input": "<JSON text>", "name": "<optional name>"}')
    text = body.get("input", "{}")
    name = body.get("name") or None
    if not isinstance(text, str) or (name is not None and not isinstance(name, str)):
        raise BadRequest("input must be JSON text and name a string")
    if len(text.encode("utf-8")) > PAYLOAD_LIMIT_BYTES:
        raise BadRequest(f"The input is larger than {PAYLOAD_LIMIT_BYTES} bytes")
    try:
        value = parse_json(text)
    except JsonTextError as exc:
        raise BadRequest(f"The input is not valid JSON: {exc}") from exc
    try:
        run = ctx.executions.start(machine, value, name=name)
    except StateMachineDoesNotExist as exc:
        raise NotFound(f"No state machine named {machine!r}") from exc
    except ExecutionAlreadyExists as exc:
        raise Conflict(f"An execution named {name!r} exists already; pick another name") from exc
    except InputError as exc:
        raise BadRequest(exc.format_message()) from exc
    return {"name": run.record.name, "executionArn": run.record.execution_arn}


def stop_execution(ctx: ConsoleContext, name: str) -> dict[str, Any]:
    if not ctx.write:
        raise ReadOnly(READ_ONLY_MESSAGE)
    execution = find(ctx, name)
    if execution.status is not ExecutionStatus.RUNNING:
        raise Conflict(f"Execution {name!r} is {execution.status.value}, not running")
    stopped = ctx.executions.stop(execution.name, error="Console.Stopped", cause="Stopped from the scones console")
    return {"name": stopped.name, "status": stopped.status.value}
