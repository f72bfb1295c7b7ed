"""The user's own functions, run faithfully: own modules, environment, errors as AWS reports them, logs, layers."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from scones.lambda_runtime.function import FunctionConfig
from scones.lambda_runtime.user_functions import aws_environment, lambda_functions

from .conftest import UserRuntime, spec, write

COUNTER = '''
import os, sys
CALLS = {"n": 0}
HERE = os.path.dirname(os.path.abspath(__file__))

def lambda_handler(event, context):
    CALLS["n"] += 1
    return {"folder": os.path.basename(HERE), "calls": CALLS["n"], "modules": sorted(m for m in sys.modules
            if m == "lambda_function" or m.startswith("lambda"))}
'''

THREE_HANDLERS = '''
STATE = []

def resize(event, context):
    STATE.append("resize")
    return STATE

def crop(event, context):
    STATE.append("crop")
    return STATE

def rotate(event, context):
    STATE.append("rotate")
    return STATE
'''


def test_two_lambda_function_py_files_do_not_collide(tmp_path: Path, user_runtime: UserRuntime) -> None:
    write(tmp_path / "first" / "lambda_function.py", COUNTER)
    write(tmp_path / "second" / "lambda_function.py", COUNTER)
    with user_runtime(spec("first", tmp_path / "first", "lambda_function.lambda_handler"),
                      spec("second", tmp_path / "second", "lambda_function.lambda_handler")) as rt:
        assert rt.invoke("first", {}).payload["folder"] == "first"
        assert rt.invoke("second", {}).payload["folder"] == "second"
        assert rt.invoke("first", {}).payload["calls"] == 2  # warm: the same module, its own state
        assert rt.invoke("second", {}).payload == {"folder": "second", "calls": 2, "modules": ["lambda_function"]}


def test_one_file_with_three_handlers_gives_three_separate_modules(tmp_path: Path,
                                                                   user_runtime: UserRuntime) -> None:
    source = write(tmp_path / "lambda.py", THREE_HANDLERS)
    with user_runtime(spec("resize", source, "resize"), spec("crop", source, "crop"),
                      spec("rotate", source, "rotate")) as rt:
        assert rt.invoke("resize", {}).payload == ["resize"]
        assert rt.invoke("crop", {}).payload == ["crop"]
        assert rt.invoke("resize", {}).payload == ["resize", "resize"]
        assert rt.invoke("rotate", {}).payload == ["rotate"]
        assert {name for name, _ in rt.workers()} == {"resize", "crop", "rotate"}


ENVIRONMENT = '''
import os, sys

def lambda_handler(event, context):
    keys = ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
            "AWS_DISABLE_HOST_PREFIX_INJECTION", "AWS_LAMBDA_FUNCTION_NAME", "LAMBDA_TASK_ROOT", "GREETING",
            "_SCONES_PRIVATE_TMP", "AWS_PROFILE"]
    return {"env": {k: os.environ.get(k) for k in keys}, "path": sys.path, "cwd": os.getcwd(),
            "memory": context.memory_limit_in_mb, "arn": context.invoked_function_arn}
'''


def test_environment_defaults_reach_the_local_endpoint_unless_set(tmp_path: Path, user_runtime: UserRuntime,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "my-real-account")  # nothing of this process's environment leaks in
    source = write(tmp_path / "env" / "app.py", ENVIRONMENT)
    defaults = spec("defaults", source, memory_mb=512, environment={"GREETING": "hi"})
    mine = spec("mine", source, environment={"AWS_ENDPOINT_URL": "http://elsewhere:1", "AWS_REGION": "eu-west-1"})
    with user_runtime(defaults, mine, endpoint_url="http://127.0.0.1:4566", region="us-west-2") as rt:
        first = rt.invoke("defaults", {}).payload
        second = rt.invoke("mine", {}).payload
    assert first["env"] == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-west-2",
        "AWS_ACCESS_KEY_ID": "scones-local", "AWS_SECRET_ACCESS_KEY": "scones-local",
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true", "AWS_LAMBDA_FUNCTION_NAME": "defaults",
        "LAMBDA_TASK_ROOT": str(tmp_path / "env"), "GREETING": "hi", "_SCONES_PRIVATE_TMP": None, "AWS_PROFILE": None}
    assert first["memory"] == 512 and first["arn"] == "arn:aws:lambda:us-west-2:123456789012:function:defaults"
    assert first["cwd"] == str(tmp_path / "env") and first["path"][0] == str(tmp_path / "env")
    assert not any("site-packages" in p and "runtime" not in p for p in first["path"])  # no venv packages
    assert second["env"]["AWS_ENDPOINT_URL"] == "http://elsewhere:1"
    assert second["env"]["AWS_REGION"] == "eu-west-1" and second["env"]["AWS_DEFAULT_REGION"] == "us-west-2"


def test_no_endpoint_url_sets_none() -> None:
    assert "AWS_ENDPOINT_URL" not in aws_environment(None, "us-east-1")


CLASSIC_BUGS = '''
import base64

def returns_bytes(event, context):
    return {"statusCode": 200, "body": {"image_data": base64.b64encode(b"png")}}

def raises_a_string(event, context):
    if event["inferences"][0] < 0.93:
        raise("THRESHOLD_CONFIDENCE_NOT_MET")
    return event

def prints(event, context):
    print("hello from", context.function_name)
    return "ok"
'''


def test_classic_bugs_fail_as_on_aws(tmp_path: Path, user_runtime: UserRuntime) -> None:
    source = write(tmp_path / "bugs.py", CLASSIC_BUGS)
    with user_runtime(spec("serialize", source, "returns_bytes"), spec("filter", source, "raises_a_string"),
                      spec("talk", source, "prints")) as rt:
        marshal = rt.invoke("serialize", {})
        raised = rt.invoke("filter", {"inferences": [0.6, 0.4]})
        talk = rt.invoke("talk", {})
    assert marshal.function_error == "Unhandled"
    assert marshal.payload == {"errorMessage": "Unable to marshal response: Object of type bytes is not JSON "
                                               "serializable", "errorType": "Runtime.MarshalError",
                               "requestId": marshal.request_id, "stackTrace": []}
    assert raised.function_error == "Unhandled"
    assert raised.payload["errorType"] == "TypeError"
    assert raised.payload["errorMessage"] == "exceptions must derive from BaseException"
    assert any('raise("THRESHOLD_CONFIDENCE_NOT_MET")' in frame for frame in raised.payload["stackTrace"])
    assert raised.log.startswith(f"START RequestId: {raised.request_id} Version: $LATEST\n")
    assert "[ERROR] TypeError: exceptions must derive from BaseException" in raised.log
    assert f"REPORT RequestId: {raised.request_id}\tDuration: " in raised.log
    assert "hello from talk\n" in talk.log and talk.payload == "ok"


def test_missing_package_is_import_module_error_with_a_requirements_hint(tmp_path: Path,
                                                                         user_runtime: UserRuntime) -> None:
    write(tmp_path / "fn" / "lambda_function.py", "import xyz_not_shipped\n\ndef lambda_handler(e, c):\n    pass\n")
    with zipfile.ZipFile(tmp_path / "fn.zip", "w") as zf:
        zf.write(tmp_path / "fn" / "lambda_function.py", "lambda_function.py")
    with user_runtime(spec("folder", tmp_path / "fn", "lambda_function.lambda_handler"),
                      spec("zipped", tmp_path / "fn.zip", "lambda_function.lambda_handler")) as rt:
        folder = rt.invoke("folder", {})
        zipped = rt.invoke("zipped", {})
    assert folder.function_error == "Unhandled" and folder.payload["errorType"] == "Runtime.ImportModuleError"
    aws = "Unable to import module 'lambda_function': No module named 'xyz_not_shipped'"
    assert folder.payload["errorMessage"] == (f"{aws} — scones: list 'xyz_not_shipped' in "
                                              f"{tmp_path / 'fn' / 'requirements.txt'}, which scones installs as "
                                              "sam build does (or put it in a layer)")
    assert zipped.payload["errorMessage"].startswith(f"{aws} — scones: a deployment zip must ship 'xyz_not_shipped'")


def test_the_venvs_own_packages_are_not_visible(tmp_path: Path, user_runtime: UserRuntime) -> None:
    """numpy is installed beside scones, not in a Lambda runtime: importing it fails as on AWS."""
    source = write(tmp_path / "np.py", "import numpy\n\ndef lambda_handler(e, c):\n    return 1\n")
    with user_runtime(spec("np", source)) as rt:
        result = rt.invoke("np", {})
    assert result.payload["errorMessage"].startswith("Unable to import module 'np': No module named 'numpy'")


def test_zip_function_runs_from_its_package(tmp_path: Path, user_runtime: UserRuntime) -> None:
    with zipfile.ZipFile(tmp_path / "fn.zip", "w") as zf:
        zf.writestr("pkg/__init__.py", "")
        zf.writestr("pkg/handler.py", "import os\n\ndef go(event, context):\n    return sorted(os.listdir('.'))\n")
    with user_runtime(spec("zipped", tmp_path / "fn.zip", "pkg.handler.go")) as rt:
        assert rt.invoke("zipped", {}).payload == ["pkg"]


def test_layers_go_on_the_path_after_the_code(tmp_path: Path, user_runtime: UserRuntime) -> None:
    write(tmp_path / "layer" / "python" / "shared.py", "WHO = 'layer'\n")
    write(tmp_path / "layer" / "python" / "both.py", "WHO = 'layer'\n")
    write(tmp_path / "plain-layer" / "plain.py", "WHO = 'plain layer'\n")
    write(tmp_path / "fn" / "both.py", "WHO = 'code'\n")
    write(tmp_path / "fn" / "app.py", "import both, plain, shared\n\n"
                                      "def handler(e, c):\n    return [both.WHO, shared.WHO, plain.WHO]\n")
    layered = spec("layered", tmp_path / "fn" / "app.py", "handler",
                   layers=(tmp_path / "layer", tmp_path / "plain-layer"))
    with user_runtime(layered) as rt:
        assert rt.invoke("layered", {}).payload == ["code", "layer", "plain layer"]


TIMES_OUT = '''
import os, time

def lambda_handler(event, context):
    time.sleep(event.get("sleep", 0))
    return os.getpid()
'''


def test_timeout_kills_the_worker_and_a_new_one_takes_over(tmp_path: Path, user_runtime: UserRuntime) -> None:
    source = write(tmp_path / "slow.py", TIMES_OUT)
    with user_runtime(spec("slow", source, timeout_seconds=0.5)) as rt:
        first = rt.invoke("slow", {}).payload
        assert rt.invoke("slow", {}).payload == first  # warm
        late = rt.invoke("slow", {"sleep": 5})
        assert late.payload["errorMessage"].endswith("Task timed out after 0.50 seconds")
        assert "Task timed out after 0.50 seconds" in late.log
        assert rt.invoke("slow", {}).payload != first  # a new worker


def test_declarations_are_checked_before_any_runtime_starts(tmp_path: Path) -> None:
    from scones.errors import UsageError

    write(tmp_path / "bad.py", "def lambda_handler(event, context):\n  return (\n")
    with pytest.raises(UsageError, match=r"syntax error in .*bad\.py, line 2"):
        lambda_functions({"bad": spec("bad", tmp_path / "bad.py")}, deps_cache=tmp_path / "deps")
    assert not (tmp_path / "deps").exists()


def test_built_ins_keep_running_in_process(tmp_path: Path, user_runtime: UserRuntime) -> None:
    import os

    def built_in(event: Any, context: Any) -> Any:
        return os.getpid()

    source = write(tmp_path / "pid.py", "import os\n\ndef lambda_handler(e, c):\n    return os.getpid()\n")
    with user_runtime(spec("mine", source), built_ins=[FunctionConfig("builtin", built_in)]) as rt:
        assert rt.invoke("builtin", {}).payload == os.getpid()
        assert rt.invoke("mine", {}).payload != os.getpid()
        assert json.dumps(rt.invoke("mine", {}).payload)


CLASSIC_SERIALIZER = '''
import base64, os
import boto3

s3 = boto3.client("s3")

def lambda_handler(event, context):
    s3.download_file(event["s3_bucket"], event["s3_key"], "/tmp/image.png")
    with open("/tmp/image.png", "rb") as f:
        image_data = base64.b64encode(f.read()).decode("utf-8")
    listed = [o.key for o in boto3.resource("s3").Bucket(event["s3_bucket"]).objects.all()]
    return {"statusCode": 200, "body": {"image_data": image_data, "listed": listed}}
'''


@pytest.mark.slow
def test_unchanged_boto3_code_reaches_the_local_endpoint(tmp_path: Path, user_runtime: UserRuntime, s3_server: Any,
                                                         moto_endpoint: str, make_bucket: Any) -> None:
    import base64

    bucket = make_bucket(s3_server)
    s3_server.put_object(Bucket=bucket, Key="test/bicycle_s_000513.png", Body=b"\x89PNG fake")
    source = write(tmp_path / "serializer" / "lambda_function.py", CLASSIC_SERIALIZER)
    with user_runtime(spec("serializeImageData", source.parent, "lambda_function.lambda_handler",
                           timeout_seconds=30), endpoint_url=moto_endpoint) as rt:
        result = rt.invoke("serializeImageData", {"s3_bucket": bucket, "s3_key": "test/bicycle_s_000513.png"})
    assert result.function_error is None, result.payload
    assert base64.b64decode(result.payload["body"]["image_data"]) == b"\x89PNG fake"
    assert result.payload["body"]["listed"] == ["test/bicycle_s_000513.png"]
