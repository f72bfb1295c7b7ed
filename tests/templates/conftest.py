"""Templates written into a temporary folder beside the code they name, then loaded."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scones.declarations import Declarations
from scones.templates import load_template

ASL = ('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", '
       '"Parameters": {"FunctionName": "${FnArn}", "Payload.$": "$"}, "End": true}}}')

Load = Callable[..., Declarations]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with a handler folder, a .py handler, a zip, a layer and a definition file."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return event\n")
    (tmp_path / "single.py").write_text("def lambda_handler(event, context):\n    return event\n")
    (tmp_path / "code.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "plain-layer").mkdir()
    (tmp_path / "statemachine").mkdir()
    (tmp_path / "statemachine" / "flow.asl.json").write_text(ASL)
    return tmp_path


@pytest.fixture
def load(project: Path) -> Load:
    """``load(yaml_text, name="template.yaml", **kwargs)``: write the template and load it."""

    def _load(text: str, name: str = "template.yaml", **kwargs: Any) -> Declarations:
        path = project / name
        path.write_text(textwrap.dedent(text))
        kwargs.setdefault("cache_dir", project / "cache")
        return load_template(path, **kwargs)

    return _load


def function_template(variables: str, *, extra: str = "", header: str = "") -> str:
    """One SAM function whose environment variables hold the expressions under test."""
    body = textwrap.indent(textwrap.dedent(variables).strip(), " " * 10)
    return textwrap.dedent(header) + f"""
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Environment:
        Variables:
{body}
""" + extra



@pytest.fixture
def recorded_definition(shared_data: Path) -> Path:
    """The console export of the Scones workflow recorded on AWS."""
    path = shared_data / "aws-recorded" / "stepfunction.json"
    if not path.is_file():
        pytest.skip(f"the recorded console definition is not at {path}")
    return path
