"""The AWS-recorded conformance cases (shared/data/asl-cases), run in-process.

Each case holds a definition, an input and what real AWS Step Functions
returned; the interpreter must reproduce status, output or error/cause.
Placeholders written by the snapshot tooling (``<ArnPart_0idx>``, ``date``,
``111111111111`` ...) match any value.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from scones.workflow.asl import FakeClock, run_execution

CASES_DIR = Path(os.environ.get("SCONES_SHARED_DATA", Path(__file__).resolve().parents[3].parent / "shared" / "data")) \
    / "asl-cases"

#: Cases we knowingly do not reproduce, with the reason (strict: they must keep failing).
XFAIL: dict[str, str] = {}

_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"


def _case_ids() -> list[str]:
    index = CASES_DIR / "index.json"
    if not index.is_file():
        return ["(no cases)"]
    return [entry["file"] for entry in json.loads(index.read_text(encoding="utf-8"))["cases"]]


def _token(tok: str) -> str:
    if tok == "date":
        return f"(?:date|{_ISO})"
    if tok == "111111111111":
        return r"\d{12}"
    return ".*?"


def _matches(expected: Any, actual: Any, placeholders: list[str]) -> bool:
    if isinstance(expected, str) and placeholders:
        if expected in placeholders and expected not in ("date", "111111111111"):
            return True
        tokens = sorted(set(placeholders), key=len, reverse=True)
        splitter = re.compile("(" + "|".join(re.escape(t) for t in tokens) + ")")
        if splitter.search(expected):
            parts = splitter.split(expected)
            rx = "".join(_token(p) if i % 2 else re.escape(p) for i, p in enumerate(parts))
            return isinstance(actual, str) and re.fullmatch(rx, actual, re.DOTALL) is not None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return expected == actual
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(_matches(expected[k], actual[k], placeholders)
                                                        for k in expected)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(_matches(e, a, placeholders)
                                                    for e, a in zip(expected, actual, strict=True))
    return type(expected) is type(actual) and expected == actual


@pytest.mark.parametrize("case_file", [
    pytest.param(f, marks=pytest.mark.xfail(reason=XFAIL[f], strict=True)) if f in XFAIL else f
    for f in _case_ids()
])
def test_case_matches_aws(case_file: str, shared_data: Path) -> None:
    path = shared_data / "asl-cases" / case_file
    if not path.is_file():
        pytest.skip(f"conformance case {case_file} not found under {shared_data}")
    case = json.loads(path.read_text(encoding="utf-8"))
    data = json.loads(case["input_text"]) if case.get("input_text") else case["input"]
    execution = run_execution(case["definition"], data, clock=FakeClock(), state_machine_name="conformance")
    got = execution.result()
    expected = case["expected"]
    placeholders = case.get("placeholders") or []
    assert got["status"] == expected["status"], got
    if expected["status"] == "SUCCEEDED":
        assert _matches(expected.get("output"), got["output"], placeholders), (expected.get("output"), got)
    else:
        assert _matches(expected.get("error"), got["error"], placeholders), (expected.get("error"), got)
        if case.get("check_cause", True):
            cause = got["cause"]
            if not isinstance(expected.get("cause"), str) and isinstance(cause, str):
                try:
                    cause = json.loads(cause)
                except json.JSONDecodeError:
                    pass
            assert _matches(expected.get("cause"), cause, placeholders), (expected.get("cause"), got)
