"""``scones workflow``: the validate/run/history protocol."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scones.cli import main

PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.r", "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "because"}}}


def write(tmp_path: Path, name: str, doc: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return str(path)


def invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_run_json_prints_exactly_one_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(["workflow", "run", "--definition", write(tmp_path, "m.asl.json", PASS),
                           "--input", '{"a": 1}', "--json", "--name", "r1"], capsys)
    assert code == 0
    assert out.count("\n") == 1
    result = json.loads(out)
    assert result == {"status": "SUCCEEDED", "output": {"a": 1, "r": {"ok": True}}, "error": None, "cause": None,
                      "executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:r1"}


def test_failed_execution_still_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(["workflow", "run", "--definition", write(tmp_path, "f.json", FAIL),
                           "--input", "@" + write(tmp_path, "in.json", {"x": 1}), "--json"], capsys)
    assert code == 0
    assert json.loads(out) | {"executionArn": None} == {"status": "FAILED", "output": None, "error": "Bad",
                                                         "cause": "because", "executionArn": None}


@pytest.mark.parametrize(("definition", "input_text"), [
    ('{"StartAt": "A", "States": {}}', "{}"),
    ("not json", "{}"),
    (json.dumps(PASS), "{broken"),
    (json.dumps(PASS), "@/nonexistent/input.json"),
])
def test_unusable_definition_or_input_exits_non_zero_without_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], definition: str, input_text: str) -> None:
    code, out, err = invoke(["workflow", "run", "--definition", write(tmp_path, "d.json", definition),
                             "--input", input_text, "--json"], capsys)
    assert code != 0 and out == ""
    assert err.startswith("Error: ") and "Traceback" not in err


def test_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(["workflow", "validate", "--definition", write(tmp_path, "ok.json", PASS)], capsys)
    assert code == 0 and "valid" in out
    bad = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
    code, out, _ = invoke(["workflow", "validate", "--definition", write(tmp_path, "bad.json", bad)], capsys)
    assert code == 1
    assert "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next" in out
    code, out, _ = invoke(["workflow", "validate", "--definition", write(tmp_path, "bad.json", bad), "--json"],
                          capsys)
    assert code == 1 and json.loads(out)[0] == {"code": "MISSING_TRANSITION_TARGET",
                                                "message": "Missing 'Next' target: Nowhere",
                                                "location": "/States/A/Next"}


def test_history_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(["workflow", "run", "--definition", write(tmp_path, "m.json", PASS), "--name", "hist-1"], capsys)
    code, out, _ = invoke(["workflow", "history", "hist-1"], capsys)
    assert code == 0 and "PassStateEntered" in out and "ExecutionSucceeded" in out
    code, out, _ = invoke(["workflow", "history", "hist-1", "--json"], capsys)
    assert [e["type"] for e in json.loads(out)["events"]] == ["ExecutionStarted", "PassStateEntered",
                                                              "PassStateExited", "ExecutionSucceeded"]
    code, _, err = invoke(["workflow", "history", "nope"], capsys)
    assert code != 0 and "No execution named 'nope'" in err


def test_run_does_not_import_heavy_libraries(tmp_path: Path) -> None:
    definition = write(tmp_path, "m.json", PASS)
    code = ("import sys\nfrom scones.cli import main\n"
            f"try:\n    main(['workflow', 'run', '--definition', {definition!r}, '--json'])\n"
            "except SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'onnxruntime', 'numpy', 'boto3') if m in sys.modules]\n"
            "print('HEAVY=' + ','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="
