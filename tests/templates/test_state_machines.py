"""State machine resources: every way of giving a definition, substitutions, types, names and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scones.declarations import StateMachineType
from scones.templates import TemplateError

from .conftest import Load

FN = """
  Fn:
    Type: AWS::Serverless::Function
    Properties: {FunctionName: worker, CodeUri: src/, Handler: app.handler}
"""
ARN = "arn:aws:lambda:us-east-1:123456789012:function:worker"


def machine(properties: str, kind: str = "AWS::Serverless::StateMachine") -> str:
    return "Resources:" + FN + f"  Flow:\n    Type: {kind}\n    Properties:\n" + \
        "".join(f"      {line}\n" for line in properties.strip().splitlines())


def task(load: Load, template: str) -> dict[str, object]:
    declarations = load(template)
    (spec,) = declarations.state_machines.values()
    return json.loads(spec.definition)["States"]["A"]  # type: ignore[no-any-return]


def test_definition_uri_with_substitutions(load: Load) -> None:
    declarations = load(machine("""
Name: flow
Type: EXPRESS
Role: !GetAtt FlowRole.Arn
DefinitionUri: statemachine/flow.asl.json
DefinitionSubstitutions:
  FnArn: !GetAtt Fn.Arn
""") + "  FlowRole:\n    Type: AWS::IAM::Role\n")
    spec = declarations.state_machines["flow"]
    assert json.loads(spec.definition)["States"]["A"]["Parameters"]["FunctionName"] == ARN
    assert (spec.type, spec.role_arn) == (StateMachineType.EXPRESS, "arn:aws:iam::123456789012:role/FlowRole")
    assert spec.declared_at.endswith("template.yaml: Flow")
    assert declarations.notes == ("FlowRole (AWS::IAM::Role): skipped, no local meaning",)


def test_definition_uri_in_yaml(load: Load, project: Path) -> None:
    (project / "statemachine" / "flow.asl.yaml").write_text(
        "StartAt: A\nStates:\n  A:\n    Type: Task\n    Resource: ${FnArn}\n    End: true\n")
    assert task(load, machine("DefinitionUri: statemachine/flow.asl.yaml\n"
                              "DefinitionSubstitutions: {FnArn: !GetAtt Fn.Arn}"))["Resource"] == ARN


def test_inline_definition_resolves_intrinsics(load: Load) -> None:
    assert task(load, machine("""
Definition:
  StartAt: A
  States:
    A:
      Type: Task
      Resource: arn:aws:states:::lambda:invoke
      Parameters: {FunctionName: !Ref Fn, Payload: {stage: "${Stage}"}}
      End: true
DefinitionSubstitutions: {Stage: 3}
"""))["Parameters"] == {"FunctionName": "worker", "Payload": {"stage": "3"}}


def test_definition_string_with_sub_and_join(load: Load) -> None:
    sub = machine("""
StateMachineName: !Sub "${AWS::StackName}-flow"
StateMachineType: STANDARD
RoleArn: arn:aws:iam::123456789012:role/given
DefinitionString: !Sub |
  {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Fn.Arn}", "End": true}}}
""", "AWS::StepFunctions::StateMachine")
    declarations = load(sub)
    assert list(declarations.state_machines) == ["local-flow"]
    assert declarations.state_machines["local-flow"].role_arn == "arn:aws:iam::123456789012:role/given"
    assert task(load, sub)["Resource"] == ARN
    join = machine("""
DefinitionString: !Join ["", ['{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "', !GetAtt Fn.Arn,
  '", "End": true}}}']]
""", "AWS::StepFunctions::StateMachine")
    assert task(load, join)["Resource"] == ARN


def test_an_undefined_placeholder_is_kept_and_said(load: Load) -> None:
    declarations = load(machine("DefinitionUri: statemachine/flow.asl.json"))
    assert "${FnArn}" in declarations.state_machines["Flow"].definition
    assert declarations.notes == ("Flow: the definition keeps ${FnArn}, which DefinitionSubstitutions does not "
                                  "define",)


def test_the_recorded_console_definition_loads(load: Load, project: Path, recorded_definition: Path) -> None:
    (project / "statemachine" / "console.json").write_text(recorded_definition.read_text())
    declarations = load(machine("DefinitionUri: statemachine/console.json"))
    # It names serializeImageData & co. by ARN (another account): declared elsewhere, said once each.
    assert declarations.notes == tuple(
        f"state machine 'Flow' invokes {name!r}, which this template does not declare"
        for name in ("classifyImage", "filterInferences", "serializeImageData"))


W = "template.yaml: Resources.Flow.Properties"


@pytest.mark.parametrize(("properties", "message"), [
    ("Name: x", W + ": give exactly one of Definition, DefinitionUri"),
    ("DefinitionUri: statemachine/flow.asl.json\nDefinition: {}", W + ": give exactly one of .* \\(found Definition, "
                                                                      "DefinitionUri\\)"),
    ("DefinitionUri: statemachine/none.json", W + ".DefinitionUri: statemachine/none.json does not exist"),
    ("DefinitionUri: s3://bucket/flow.json", W + ".DefinitionUri: the definition is in S3"),
    ("DefinitionUri: {Bucket: b, Key: k}", W + ".DefinitionUri: the definition is in S3"),
    ("Definition: {StartAt: B, States: {A: {Type: Succeed}}}", W + ".Definition: the definition is not valid: "
                                                               "Invalid State Machine Definition"),
    ("Definition: {StartAt: A, States: {A: {Type: Succeed}}}\nType: FAST", W + ".Type: 'FAST' is neither"),
    ("Definition: {StartAt: A, States: {A: {Type: Succeed}}}\nDefinitionSubstitutions: {A: [1]}",
     W + ".DefinitionSubstitutions.A: must be a string, number or boolean"),
], ids=["none", "two", "missing-file", "s3-uri", "s3-object", "invalid", "type", "substitution"])
def test_refused(load: Load, properties: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load(machine(properties))


def test_definition_in_s3_is_refused_for_cloudformation(load: Load) -> None:
    with pytest.raises(TemplateError, match=W + ".DefinitionS3Location: the definition is in S3"):
        load(machine("DefinitionS3Location: {Bucket: b, Key: k}", "AWS::StepFunctions::StateMachine"))


def test_two_machines_of_one_name(load: Load) -> None:
    template = machine("Name: same\nDefinition: {StartAt: A, States: {A: {Type: Succeed}}}") + \
        "  Other:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      Name: same\n" \
        "      Definition: {StartAt: A, States: {A: {Type: Succeed}}}\n"
    with pytest.raises(TemplateError, match="Resources.Other.Properties: a second state machine named 'same'"):
        load(template)
