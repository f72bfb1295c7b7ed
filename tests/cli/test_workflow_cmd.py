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


DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(("definition", "input_text"), [
    ('{"StartAt": "A", "States": {}}', "{}"),
    ("not json", "{}"),
    (json.dumps(PASS), "{broken"),
    (json.dumps(PASS), "@/nonexistent/input.json"),
    (DEEP, "{}"),
    (json.dumps(PASS), DEEP),
    (json.dumps(PASS), '{"a": ' + "[" * 401 + "]" * 401 + "}"),
    (json.dumps(PASS), '{"a": 1e400}'),
    (json.dumps(PASS), '{"a": NaN}'),
    (json.dumps(PASS), '{"a": -Infinity}'),
    ('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": NaN, "End": true}}}', "{}"),
    (json.dumps(PASS), "@" + "bad-utf8"),
    (json.dumps(PASS), '"\\ud800"'),
], ids=["no-states", "not-json", "bad-input", "missing-input-file", "deep-definition", "deep-input",
        "input-past-nesting-limit", "out-of-range-number", "nan", "infinity", "nan-in-definition", "invalid-utf8",
        "lone-surrogate"])
def test_unusable_definition_or_input_exits_non_zero_without_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], definition: str, input_text: str) -> None:
    (tmp_path / "bad-utf8").write_bytes(b'{"s3_key": "\xff"}')
    if input_text == "@bad-utf8":
        input_text = "@" + str(tmp_path / "bad-utf8")
    code, out, err = invoke(["workflow", "run", "--definition", write(tmp_path, "d.json", definition),
                             "--input", input_text, "--json"], capsys)
    assert code != 0 and out == ""
    assert err.startswith("Error: ") and "Traceback" not in err


def test_validate_and_run_agree_on_json_the_interpreter_cannot_take(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A definition nested deeper than the interpreter's limit, or holding NaN, is invalid JSON to both."""
    deep_result = "[" * 401 + "]" * 401
    for text in ('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": ' + deep_result + ', "End": true}}}',
                 '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": NaN, "End": true}}}'):
        path = write(tmp_path, "d.json", text)
        code, out, _ = invoke(["workflow", "validate", "--definition", path, "--json"], capsys)
        assert code == 1 and json.loads(out)[0]["code"] == "INVALID_JSON_DESCRIPTION"
        code, out, err = invoke(["workflow", "run", "--definition", path, "--json"], capsys)
        assert code != 0 and out == "" and err.startswith("Error: ") and "Traceback" not in err
        assert "nested more than 400 levels" in err or "NaN is not a JSON number" in err


def test_scones_and_plain_definitions_read_input_alike(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One input parser: the Scones machine and a plain definition give the same error and exit code."""
    (tmp_path / "bad.json").write_bytes(b'{"s3_key": "\xff"}')
    results = []
    for definition in ("scones", write(tmp_path, "p.json", PASS)):
        for input_text in ("@" + str(tmp_path / "missing.json"), "@" + str(tmp_path / "bad.json"), '{"a": NaN}'):
            code, out, err = invoke(["workflow", "run", "--definition", definition, "--input", input_text], capsys)
            assert out == "" and err.startswith("Error: ") and "Traceback" not in err
            results.append((code, err.splitlines()[0]))
    assert results[:3] == results[3:]


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


def test_history_reads_back_values_deeper_than_the_input_limit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run may nest its input deeper than 400 levels (each Pass wraps it once): its own record still reads."""
    wrap = {"StartAt": "S0", "States": {f"S{i}": {"Type": "Pass", "Parameters": {"x.$": "$"},
                                                  **({"Next": f"S{i + 1}"} if i < 9 else {"End": True})}
                                        for i in range(10)}}
    deep = "[" * 395 + "]" * 395
    code, _, _ = invoke(["workflow", "run", "--definition", write(tmp_path, "w.json", wrap), "--input", deep,
                         "--name", "deep"], capsys)
    assert code == 0
    code, out, err = invoke(["workflow", "history", "deep"], capsys)
    assert code == 0 and "ExecutionSucceeded" in out, err


@pytest.mark.parametrize("content", ['{"trunc', "[1]", "{}", '{"execution": {"status": "NOPE"}}',
                                     "EVENTS:[1, 2]", 'EVENTS:"abc"', 'EVENTS:[{"id": 1, "type": null}]'])
def test_history_of_a_damaged_record_is_an_error_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], scones_home: Path, content: str) -> None:
    invoke(["workflow", "run", "--definition", write(tmp_path, "m.json", PASS), "--name", "broken"], capsys)
    # the record in the store (a short run also leaves its listing row, a file of the same name, under state/)
    records = list((scones_home / "store").rglob("broken.json"))
    assert len(records) == 1
    if content.startswith("EVENTS:"):  # a real record whose events were damaged
        doc = json.loads(records[0].read_text(encoding="utf-8"))
        doc["events"] = json.loads(content.removeprefix("EVENTS:"))
        content = json.dumps(doc)
    records[0].write_text(content, encoding="utf-8")
    code, out, err = invoke(["workflow", "history", "broken"], capsys)
    assert code == 1 and out == ""
    assert err.startswith("Error: The saved execution 'broken'") and "is damaged" in err and "Traceback" not in err


def test_run_does_not_import_heavy_libraries(tmp_path: Path) -> None:
    definition = write(tmp_path, "m.json", PASS)
    code = ("import sys\nfrom scones.cli import main\n"
            f"try:\n    main(['workflow', 'run', '--definition', {definition!r}, '--json'])\n"
            "except SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'onnxruntime', 'numpy', 'boto3') if m in sys.modules]\n"
            "print('HEAVY=' + ','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="


def test_run_reads_and_writes_the_store_without_a_server(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A Distributed Map's ItemReader and ResultWriter use ``SCONES_HOME/store/<bucket>`` directly."""
    monkeypatch.setenv("SCONES_HOME", str(tmp_path / "home"))
    objects = tmp_path / "home" / "store" / "inputs" / "todo"
    objects.mkdir(parents=True)
    for name in ("a.txt", "b.txt"):
        (objects / name).write_text(name)
    (tmp_path / "home" / "store" / "outputs").mkdir()
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True,
        "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
                       "Parameters": {"Bucket": "inputs", "Prefix": "todo/"}},
        "ItemSelector": {"key.$": "$$.Map.Item.Value.Key"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": "outputs", "Prefix": "done"}}}}}
    code, out, _ = invoke(["workflow", "run", "--definition", write(tmp_path, "d.json", definition), "--json"],
                          capsys)
    result = json.loads(out)
    assert code == 0 and result["status"] == "SUCCEEDED", result
    manifest_key = result["output"]["ResultWriterDetails"]["Key"]
    manifest = json.loads((tmp_path / "home" / "store" / "outputs" / manifest_key).read_text())
    [written] = manifest["ResultFiles"]["SUCCEEDED"]
    entries = json.loads((tmp_path / "home" / "store" / "outputs" / written["Key"]).read_text())
    assert sorted(json.loads(e["Output"])["key"] for e in entries) == ["todo/a.txt", "todo/b.txt"]
