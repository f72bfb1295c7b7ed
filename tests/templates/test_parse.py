"""Reading a template: YAML with short-form tags, JSON, and everything that is not a template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scones.errors import NotFoundError
from scones.templates import TemplateError, load_template
from scones.templates.parse import parse_text

from .conftest import Load


def test_short_form_tags_read_as_their_long_form() -> None:
    text = """
A: !Ref X
B: !GetAtt Fn.Arn
C: !Sub "${AWS::Region}-x"
D: !Join ["-", [!Ref X, !GetAtt [Fn, Arn]]]
E: !If [Cond, !Select [0, !Split [",", "a,b"]], !FindInMap [M, k, v]]
F: !Equals [a, b]
V: 2010-09-09
"""
    assert parse_text(text, "t.yaml") == {
        "A": {"Ref": "X"}, "B": {"Fn::GetAtt": ["Fn", "Arn"]}, "C": {"Fn::Sub": "${AWS::Region}-x"},
        "D": {"Fn::Join": ["-", [{"Ref": "X"}, {"Fn::GetAtt": ["Fn", "Arn"]}]]},
        "E": {"Fn::If": ["Cond", {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
                         {"Fn::FindInMap": ["M", "k", "v"]}]},
        "F": {"Fn::Equals": ["a", "b"]}, "V": "2010-09-09"}
    assert all(type(v) is dict for v in parse_text(text, "t.yaml").values() if isinstance(v, dict))


YAML = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Environment:
        Variables:
          ARN: !GetAtt Fn.Arn
"""


def test_yaml_and_json_load_the_same(load: Load) -> None:
    from_yaml = load(YAML)
    long_form = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Fn": {
        "Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": "src/", "Handler": "app.handler",
            "Environment": {"Variables": {"ARN": {"Fn::GetAtt": ["Fn", "Arn"]}}}}}}}
    from_json = load(json.dumps(long_form, indent=2), name="template.json")
    assert from_yaml.functions["Fn"].environment == from_json.functions["Fn"].environment == \
        {"ARN": "arn:aws:lambda:us-east-1:123456789012:function:Fn"}
    assert from_json.functions["Fn"].declared_at.endswith("template.json: Fn")


def test_bad_yaml_names_the_line(load: Load) -> None:
    with pytest.raises(TemplateError, match=r"template.yaml: line 4, column \d+: not valid YAML") as caught:
        load("Resources:\n  Fn:\n    Type: x\n   bad: [\n")
    assert caught.value.hint


def test_bad_json_names_the_line(load: Load) -> None:
    with pytest.raises(TemplateError, match=r"template.json: line 2, column \d+: not valid JSON"):
        load('{"Resources":\n  {"A": }}', name="template.json")


@pytest.mark.parametrize(("text", "message"), [
    ("- a\n- b\n", "holds a list, not a mapping"),
    ("Description: nothing\n", "Resources: missing or empty"),
    ("Resources: {}\n", "Resources: missing or empty"),
    ('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}', "is a state machine definition, not a template"),
    ("Resources:\n  A: 3\n", "Resources.A: must be a mapping with a Type"),
], ids=["list", "no-resources", "empty-resources", "definition", "resource-not-mapping"])
def test_not_a_template(load: Load, text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load(text)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="No template at"):
        load_template(tmp_path / "nope.yaml")
    with pytest.raises(TemplateError, match="is a folder, not a template file"):
        load_template(tmp_path)
