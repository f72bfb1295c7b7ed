"""Distributed Map: item readers over a store folder, batching, tolerated failures, result files, children."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from scones.store import FILE_MODE
from scones.workflow.asl import CallableLambdaInvoker, Execution, Executor, FakeClock
from scones.workflow.asl.distributed.map_run import MapRun
from scones.workflow.asl.distributed.objects import FolderObjects
from scones.workflow.asl.errors import DefinitionError

PASS = {"P": {"Type": "Pass", "End": True}}
INVOKE = "arn:aws:states:::lambda:invoke"


class Host:
    """A map-run host that remembers what it hears."""

    def __init__(self) -> None:
        self.runs: list[MapRun] = []
        self.children: list[Execution] = []

    def map_run_started(self, run: MapRun) -> None:
        self.runs.append(run)

    def child_ended(self, record: Execution) -> None:
        self.children.append(record)


def dmap(states: dict[str, Any] | None = None, start: str = "P", execution_type: str = "STANDARD",
         **fields: Any) -> dict[str, Any]:
    return {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, **fields, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
        "StartAt": start, "States": states or PASS}}}}


def run(definition: dict[str, Any], data: Any = None, *, root: Path | None = None, host: Host | None = None,
        functions: dict[str, Any] | None = None) -> Execution:
    executor = Executor(definition, invoker=CallableLambdaInvoker(functions or {}), clock=FakeClock(),
                        objects=FolderObjects(root) if root is not None else None, map_runs=host)
    return executor.run({} if data is None else data)


def put(root: Path, bucket: str, key: str, data: bytes | str) -> Path:
    path = root / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def reader(resource: str, **parameters: Any) -> dict[str, Any]:
    config = parameters.pop("ReaderConfig", None)
    out: dict[str, Any] = {"Resource": f"arn:aws:states:::s3:{resource}", "Parameters": parameters}
    if config is not None:
        out["ReaderConfig"] = config
    return out


# -- ItemReader: listObjectsV2 ------------------------------------------------------------
def test_list_objects_yields_contents_entries_under_the_prefix_in_key_order(tmp_path: Path) -> None:
    for key in ("in/b.txt", "in/a/c.txt", "in-x.txt", "inx.txt", "other/d.txt", "in/a-z.txt"):
        put(tmp_path, "data", key, key)
    (tmp_path / "data" / "in" / ".half.tmp").write_text("a write in progress")
    execution = run(dmap(ItemReader=reader("listObjectsV2", Bucket="data", Prefix="in/")), root=tmp_path)
    assert execution.status.value == "SUCCEEDED", execution.result()
    assert [item["Key"] for item in execution.output] == ["in/a-z.txt", "in/a/c.txt", "in/b.txt"]
    first = execution.output[0]
    path = tmp_path / "data" / "in" / "a-z.txt"
    assert list(first) == ["Etag", "Key", "LastModified", "Size", "StorageClass"]
    assert first == {"Etag": f'"{hashlib.md5(b"in/a-z.txt").hexdigest()}"', "Key": "in/a-z.txt",
                     "LastModified": int(path.stat().st_mtime), "Size": 10, "StorageClass": "STANDARD"}


def test_list_objects_prefix_that_is_not_a_folder_and_max_items(tmp_path: Path) -> None:
    for key in ("logs/2024-01.txt", "logs/2024-02.txt", "logs/2025-01.txt"):
        put(tmp_path, "data", key, "x")
    listed = run(dmap(ItemReader=reader("listObjectsV2", Bucket="data", Prefix="logs/2024")), root=tmp_path)
    assert [i["Key"] for i in listed.output] == ["logs/2024-01.txt", "logs/2024-02.txt"]
    limited = run(dmap(ItemReader=reader("listObjectsV2", Bucket="data", ReaderConfig={"MaxItems": 2})),
                  root=tmp_path)
    assert [i["Key"] for i in limited.output] == ["logs/2024-01.txt", "logs/2024-02.txt"]
    by_path = run(dmap(ItemReader=reader("listObjectsV2", **{"Bucket.$": "$.b"}, ReaderConfig={
        "MaxItemsPath": "$.n"})), {"b": "data", "n": 1}, root=tmp_path)
    assert [i["Key"] for i in by_path.output] == ["logs/2024-01.txt"]


# -- ItemReader: getObject ----------------------------------------------------------------
@pytest.mark.parametrize("prefix", ["../secret/", "../secret/in/k", "/in/", "in//", "./in/", "link/"])
def test_list_objects_prefix_no_key_can_have_lists_nothing(tmp_path: Path, prefix: str) -> None:
    put(tmp_path, "data", "in/a.txt", "in the bucket")
    put(tmp_path, "secret", "in/k.txt", "another bucket")
    (tmp_path / "data" / "link").symlink_to(tmp_path / "secret" / "in")
    listed = run(dmap(ItemReader=reader("listObjectsV2", Bucket="data", Prefix=prefix)), root=tmp_path)
    assert listed.status.value == "SUCCEEDED" and listed.output == [], listed.result()


def test_get_object_json_array_with_item_selector(tmp_path: Path) -> None:
    put(tmp_path, "data", "items.json", json.dumps([{"n": 1}, {"n": 2}]))
    execution = run(dmap(ItemReader=reader("getObject", Bucket="data", Key="items.json",
                                           ReaderConfig={"InputType": "JSON"}),
                         ItemSelector={"value.$": "$$.Map.Item.Value.n", "index.$": "$$.Map.Item.Index",
                                       "tag.$": "$.tag"}), {"tag": "t"}, root=tmp_path)
    assert execution.output == [{"value": 1, "index": 0, "tag": "t"}, {"value": 2, "index": 1, "tag": "t"}]


def test_get_object_jsonl(tmp_path: Path) -> None:
    put(tmp_path, "data", "items.jsonl", '{"a": 1}\n\n[2]\n"three"\n')
    execution = run(dmap(ItemReader=reader("getObject", Bucket="data", Key="items.jsonl",
                                           ReaderConfig={"InputType": "JSONL", "MaxItems": 2})), root=tmp_path)
    assert execution.output == [{"a": 1}, [2]]


def test_get_object_csv_with_header_row_and_given_headers(tmp_path: Path) -> None:
    put(tmp_path, "data", "ratings.csv", "movie,rating\nAlien,5\nHeat,4,extra\nSolo\n")
    first_row = run(dmap(ItemReader=reader("getObject", Bucket="data", Key="ratings.csv", ReaderConfig={
        "InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"})), root=tmp_path)
    assert first_row.output == [{"movie": "Alien", "rating": "5"}, {"movie": "Heat", "rating": "4"},
                                {"movie": "Solo", "rating": ""}]
    put(tmp_path, "data", "plain.csv", "Alien;5\nHeat;4\n")
    given = run(dmap(ItemReader=reader("getObject", Bucket="data", Key="plain.csv", ReaderConfig={
        "InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["title", "stars"],
        "CSVDelimiter": "SEMICOLON"})), root=tmp_path)
    assert given.output == [{"title": "Alien", "stars": "5"}, {"title": "Heat", "stars": "4"}]


def test_csv_duplicate_headers_fail_the_reader(tmp_path: Path) -> None:
    put(tmp_path, "data", "dup.csv", "a,a\n1,2\n")
    execution = run(dmap(ItemReader=reader("getObject", Bucket="data", Key="dup.csv", ReaderConfig={
        "InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"})), root=tmp_path)
    assert (execution.error, execution.cause) == ("States.ItemReaderFailed", "CSV headers cannot contain duplicates.")


def test_manifest_reads_the_inventory_csv_files(tmp_path: Path) -> None:
    put(tmp_path, "inventory", "data/1.csv.gz", gzip.compress(b'"src","a.txt","3"\n"src","b.txt","5"\n'))
    put(tmp_path, "inventory", "data/2.csv", '"src","c.txt","8"\n')
    manifest = {"sourceBucket": "src", "destinationBucket": "arn:aws:s3:::inventory", "fileFormat": "CSV",
                "fileSchema": "Bucket, Key, Size",
                "files": [{"key": "data/1.csv.gz", "size": 1, "MD5checksum": "x"},
                          {"key": "data/2.csv", "size": 1, "MD5checksum": "y"}]}
    put(tmp_path, "inventory", "manifest.json", json.dumps(manifest))
    execution = run(dmap(ItemReader=reader("getObject", Bucket="inventory", Key="manifest.json",
                                           ReaderConfig={"InputType": "MANIFEST"})), root=tmp_path)
    assert execution.output == [{"Bucket": "src", "Key": "a.txt", "Size": "3"},
                                {"Bucket": "src", "Key": "b.txt", "Size": "5"},
                                {"Bucket": "src", "Key": "c.txt", "Size": "8"}]


@pytest.mark.parametrize(("content", "key", "cause"), [
    (None, "missing.json", r"The specified key does not exist: s3://data/missing\.json \(Service: S3, "
                           r"Status Code: 404, Error Code: NoSuchKey, Request ID: \w+\)"),
    ("{not json", "bad.json", r"The object is not valid JSON: .*"),
    ('{"an": "object"}', "object.json", r"Attempting to map over non-iterable node\."),
], ids=["missing", "not-json", "not-an-array"])
def test_reader_failures(tmp_path: Path, content: str | None, key: str, cause: str) -> None:
    put(tmp_path, "data", "other.json", "[]")
    if content is not None:
        put(tmp_path, "data", key, content)
    execution = run(dmap(ItemReader=reader("getObject", Bucket="data", Key=key, ReaderConfig={"InputType": "JSON"})),
                    root=tmp_path)
    assert execution.error == "States.ItemReaderFailed"
    assert re.fullmatch(cause, execution.cause or ""), execution.cause
    failed = [e for e in execution.events() if e["type"] == "MapRunFailed"]
    assert failed[0]["mapRunFailedEventDetails"]["error"] == "States.ItemReaderFailed"


def test_missing_bucket_fails_the_reader(tmp_path: Path) -> None:
    execution = run(dmap(ItemReader=reader("listObjectsV2", Bucket="nowhere")), root=tmp_path)
    assert execution.error == "States.ItemReaderFailed" and "NoSuchBucket" in (execution.cause or "")


# -- ItemBatcher --------------------------------------------------------------------------
def test_batches_by_items_with_batch_input() -> None:
    execution = run(dmap(ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"tag.$": "$.tag"}}, ItemsPath="$.xs"),
                    {"xs": [1, 2, 3], "tag": "t"})
    assert execution.output == [{"BatchInput": {"tag": "t"}, "Items": [1, 2]},
                                {"BatchInput": {"tag": "t"}, "Items": [3]}]


def test_batches_by_bytes_and_path_forms() -> None:
    # {"Items":[]} is 12 bytes; each 7-byte item ("aaaaa") adds 7, plus a comma after the first.
    by_bytes = run(dmap(ItemBatcher={"MaxInputBytesPerBatch": 27}), ["aaaaa"] * 5)
    assert [len(b["Items"]) for b in by_bytes.output] == [2, 2, 1]
    by_path = run(dmap(ItemBatcher={"MaxItemsPerBatchPath": "$.n"}, ItemsPath="$.xs"), {"n": 3, "xs": [1, 2, 3, 4]})
    assert [b["Items"] for b in by_path.output] == [[1, 2, 3], [4]]
    bad = run(dmap(ItemBatcher={"MaxItemsPerBatchPath": "$.n"}, ItemsPath="$.xs"), {"n": "three", "xs": [1]})
    assert bad.error == "States.Runtime" and "MaxItemsPerBatchPath" in (bad.cause or "")


# -- tolerated failures -------------------------------------------------------------------
FAIL_ABOVE_ONE = {"C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 1, "Next": "F"}],
                        "Default": "P"},
                  "F": {"Type": "Fail", "Error": "Big", "Cause": "too big"}, "P": {"Type": "Pass", "End": True}}


@pytest.mark.parametrize(("fields", "data", "ok"), [
    ({"ToleratedFailureCount": 1}, [1, 2], True),
    ({"ToleratedFailureCount": 1}, [1, 2, 3], False),
    ({"ToleratedFailurePercentage": 50}, [1, 1, 2, 3], True),
    ({"ToleratedFailurePercentage": 50}, [1, 2, 3], False),
    ({"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 10}, [1, 2], False),
    ({}, [1, 2], False),
], ids=["count-ok", "count-exceeded", "pct-ok", "pct-exceeded", "either-exceeded", "none-tolerated"])
def test_tolerated_failures(fields: dict[str, Any], data: list[int], ok: bool) -> None:
    execution = run(dmap(FAIL_ABOVE_ONE, "C", **fields), data)
    if ok:
        assert execution.status.value == "SUCCEEDED"
        assert {"Error": "Big", "Cause": "too big"} in execution.output
        return
    if not fields:
        assert (execution.error, execution.cause) == ("States.ExceedToleratedFailureThreshold",
                                                      "The specified tolerated failure threshold was exceeded")
    assert execution.error == "States.ExceedToleratedFailureThreshold"
    failed = [e for e in execution.events() if e["type"] == "MapRunFailed"][0]["mapRunFailedEventDetails"]
    assert failed == {"error": "States.ExceedToleratedFailureThreshold",
                      "cause": "The specified tolerated failure threshold was exceeded"}


def test_tolerated_failure_path_forms() -> None:
    ok = run(dmap(FAIL_ABOVE_ONE, "C", ItemsPath="$.xs", ToleratedFailureCountPath="$.n"), {"xs": [2, 3], "n": 2})
    assert ok.status.value == "SUCCEEDED"
    pct = run(dmap(FAIL_ABOVE_ONE, "C", ItemsPath="$.xs", ToleratedFailurePercentagePath="$.p"),
              {"xs": [1, 2], "p": 49.5})
    assert pct.error == "States.ExceedToleratedFailureThreshold"
    bad = run(dmap(FAIL_ABOVE_ONE, "C", ItemsPath="$.xs", ToleratedFailureCountPath="$.n"), {"xs": [1], "n": -1})
    assert bad.error == "States.Runtime"
    assert bad.cause == ("An error occurred while executing the state 'M' (entered at the event id #2). "
                         "ToleratedFailureCount cannot be negative.")


# -- ResultWriter -------------------------------------------------------------------------
def writer(**config: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Resource": "arn:aws:states:::s3:putObject",
                           "Parameters": {"Bucket": "results", "Prefix": "runs"}}
    if config:
        out["WriterConfig"] = config
    return out


def test_result_writer_files_and_output(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    host = Host()
    execution = run(dmap(FAIL_ABOVE_ONE, "C", ItemsPath="$.xs", ToleratedFailureCount=1, ResultWriter=writer(),
                         Label="scores"), {"xs": [1, 2]}, root=tmp_path, host=host)
    assert execution.status.value == "SUCCEEDED", execution.result()
    run_arn = host.runs[0].arn
    run_id = run_arn.rsplit(":", 1)[1]
    assert re.fullmatch(r"arn:aws:states:us-east-1:\d{12}:mapRun:scones-local/scores:[0-9a-f-]{36}", run_arn)
    assert execution.output == {"MapRunArn": run_arn, "ResultWriterDetails": {
        "Bucket": "results", "Key": f"runs/{run_id}/manifest.json"}}
    folder = tmp_path / "results" / "runs" / run_id
    manifest = json.loads((folder / "manifest.json").read_text())
    succeeded = (folder / "SUCCEEDED_0.json").read_bytes()
    failed = (folder / "FAILED_0.json").read_bytes()
    assert manifest == {"DestinationBucket": "results", "MapRunArn": run_arn, "ResultFiles": {
        "FAILED": [{"Key": f"runs/{run_id}/FAILED_0.json", "Size": len(failed)}],
        "PENDING": [],
        "SUCCEEDED": [{"Key": f"runs/{run_id}/SUCCEEDED_0.json", "Size": len(succeeded)}]}}
    [ok] = json.loads(succeeded)
    assert list(ok) == ["ExecutionArn", "Input", "InputDetails", "Name", "Output", "OutputDetails", "RedriveCount",
                        "RedriveStatus", "RedriveStatusReason", "StartDate", "StateMachineArn", "Status", "StopDate"]
    assert ok["ExecutionArn"] == f"arn:aws:states:us-east-1:123456789012:execution:scones-local/scores:{ok['Name']}"
    assert (ok["Input"], ok["Output"], ok["Status"], ok["RedriveStatus"]) == ("1", "1", "SUCCEEDED", "NOT_REDRIVABLE")
    assert ok["InputDetails"] == ok["OutputDetails"] == {"Included": True}
    assert ok["StateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:scones-local/scores"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ok["StartDate"])
    [bad] = json.loads(failed)
    assert list(bad) == ["Cause", "Error", "ExecutionArn", "Input", "InputDetails", "Name", "RedriveCount",
                         "RedriveStatus", "StartDate", "StateMachineArn", "Status", "StopDate"]
    assert (bad["Error"], bad["Cause"], bad["Status"]) == ("Big", "too big", "FAILED")
    assert host.runs[0].describe()["itemCounts"]["resultsWritten"] == 2
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {FILE_MODE}  # as the store writes objects


def test_writer_config_shapes_files_and_output(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    host = Host()
    lists = {"P": {"Type": "Pass", "Parameters": {"pair.$": "States.Array($, $)"}, "OutputPath": "$.pair",
                   "End": True}}
    compact = run(dmap(lists, ItemsPath="$.xs", ResultWriter=writer(Transformation="FLATTEN", OutputType="JSONL")),
                  {"xs": [1, 2]}, root=tmp_path, host=host)
    run_id = host.runs[0].id
    assert (tmp_path / "results" / "runs" / run_id / "SUCCEEDED_0.jsonl").read_text() == "1\n1\n2\n2\n"
    assert compact.output["ResultWriterDetails"]["Key"] == f"runs/{run_id}/manifest.json"
    preview = run(dmap(lists, ItemsPath="$.xs", ResultWriter={"WriterConfig": {"Transformation": "FLATTEN",
                                                                                "OutputType": "JSON"}}),
                  {"xs": [1, 2]}, root=tmp_path)
    assert preview.output == [1, 1, 2, 2]


def test_result_writer_to_a_missing_bucket_fails(tmp_path: Path) -> None:
    execution = run(dmap(ResultWriter=writer()), [1], root=tmp_path)
    assert execution.error == "States.ResultWriterFailed"
    assert "NoSuchBucket" in (execution.cause or "")


def test_result_writer_key_the_folder_cannot_hold_fails_the_writer(tmp_path: Path) -> None:
    put(tmp_path, "results", "runs", "a file where the Prefix needs a folder")
    execution = run(dmap(ResultWriter=writer()), [1], root=tmp_path)
    assert execution.error == "States.ResultWriterFailed", execution.result()
    assert re.match(r"The local store cannot hold the key s3://results/runs/[0-9a-f-]{36}/SUCCEEDED_0\.json: .*"
                    r"Error Code: InvalidArgument", execution.cause or ""), execution.cause
    assert not [p for p in (tmp_path / "results").iterdir() if p.name != "runs"]  # no temporary file left


def test_output_past_the_payload_quota_without_a_writer_fails_early() -> None:
    big = {"P": {"Type": "Pass", "Result": "x" * 100_000, "End": True}}
    host = Host()
    execution = run(dmap(big, ItemsPath="$.xs"), {"xs": list(range(10))}, host=host)
    assert execution.error == "States.DataLimitExceeded"
    assert host.runs[0].describe()["executionCounts"]["total"] == 3  # stopped at the third, not the tenth


# -- children -----------------------------------------------------------------------------
def test_standard_children_are_handed_over_with_their_history() -> None:
    host = Host()
    execution = run(dmap(ItemsPath="$.xs"), {"xs": [1, 2]}, host=host)
    assert execution.status.value == "SUCCEEDED"
    assert len(host.children) == 2
    child = host.children[0]
    assert child.execution_arn == f"arn:aws:states:us-east-1:123456789012:execution:scones-local/M:{child.name}"
    assert [e["type"] for e in child.events()] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                                   "ExecutionSucceeded"]
    types = [e["type"] for e in execution.events()]
    assert types == ["ExecutionStarted", "MapStateEntered", "MapRunStarted", "MapRunSucceeded", "MapStateExited",
                     "ExecutionSucceeded"]
    started = execution.events()[2]["mapRunStartedEventDetails"]
    assert started == {"mapRunArn": host.runs[0].arn}


def test_express_children_keep_nothing_and_see_their_own_context() -> None:
    host = Host()
    states = {"P": {"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name",
                                                   "machine.$": "$$.StateMachine.Id", "input.$": "$$.Execution.Input"},
                    "End": True}}
    execution = run(dmap(states, execution_type="EXPRESS", ItemsPath="$.xs"), {"xs": ["a"]}, host=host)
    assert host.children == []
    [out] = execution.output
    assert re.fullmatch(rf"arn:aws:states:us-east-1:123456789012:express:scones-local/M:{out['name']}:[0-9a-f-]{{36}}",
                        out["id"])
    assert out["machine"] == "arn:aws:states:us-east-1:123456789012:stateMachine:scones-local/M"
    assert out["input"] == "a"
    counts = host.runs[0].describe()
    assert counts["executionCounts"]["succeeded"] == 1 and counts["status"] == "SUCCEEDED"


def test_max_concurrency_is_honoured_for_blocking_children() -> None:
    lock = threading.Lock()
    active = [0, 0]

    def work(event: Any, context: Any) -> Any:
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        return event

    task = {"T": {"Type": "Task", "Resource": INVOKE, "OutputPath": "$.Payload",
                  "Parameters": {"FunctionName": "work", "Payload.$": "$"}, "End": True}}
    execution = run(dmap(task, "T", execution_type="EXPRESS", MaxConcurrency=3, ItemsPath="$.xs"),
                    {"xs": list(range(12))}, functions={"work": work})
    assert execution.output == list(range(12))
    assert active[1] == 3


# -- definitions AWS refuses ---------------------------------------------------------------
@pytest.mark.parametrize(("fields", "message", "where"), [
    ({"ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Prefix": "p"}}},
     "These fields are required: [Bucket]", "/States/M/ItemReader/Parameters"),
    ({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"}}},
     "These fields are required: [ReaderConfig]", "/States/M/ItemReader"),
    ({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"},
                     "ReaderConfig": {"InputType": "XML"}}},
     "InputType must be one of JSON, JSONL, CSV, MANIFEST", "/States/M/ItemReader/ReaderConfig/InputType"),
    ({"ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Prefix": "p"}}},
     "These fields are required: [Bucket]", "/States/M/ResultWriter/Parameters"),
    ({"Label": "has space"}, "Label must be 1 to 40 characters", "/States/M/Label"),
], ids=["reader-no-bucket", "reader-no-config", "reader-input-type", "writer-no-bucket", "label"])
def test_bad_definitions(fields: dict[str, Any], message: str, where: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        Executor(dmap(**fields))
    problems = [(e.code, e.message, e.location) for e in caught.value.errors]
    assert any(code == "SCHEMA_VALIDATION_FAILED" and m.startswith(message) and path == where
               for code, m, path in problems), problems


def test_distributed_fields_are_refused_in_inline_mode() -> None:
    definition = dmap(ItemBatcher={"MaxItemsPerBatch": 2})
    definition["States"]["M"]["ItemProcessor"]["ProcessorConfig"] = {"Mode": "INLINE"}
    with pytest.raises(DefinitionError) as caught:
        Executor(definition)
    assert [(e.message, e.location) for e in caught.value.errors] == [
        ('The field "ItemBatcher" is only supported in DISTRIBUTED mode', "/States/M/ItemBatcher")]
