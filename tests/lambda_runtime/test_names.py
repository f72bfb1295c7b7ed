"""How names resolve: any ARN form finds a function by its name, the user's wins, an unknown name says what is there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scones.declarations import FunctionSpec, Origin
from scones.lambda_runtime.contract import LambdaServiceError
from scones.lambda_runtime.function import FunctionConfig
from scones.lambda_runtime.names import distance, nearest, not_found_note
from scones.lambda_runtime.runtime import LocalLambdaRuntime
from scones.lambda_runtime.user_functions import function_roster, lambda_functions, local_lambda_runtime


def built_in(event: Any, context: Any) -> Any:
    return "built-in"


BUILT_INS = [FunctionConfig("serializeImageData", built_in), FunctionConfig("classifyImage", built_in),
             FunctionConfig("filterInferences", built_in)]


@pytest.mark.parametrize("name", [
    "serializeImageData",
    "serializeImageData:$LATEST",
    "serializeImageData:7",
    "serializeImageData:prod",
    "123456789012:function:serializeImageData",
    "123456789012:function:serializeImageData:prod",
    "arn:aws:lambda:us-east-1:000000000000:function:serializeImageData",
    "arn:aws:lambda:eu-west-1:999999999999:function:serializeImageData:prod",
    "arn:aws:lambda:ap-south-1:111122223333:function:serializeImageData:$LATEST",
    "arn:aws-cn:lambda:cn-north-1:111122223333:function:serializeImageData:3",
])
def test_every_arn_form_finds_the_function_by_name(name: str) -> None:
    with LocalLambdaRuntime(BUILT_INS) as rt:
        result = rt.invoke(name, {})
    assert result.function_error is None and result.payload == "built-in"
    assert result.executed_version == "$LATEST"


def unknown(rt: LocalLambdaRuntime, name: str) -> LambdaServiceError:
    with pytest.raises(LambdaServiceError) as info:
        rt.invoke(name, {})
    assert info.value.error == "Lambda.ResourceNotFoundException"
    return info.value


@pytest.mark.parametrize(("name", "meant"), [
    ("serializeimagedata", "serializeImageData"),
    ("SerializeImageData", "serializeImageData"),
    ("serializeImageDta", "serializeImageData"),
    ("arn:aws:lambda:eu-west-1:999999999999:function:classifyImag:prod", "classifyImage"),
])
def test_unknown_name_fails_as_aws_then_says_the_nearest(name: str, meant: str) -> None:
    with LocalLambdaRuntime(BUILT_INS) as rt:
        error = unknown(rt, name)
    # AWS's sentence comes first, as Step Functions shows it in the cause.
    assert error.cause.startswith("Function not found: arn:aws:lambda:us-east-1:")
    assert "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException;" in error.cause
    assert error.cause.endswith(f"did you mean {meant}? functions here: classifyImage, filterInferences, "
                                "serializeImageData")


def test_unknown_name_far_from_all_lists_them_without_a_guess() -> None:
    with LocalLambdaRuntime(BUILT_INS) as rt:
        error = unknown(rt, "resize")
    assert "did you mean" not in error.cause
    assert error.cause.endswith("functions here: classifyImage, filterInferences, serializeImageData")
    with LocalLambdaRuntime([]) as rt:
        assert unknown(rt, "resize").cause.endswith("no functions are declared here")


def test_nearest_and_distance() -> None:
    assert distance("kitten", "sitting") == 3 and distance("ab", "ba") == 1
    assert nearest("filterinference", ["filterInferences", "classifyImage"]) == "filterInferences"
    assert nearest("ab", ["ac"]) is None  # short names: only a case slip counts
    assert nearest("AB", ["ab"]) == "ab"
    assert not_found_note("x", ["b", "a"]) == "functions here: a, b"


def test_a_user_function_wins_over_the_built_in_of_its_name(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text("def lambda_handler(event, context):\n    return 'mine'\n")
    spec = FunctionSpec("classifyImage", tmp_path / "mine.py", "lambda_handler", Origin.FLAG,
                        declared_at="--function classifyImage=mine.py")
    configs = lambda_functions({"classifyImage": spec}, deps_cache=tmp_path / "deps", built_ins=BUILT_INS)
    assert [c.name for c in configs] == ["classifyImage", "serializeImageData", "filterInferences"]
    with local_lambda_runtime({"classifyImage": spec}, deps_cache=tmp_path / "deps", built_ins=BUILT_INS) as rt:
        assert rt.invoke("classifyImage", {}).payload == "mine"
        assert rt.invoke("serializeImageData", {}).payload == "built-in"
        roster = function_roster(rt, built_ins=[b.name for b in BUILT_INS])
    assert roster.user == (("classifyImage", "--function classifyImage=mine.py"),)
    assert roster.built_in == ("filterInferences", "serializeImageData")
    assert roster.replaced == ("classifyImage",)
    text = "\n".join(roster.lines())
    assert "your functions:     classifyImage (--function classifyImage=mine.py)" in text
    assert "built-in functions: filterInferences, serializeImageData" in text
    assert "classifyImage: yours, in place of the built-in" in text
    assert "a private /tmp per container" in text or "one invocation at a time" in text


def test_roster_notes_a_user_name_that_differs_from_a_built_in_only_in_case(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text("def lambda_handler(event, context):\n    return 'mine'\n")
    spec = FunctionSpec("serializeimagedata", tmp_path / "mine.py", "lambda_handler", Origin.FLAG)
    with local_lambda_runtime({spec.name: spec}, deps_cache=tmp_path / "deps", built_ins=BUILT_INS) as rt:
        roster = function_roster(rt, built_ins=[b.name for b in BUILT_INS])
    assert roster.case_only == (("serializeimagedata", "serializeImageData"),)
    assert any("differ only in case" in line for line in roster.lines())
