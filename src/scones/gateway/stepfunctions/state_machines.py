"""The state machine operations: Create, Describe, List, Update, Delete, DescribeStateMachineForExecution,
ValidateStateMachineDefinition, and the tags of state machines (TagResource, UntagResource, ListTagsForResource).

Each method takes the parsed request members and returns the output members;
the execution service does the work and keeps the machines.
"""

from __future__ import annotations

from typing import Any, Final

from scones.executions.machines import MachineType, express_problems
from scones.executions.service import ExecutionService, StateMachine
from scones.executions.service import StateMachineAlreadyExists as MachineExists
from scones.executions.service import StateMachineDeleting as MachineDeleting
from scones.executions.service import StateMachineDoesNotExist as MachineGone
from scones.gateway.stepfunctions import arns, shapes, tokens
from scones.gateway.stepfunctions.errors import (
    InvalidArn,
    InvalidLoggingConfiguration,
    MissingRequiredParameter,
    ResourceNotFound,
    StateMachineAlreadyExists,
    StateMachineDeleting,
    StateMachineDoesNotExist,
    TooManyTags,
)
from scones.gateway.stepfunctions.executions import find_execution
from scones.workflow.asl import validate_definition
from scones.workflow.asl.errors import DefinitionError
from scones.workflow.asl.parse import load_definition

_TOKEN_KIND: Final = "state-machines"
#: "Maximum number of tags per resource: 50" (Step Functions quotas).
MAX_TAGS: Final = 50


class StateMachineOperations:
    def __init__(self, executions: ExecutionService) -> None:
        self.executions = executions

    def create_state_machine(self, params: dict[str, Any]) -> dict[str, Any]:
        name = arns.check_name(params["name"])
        arns.check_role(params["roleArn"])
        logging = params.get("loggingConfiguration")
        _check_logging(logging)
        tags = _tags(params.get("tags") or [])
        try:
            machine, _ = self.executions.create_state_machine(
                name, params["definition"], role_arn=params["roleArn"],
                type=MachineType(params.get("type", MachineType.STANDARD.value)), logging=logging,
                tracing=params.get("tracingConfiguration"), tags=tags)
        except MachineExists as exc:  # AWS names the state machine by its ARN
            raise StateMachineAlreadyExists.of(self.executions.state_machine_arn(name)) from exc
        except MachineDeleting as exc:
            raise StateMachineDeleting.of(self.executions.state_machine_arn(name)) from exc
        return {"stateMachineArn": machine.arn, "creationDate": machine.info.creation_date}

    def describe_state_machine(self, params: dict[str, Any]) -> dict[str, Any]:
        machine = self.executions.state_machine(arns.state_machine_name(params["stateMachineArn"]))
        return shapes.describe_state_machine(machine.info)

    def list_state_machines(self, params: dict[str, Any]) -> dict[str, Any]:
        """In name order (as AWS lists them); the token holds the last name of the page."""
        size = tokens.page_size(params.get("maxResults"))
        machines = self.executions.state_machines()
        token = params.get("nextToken")
        if token is not None:
            after = tokens.decode(token, _TOKEN_KIND)
            machines = [m for m in machines if m.name > str(after)]
        page = machines[:size]
        more = len(machines) > size
        return {"stateMachines": [shapes.state_machine_item(m.info) for m in page],
                "nextToken": tokens.encode(_TOKEN_KIND, page[-1].name) if more else None}

    def update_state_machine(self, params: dict[str, Any]) -> dict[str, Any]:
        name = arns.state_machine_name(params["stateMachineArn"])
        changes = {k: params.get(k) for k in ("definition", "roleArn", "loggingConfiguration",
                                              "tracingConfiguration")}
        if all(v is None for v in changes.values()):
            raise MissingRequiredParameter("Either the definition, the role ARN, the LoggingConfiguration, "
                                           "or the TracingConfiguration must be specified")
        if changes["roleArn"] is not None:
            arns.check_role(changes["roleArn"])
        _check_logging(changes["loggingConfiguration"])
        machine = self.executions.update_state_machine(
            name, definition=changes["definition"], role_arn=changes["roleArn"],
            logging=changes["loggingConfiguration"], tracing=changes["tracingConfiguration"])
        return {"updateDate": machine.info.update_date, "revisionId": machine.info.current.revision_id}

    def delete_state_machine(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            name = arns.state_machine_name(params["stateMachineArn"])
        except StateMachineDoesNotExist:  # a version or alias ARN: nothing of it is kept here
            return {}
        self.executions.delete_state_machine(name)
        return {}

    def describe_state_machine_for_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        """The definition and role the execution started with, whatever updates came after."""
        execution = find_execution(self.executions, params["executionArn"])
        try:
            machine, revision = self.executions.revision_of(execution)
        except MachineGone as exc:
            raise StateMachineDoesNotExist.of(execution.state_machine_arn) from exc
        return shapes.state_machine_for_execution(machine.info, revision)


    def validate_state_machine_definition(self, params: dict[str, Any]) -> dict[str, Any]:
        """The validator's findings as diagnostics (all are errors: it reports no warnings)."""
        type = MachineType(params.get("type", MachineType.STANDARD.value))
        try:
            document = load_definition(params["definition"])
        except DefinitionError as exc:
            problems = exc.errors
        else:
            problems = (express_problems(document) if type is MachineType.EXPRESS else []) \
                + validate_definition(document)
        limit = params.get("maxResults") or tokens.DEFAULT_PAGE
        diagnostics = [{"severity": "ERROR", "code": p.code, "message": p.message, "location": p.location}
                       for p in problems]
        return {"result": "FAIL" if problems else "OK", "diagnostics": diagnostics[:limit],
                "truncated": len(diagnostics) > limit}

    def list_tags_for_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        machine = self._tagged(params["resourceArn"])
        return {"tags": [{"key": k, "value": v} for k, v in machine.info.tags.items()]}

    def tag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        machine = self._tagged(params["resourceArn"])
        tags = {**machine.info.tags, **_tags(params["tags"])}
        if len(tags) > MAX_TAGS:
            raise TooManyTags(f"Too many tags: a resource can have at most {MAX_TAGS} tags",
                              resourceName=params["resourceArn"])
        self.executions.retag_state_machine(machine.name, add=tags)
        return {}

    def untag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        machine = self._tagged(params["resourceArn"])
        self.executions.retag_state_machine(machine.name, remove=params["tagKeys"])
        return {}

    def _tagged(self, arn: str) -> StateMachine:
        """The state machine a tagging call names; only state machines keep tags here."""
        try:
            return self.executions.state_machine(arns.state_machine_name(arn))
        except (MachineGone, StateMachineDoesNotExist) as exc:
            raise ResourceNotFound(f"Resource not found: '{arn}'", resourceName=arn) from exc
        except InvalidArn as exc:
            if arn.startswith("arn:"):  # an activity, a version...: nothing of it is kept here
                raise ResourceNotFound(f"Resource not found: '{arn}'", resourceName=arn) from exc
            raise


def _tags(tags: list[dict[str, str]]) -> dict[str, str]:
    if len(tags) > MAX_TAGS:
        raise TooManyTags(f"Too many tags: a resource can have at most {MAX_TAGS} tags")
    return {t["key"]: t.get("value", "") for t in tags}


def _check_logging(logging: dict[str, Any] | None) -> None:
    """AWS refuses a logging level other than OFF without a log group to write to."""
    if logging is None:
        return
    if logging.get("level", "OFF") != "OFF" and not logging.get("destinations"):
        raise InvalidLoggingConfiguration("Invalid Logging Configuration: Must specify exactly one Log "
                                          "Destination if the level is not OFF")
