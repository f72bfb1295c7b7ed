"""Every intrinsic the loader resolves, and every one it refuses, seen through a function's environment."""

from __future__ import annotations

import base64

import pytest

from scones.templates import TemplateError

from .conftest import Load, function_template

HEADER = """
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Names: {Type: CommaDelimitedList, Default: "a, b,c"}
  Size: {Type: Number, Default: 512}
  NoDefault: {Type: String}
  Secret: {Type: "AWS::SSM::Parameter::Value<String>", Default: /my/secret}
Mappings:
  Regions:
    us-east-1: {Bucket: east-bucket}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsDev, !Equals [!Ref "AWS::Region", us-east-1]]
  Either: !Or [!Condition IsProd, !Equals ["1", "2"]]
"""

EXTRA = """
  Data:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Sub "data-${Stage}"}
  Logs:
    Type: AWS::S3::Bucket
  Role:
    Type: AWS::IAM::Role
    Properties: {RoleName: flow-role}
  Topic:
    Type: AWS::SNS::Topic
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties: {EndpointName: my-endpoint, EndpointConfigName: x}
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: flow
      DefinitionUri: statemachine/flow.asl.json
      DefinitionSubstitutions: {FnArn: !GetAtt Fn.Arn}
  Table:
    Type: AWS::DynamoDB::Table
"""


def env(load: Load, variables: str, **kwargs: object) -> dict[str, str]:
    declarations = load(function_template(variables, header=HEADER, extra=EXTRA), **kwargs)
    return dict(declarations.functions["Fn"].environment)


def test_ref_parameters_pseudo_parameters_and_resources(load: Load) -> None:
    assert env(load, """
        STAGE: !Ref Stage
        SIZE: !Ref Size
        REGION: !Ref AWS::Region
        ACCOUNT: !Ref AWS::AccountId
        STACK: !Ref AWS::StackName
        PARTITION: !Ref AWS::Partition
        SUFFIX: !Ref AWS::URLSuffix
        FUNCTION: !Ref Fn
        BUCKET: !Ref Data
        DEFAULT_BUCKET: !Ref Logs
        ROLE: !Ref Role
        TOPIC: !Ref Topic
        MACHINE: !Ref Flow
        GONE: !Ref AWS::NoValue
        FLAG: true
        NUMBER: 3
    """) == {"STAGE": "dev", "SIZE": "512", "REGION": "us-east-1", "ACCOUNT": "123456789012", "STACK": "local",
             "PARTITION": "aws", "SUFFIX": "amazonaws.com", "FUNCTION": "Fn", "BUCKET": "data-dev",
             "DEFAULT_BUCKET": "logs", "ROLE": "flow-role", "TOPIC": "arn:aws:sns:us-east-1:123456789012:Topic",
             "MACHINE": "arn:aws:states:us-east-1:123456789012:stateMachine:flow", "FLAG": "true", "NUMBER": "3"}


def test_parameter_values_and_stack_name_can_be_given(load: Load) -> None:
    assert env(load, "STAGE: !Ref Stage\nSTACK: !Ref AWS::StackName\nGIVEN: !Ref NoDefault",
               parameters={"Stage": "prod", "NoDefault": "x"}, stack_name="mine") == \
        {"STAGE": "prod", "STACK": "mine", "GIVEN": "x"}


def test_get_att(load: Load) -> None:
    assert env(load, """
        FN: !GetAtt Fn.Arn
        LONG: {"Fn::GetAtt": [Fn, Arn]}
        BUCKET: !GetAtt Data.Arn
        DOMAIN: !GetAtt Data.DomainName
        MACHINE: !GetAtt Flow.Arn
        MACHINE_NAME: !GetAtt Flow.Name
        ROLE: !GetAtt Role.Arn
        ENDPOINT: !GetAtt Endpoint.EndpointName
    """) == {"FN": "arn:aws:lambda:us-east-1:123456789012:function:Fn",
             "LONG": "arn:aws:lambda:us-east-1:123456789012:function:Fn",
             "BUCKET": "arn:aws:s3:::data-dev", "DOMAIN": "data-dev.s3.amazonaws.com",
             "MACHINE": "arn:aws:states:us-east-1:123456789012:stateMachine:flow", "MACHINE_NAME": "flow",
             "ROLE": "arn:aws:iam::123456789012:role/flow-role", "ENDPOINT": "my-endpoint"}


def test_sub_join_select_split_find_in_map_base64(load: Load) -> None:
    assert env(load, """
        SUB: !Sub "${AWS::StackName}-${Stage}-${Fn.Arn}-${!Literal}"
        SUB_VARS: !Sub ["${A}/${B}", {A: !Ref Stage, B: !GetAtt Data.Arn}]
        JOIN: !Join [":", [a, !Ref Stage, 3]]
        JOIN_LIST: !Join ["+", !Ref Names]
        SELECT: !Select [1, !Ref Names]
        SELECT_TEXT_INDEX: !Select ["0", [x, y]]
        SPLIT: !Select [2, !Split ["/", "a/b/c"]]
        MAP: !FindInMap [Regions, !Ref "AWS::Region", Bucket]
        B64: !Base64 hello
    """) == {"SUB": "local-dev-arn:aws:lambda:us-east-1:123456789012:function:Fn-${Literal}",
             "SUB_VARS": "dev/arn:aws:s3:::data-dev", "JOIN": "a:dev:3", "JOIN_LIST": "a+b+c", "SELECT": "b",
             "SELECT_TEXT_INDEX": "x", "SPLIT": "c", "MAP": "east-bucket",
             "B64": base64.b64encode(b"hello").decode()}


def test_conditions(load: Load) -> None:
    variables = """
        PROD: !If [IsProd, yes-prod, no-prod]
        DEV: !If [IsDev, yes-dev, no-dev]
        BOTH: !If [Both, both, not-both]
        EITHER: !If [Either, either, neither]
        MAYBE: !If [IsProd, here, !Ref AWS::NoValue]
    """
    assert env(load, variables) == {"PROD": "no-prod", "DEV": "yes-dev", "BOTH": "both", "EITHER": "neither"}
    assert env(load, variables, parameters={"Stage": "prod"}) == \
        {"PROD": "yes-prod", "DEV": "no-dev", "BOTH": "not-both", "EITHER": "either", "MAYBE": "here"}


def test_intrinsics_in_skipped_resources_are_never_evaluated(load: Load) -> None:
    extra = EXTRA + "  Other:\n    Type: AWS::IAM::Role\n    Properties: {RoleName: !ImportValue elsewhere}\n"
    declarations = load(function_template("A: b", header=HEADER, extra=extra))
    assert "Other (AWS::IAM::Role): skipped, no local meaning" in declarations.notes


P = "template.yaml: Resources.Fn.Properties.Environment.Variables.X: "


@pytest.mark.parametrize(("value", "message"), [
    ("!ImportValue shared-endpoint", P + "Fn::ImportValue is not supported locally"),
    ("!GetAZs ''", P + "Fn::GetAZs is not supported locally"),
    ("!Ref Nowhere", P + "Ref to 'Nowhere', which is neither a parameter nor a resource of this template"),
    ("!Ref AWS::Nothing", P + "Ref to AWS::Nothing, which is not a CloudFormation pseudo parameter"),
    ("!GetAtt Nowhere.Arn", P + "Fn::GetAtt of 'Nowhere', which is not a resource of this template"),
    ("!GetAtt Data.Colour", P + "Fn::GetAtt Data.Colour: scones knows no attribute 'Colour' of AWS::S3::Bucket"),
    ("!Ref Table", P + r"refers to 'Table' \(AWS::DynamoDB::Table\), which scones does not run locally"),
    ("!Ref NoDefault", P + "Ref to parameter 'NoDefault', which has no Default and was given no value"),
    ("!Ref Secret", P + "Ref to parameter 'Secret' of type .* read from SSM Parameter Store"),
    ("!If [Missing, a, b]", P + "no condition named 'Missing' in the Conditions section"),
    ("!Equals [a, b]", P + "Fn::Equals is allowed only in the Conditions section"),
    ("!Select [5, [a]]", P + "Fn::Select index 5 is outside the list of 1"),
    ("!FindInMap [Regions, eu-west-1, Bucket]", P + "Fn::FindInMap: Mappings.Regions has no key 'eu-west-1'"),
    ("!Sub '${Names}'", P + r"Fn::Sub variable \$\{Names\} is a list, not a string"),
    ("[a, b]", P + "must be a string, number or boolean"),
], ids=lambda v: v.split()[0].strip("!") + str(len(v)))
def test_unresolvable_values_name_the_property(load: Load, value: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        env(load, f"X: {value}")


def test_bad_parameter_values(load: Load) -> None:
    with pytest.raises(TemplateError, match=r"Parameters.Stage: 'qa' is not one of its AllowedValues \(dev, prod\)"):
        env(load, "X: !Ref Stage", parameters={"Stage": "qa"})
    with pytest.raises(TemplateError, match="a value was given for 'Stge', which the template does not declare"):
        env(load, "X: y", parameters={"Stge": "qa"})


def test_condition_cycle(load: Load) -> None:
    header = "Conditions:\n  A: !Condition B\n  B: !Not [!Condition A]\n"
    with pytest.raises(TemplateError, match="the condition depends on itself: A -> B -> A"):
        load(function_template("X: !If [A, a, b]", header=header))
