"""Helpers for the user-function tests: handler files written into ``tmp_path``, run through the runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scones.declarations import FunctionSpec, Origin
from scones.lambda_runtime.runtime import LocalLambdaRuntime
from scones.lambda_runtime.user_functions import local_lambda_runtime


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def spec(name: str, code: Path, handler: str = "lambda_handler", **fields: Any) -> FunctionSpec:
    return FunctionSpec(name=name, code=code, handler=handler, origin=Origin.FLAG,
                        declared_at=f"--function {name}={code.name}", **fields)


class UserRuntime:
    """``local_lambda_runtime`` over specs, with the deps cache in the test's folder."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def __call__(self, *specs: FunctionSpec, **options: Any) -> LocalLambdaRuntime:
        options.setdefault("deps_cache", self.tmp_path / "deps-cache")
        return local_lambda_runtime({s.name: s for s in specs}, **options)


@pytest.fixture
def user_runtime(tmp_path: Path) -> UserRuntime:
    return UserRuntime(tmp_path)
