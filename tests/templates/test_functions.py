"""Function resources: code in every local form, Globals, inline code, layers, and what cannot run."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.declarations import DEFAULT_MEMORY_MB, DEFAULT_RUNTIME, DEFAULT_TIMEOUT_SECONDS, Origin
from scones.templates import TemplateError

from .conftest import Load

FUNCTIONS = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Timeout: 15
    Layers: [!Ref Shared]
    Environment:
      Variables: {STAGE: dev, LOG_LEVEL: INFO}
Resources:
  Folder:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: folder-fn
      CodeUri: src/
      Handler: app.handler
      MemorySize: 256
      Layers: [!Ref Plain]
      Environment:
        Variables: {LOG_LEVEL: DEBUG}
  Zipped:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: code.zip, Handler: app.handler, Timeout: 2.5}
  Single:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: single.py, Handler: single.lambda_handler}
  Cfn:
    Type: AWS::Lambda::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      Role: !GetAtt Missing.Arn
      Code:
        ZipFile: |
          def handler(event, context):
              return {"inline": True}
  Sam:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.main
      InlineCode: "def main(event, context):\\n    return 1\\n"
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layer/}
  Plain:
    Type: AWS::Lambda::LayerVersion
    Properties: {Content: plain-layer}
"""


def test_every_local_code_form(load: Load, project: Path) -> None:
    functions = load(FUNCTIONS).functions
    assert list(functions) == ["folder-fn", "Zipped", "Single", "Cfn", "Sam"]
    folder = functions["folder-fn"]
    assert (folder.code, folder.handler, folder.origin) == (project / "src", "app.handler", Origin.TEMPLATE)
    # Globals: the function's own values win, maps merge, lists add up (SAM's rule).
    assert (folder.runtime, folder.timeout_seconds, folder.memory_mb) == ("python3.11", 15.0, 256)
    assert folder.environment == {"STAGE": "dev", "LOG_LEVEL": "DEBUG"}
    assert folder.layers == (project / "layer" / "python", project / "plain-layer")
    assert folder.declared_at.endswith("template.yaml: Folder")
    assert (functions["Zipped"].code, functions["Zipped"].timeout_seconds) == (project / "code.zip", 2.5)
    # A .py file: the handler is the function's name in it.
    assert (functions["Single"].code, functions["Single"].handler) == (project / "single.py", "lambda_handler")
    # Globals apply to SAM functions only.
    cfn = functions["Cfn"]
    assert (cfn.runtime, cfn.timeout_seconds, cfn.memory_mb, cfn.layers, dict(cfn.environment)) == \
        ("python3.12", DEFAULT_TIMEOUT_SECONDS, DEFAULT_MEMORY_MB, (), {})


def test_inline_code_is_written_once_as_index_py(load: Load, project: Path) -> None:
    functions = load(FUNCTIONS).functions
    cfn, sam = functions["Cfn"], functions["Sam"]
    assert cfn.code.parent == project / "cache" / "inline-code" and cfn.handler == "index.handler"
    assert (cfn.code / "index.py").read_text() == 'def handler(event, context):\n    return {"inline": True}\n'
    assert (sam.code / "index.py").read_text() == "def main(event, context):\n    return 1\n"
    stamp = (cfn.code / "index.py").stat().st_mtime_ns
    assert load(FUNCTIONS).functions["Cfn"].code == cfn.code
    assert (cfn.code / "index.py").stat().st_mtime_ns == stamp  # not rewritten
    assert sorted(p.name for p in cfn.code.iterdir()) == ["index.py"]  # nothing half-written beside it


def test_defaults_and_the_logical_id_as_name(load: Load, project: Path) -> None:
    fn = load("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: src.app.handler}\n"
              ).functions["Fn"]
    # SAM's default CodeUri is the template's folder.
    assert (fn.name, fn.code, fn.runtime, fn.timeout_seconds) == ("Fn", project, DEFAULT_RUNTIME,
                                                                    DEFAULT_TIMEOUT_SECONDS)


def one(properties: str, kind: str = "AWS::Serverless::Function") -> str:
    return f"Resources:\n  Fn:\n    Type: {kind}\n    Properties: {properties}\n"


W = "template.yaml: Resources.Fn.Properties"


@pytest.mark.parametrize(("template", "message"), [
    (one("{CodeUri: nowhere/, Handler: app.handler}"), W + r".CodeUri: nowhere/ does not exist \(read relative to"),
    (one("{CodeUri: statemachine/flow.asl.json, Handler: a.b}"), W + ".CodeUri: statemachine/flow.asl.json is a "
                                                                     ".json file"),
    (one("{CodeUri: src/}"), W + ": the function has no Handler"),
    (one("{CodeUri: src/, Handler: handler}"), W + ".Handler: 'handler' is not module.function"),
    (one("{CodeUri: single.py, Handler: other.lambda_handler}"),
     W + ".Handler: 'other.lambda_handler' names module 'other', but the code is the file single.py"),
    (one("{Handler: app.handler, Code: {ZipFile: 'x = 1'}}", "AWS::Lambda::Function"),
     W + ".Handler: 'app.handler' names module 'app', but Lambda writes inline code to index.py"),
    (one("{Handler: app.handler}", "AWS::Lambda::Function"), W + ": the function has no Code"),
    (one("{CodeUri: src/, Handler: app.handler, Timeout: soon}"), W + ".Timeout: 'soon' is not a number"),
    (one("{CodeUri: src/, Handler: app.handler, MemorySize: 0}"), W + ".MemorySize: must be positive"),
    (one("{CodeUri: src/, Handler: app.handler, Layers: [!Ref L]}") +
     "  L:\n    Type: AWS::Serverless::LayerVersion\n    Properties: {ContentUri: code.zip}\n",
     "template.yaml: Resources.L.Properties.ContentUri: code.zip is a .zip file"),
    (one("{CodeUri: src/, Handler: app.handler, Layers: [!Ref L]}") +
     "  L:\n    Type: AWS::Serverless::LayerVersion\n    Condition: Never\n    Properties: {ContentUri: layer/}\n"
     "Conditions:\n  Never: !Equals [a, b]\n",
     r"Resources.Fn.Properties.Layers\[0\]: refers to 'L', which its condition 'Never' leaves out"),
    (one("{CodeUri: src/, Handler: app.handler}") + "  Again:\n    Type: AWS::Lambda::Function\n"
     "    Properties: {FunctionName: Fn, Handler: index.h, Code: {ZipFile: x}}\n",
     "Resources.Again.Properties: a second function named 'Fn'"),
    (one("{FunctionName: 'bad name/x', CodeUri: src/, Handler: app.handler}"),
     W + ".FunctionName: 'bad name/x' is not a Lambda function name"),
], ids=["missing-path", "wrong-file", "no-handler", "bad-handler", "py-module", "inline-module", "no-code",
        "timeout", "memory", "zip-layer", "layer-left-out", "duplicate", "bad-name"])
def test_refused(load: Load, template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load(template)


UNRUNNABLE = {
    "s3": ("{CodeUri: s3://bucket/fn.zip, Handler: app.handler}", ".CodeUri: Fn has its code in S3 "
                                                                   r"\(s3://bucket/fn.zip\)"),
    "s3-object": ("{Handler: app.handler, Code: {S3Bucket: b, S3Key: k.zip}}", ".Code: Fn has its code in S3"),
    "image": ("{PackageType: Image, ImageUri: repo/fn:1}", ".PackageType: Fn is a container image function"),
    "node": ("{CodeUri: src/, Handler: app.handler, Runtime: nodejs20.x}",
             ".Runtime: Fn runs on nodejs20.x; scones runs Python functions only"),
    "foreign-layer": ("{CodeUri: src/, Handler: app.handler, Layers: "
                      "[arn:aws:lambda:us-east-1:017000801446:layer:Powertools:40]}",
                      r".Layers\[0\]: Fn uses the layer 'arn:aws:lambda:us-east-1:017000801446:layer:Powertools:40', "
                      "which is not declared in this template"),
}
MACHINE = """  Flow:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      DefinitionString: !Sub '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Fn.Arn}", "End": true}}}'
"""


@pytest.mark.parametrize("case", UNRUNNABLE, ids=list(UNRUNNABLE))
def test_what_cannot_run_is_skipped_unless_a_state_machine_invokes_it(load: Load, case: str) -> None:
    properties, message = UNRUNNABLE[case]
    kind = "AWS::Lambda::Function" if "S3Bucket" in properties else "AWS::Serverless::Function"
    skipped = load(one(properties, kind))
    assert skipped.functions == {} and len(skipped.notes) == 1
    assert skipped.notes[0].startswith("Fn: skipped, it ")
    with pytest.raises(TemplateError, match=W + message + r".*and the state machine 'Flow' invokes it"):
        load(one(properties, kind) + MACHINE)
