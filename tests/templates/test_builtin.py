"""scones' own workflow as a template (the shipped one), and the template ``scones deploy aws --template`` writes."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from scones.aws.naming import FUNCTIONS, STATE_MACHINES, Names
from scones.declarations import Origin
from scones.functions.catalog import SCONES_FUNCTIONS
from scones.functions.local import DEPLOYED_NAMES, SHIPPED_NAMES, TEMPLATE, scones_declarations
from scones.templates import load_template
from scones.templates.functions import BUILT_IN_CODE
from scones.workflow.definitions import load_definition

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_template_declares_the_catalogued_functions() -> None:
    declarations = scones_declarations()
    assert [(f.name, f.handler, f.timeout_seconds, f.memory_mb) for f in declarations.functions.values()] == \
        [(i.name, i.handler, float(i.timeout_seconds), i.memory_mb) for i in SCONES_FUNCTIONS]
    for spec in declarations.functions.values():
        assert (spec.origin, spec.code, spec.runtime) == (Origin.BUILT_IN, BUILT_IN_CODE, "python3.12")
        module = spec.handler.rpartition(".")[0]
        assert (spec.code / (module.replace(".", "/") + ".py")).is_file()
    assert declarations.functions["classifyImage"].environment == {"ENDPOINT_NAME": "scones-endpoint"}
    assert (declarations.buckets, declarations.notes) == ((), ())


def test_the_shipped_state_machines_under_both_names() -> None:
    shipped = scones_declarations().state_machines
    assert tuple(shipped) == SHIPPED_NAMES == tuple(STATE_MACHINES)
    for name, spec in shipped.items():
        assert spec.origin is Origin.BUILT_IN
        assert json.loads(spec.definition) == load_definition(name)
    deployed = scones_declarations(deployed_names=True).state_machines
    names = Names(prefix="scones", bucket="b", account="123456789012", region="us-east-1")
    assert tuple(deployed) == DEPLOYED_NAMES == tuple(names.state_machine(stem) for stem in STATE_MACHINES)
    assert [s.definition for s in deployed.values()] == [s.definition for s in shipped.values()]


def test_the_shipped_template_is_package_data() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    data = pyproject["tool"]["setuptools"]["package-data"]["scones"]
    assert TEMPLATE.relative_to(REPO / "src" / "scones").as_posix() in data


@pytest.fixture
def deploy_template(tmp_path: Path) -> Path:
    """What ``scones deploy aws --template`` writes, built without AWS from the same pieces as ``write_template``."""
    from scones.aws.definitions import load_definition as load_raw
    from scones.aws.deploy import DeployOptions
    from scones.aws.package import build_function_zip
    from scones.aws.template import build_template, template_definitions

    names = Names(prefix="scones", bucket="my-bucket", account="111122223333", region="eu-west-1")
    options = DeployOptions(bucket="my-bucket", dataset_uri="s3://my-bucket/d", model_uri="s3://my-bucket/m.tar.gz",
                            image_uri="111122223333.dkr.ecr.eu-west-1.amazonaws.com/scones:1", threshold=0.8)
    definitions = template_definitions(names, {stem: load_raw(stem) for stem in STATE_MACHINES})
    template = build_template(names, options, model_sha256="0" * 64,
                              zips={base: build_function_zip(base) for base in FUNCTIONS}, definitions=definitions)
    path = tmp_path / "scones.template.json"
    path.write_text(json.dumps(template, indent=2))
    return path


def test_the_deploy_template_loads_back_onto_the_built_in_handlers(deploy_template: Path) -> None:
    declarations = load_template(deploy_template)
    functions = declarations.functions
    assert list(functions) == [f"scones-{base}" for base in FUNCTIONS]
    for info in SCONES_FUNCTIONS:
        spec = functions[f"scones-{info.name}"]
        # Its code is in S3 as zips of the installed handlers: the built-in handlers run instead.
        assert (spec.origin, spec.code, spec.handler) == (Origin.BUILT_IN, BUILT_IN_CODE, info.handler)
        assert (spec.timeout_seconds, spec.memory_mb) == (float(info.timeout_seconds), info.memory_mb)
    assert functions["scones-classifyImage"].environment == {"ENDPOINT_NAME": "scones-endpoint"}
    assert functions["scones-filterInferences"].environment == {"THRESHOLD": "0.8"}

    machines = declarations.state_machines
    assert list(machines) == ["scones-workflow", "scones-workflow-batch"]
    workflow = json.loads(machines["scones-workflow"].definition)
    assert workflow["States"]["ClassifyImage"]["Parameters"]["FunctionName"] == \
        "arn:aws:lambda:us-east-1:123456789012:function:scones-classifyImage"
    publish = next(s for n, s in workflow["States"].items() if n.startswith("Publish failure"))
    assert publish["Parameters"]["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:scones-failures"
    assert machines["scones-workflow"].role_arn == "arn:aws:iam::123456789012:role/scones-states-role"
    assert declarations.notes == (
        "FunctionsRole (AWS::IAM::Role): skipped, no local meaning",
        "StateMachinesRole (AWS::IAM::Role): skipped, no local meaning",
        "EndpointRole (AWS::IAM::Role): skipped, no local meaning",
        "FailureTopic (AWS::SNS::Topic): skipped, no local meaning",
        "EndpointModel (AWS::SageMaker::Model): skipped; the model behind an endpoint is given to scones",
        "EndpointConfig (AWS::SageMaker::EndpointConfig): skipped; the model behind an endpoint is given to scones",
        "Endpoint (AWS::SageMaker::Endpoint): skipped; serve a model under the endpoint name 'scones-endpoint' "
        "locally",
    )


def test_code_in_s3_that_is_not_scones_is_refused(deploy_template: Path) -> None:
    from scones.templates import TemplateError

    template = json.loads(deploy_template.read_text())
    template["Resources"]["ClassifyImageFunction"]["Properties"]["Handler"] = "app.handler"
    deploy_template.write_text(json.dumps(template))
    with pytest.raises(TemplateError, match="Resources.ClassifyImageFunction.Properties.Code: scones-classifyImage "
                                            r"has its code in S3 \(s3://my-bucket/scones/functions/classifyImage-"):
        load_template(deploy_template)
