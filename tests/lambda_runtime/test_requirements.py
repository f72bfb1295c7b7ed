"""requirements.txt beside a function: installed once into the cache by its hash, on that function's path only.

No network: the package is a wheel built here by hand, named by path in requirements.txt, with pip's index off.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from scones.lambda_runtime.requirements import RequirementsError, cache_key, requirements_of
from scones.lambda_runtime.user_functions import lambda_functions

from .conftest import UserRuntime, spec, write

USES_TINYPKG = '''
import sys
import tinypkg

def lambda_handler(event, context):
    return {"value": tinypkg.VALUE, "path": sys.path[:4], "from": tinypkg.__file__}
'''


def build_wheel(folder: Path, name: str = "tinypkg", version: str = "0.1") -> Path:
    """A minimal pure-Python wheel: the package, METADATA, WHEEL and a RECORD with hashes."""
    info = f"{name}-{version}.dist-info"
    files = {f"{name}/__init__.py": b"VALUE = 'from the wheel'\n",
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: scones-test\nRoot-Is-Purelib: true\n"
                                                  b"Tag: py3-none-any\n"}
    record = "".join(f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
                     f"{len(data)}\n" for path, data in files.items())
    files[f"{name}-{version}.dist-info/RECORD"] = (record + f"{name}-{version}.dist-info/RECORD,,\n").encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


@pytest.fixture(autouse=True)
def no_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")


@pytest.mark.slow
def test_requirements_installed_once_and_put_after_the_code(tmp_path: Path, user_runtime: UserRuntime) -> None:
    folder = tmp_path / "fn"
    wheel = build_wheel(write(folder / "lambda_function.py", USES_TINYPKG).parent)
    requirements = write(folder / "requirements.txt", f"# what sam build would install\n./{wheel.name}\n")
    lines: list[str] = []
    fn = spec("uses", folder, "lambda_function.lambda_handler")
    with user_runtime(fn, progress=lines.append) as rt:
        result = rt.invoke("uses", {})
    cached = tmp_path / "deps-cache" / cache_key(requirements)
    assert result.function_error is None, result.payload
    assert result.payload["value"] == "from the wheel"
    assert result.payload["from"] == str(cached / "tinypkg" / "__init__.py")
    code, deps, runtime = result.payload["path"][:3]
    assert (code, deps) == (str(folder), str(cached)) and runtime.endswith("/runtime")
    assert len(lines) == 1 and str(requirements) in lines[0] and "uses" in lines[0]
    # Cached: the next start installs nothing.
    again = lambda_functions({"uses": fn}, deps_cache=tmp_path / "deps-cache", progress=lines.append)
    assert len(lines) == 1 and again[0].paths == (cached,)
    assert [p.name for p in (tmp_path / "deps-cache").iterdir()] == [cached.name]  # nothing half-written


@pytest.mark.slow
def test_a_failed_install_names_the_file_and_keeps_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "fn"
    write(folder / "lambda_function.py", USES_TINYPKG)
    requirements = write(folder / "requirements.txt", "./no-such-package-0.1-py3-none-any.whl\n")
    with pytest.raises(RequirementsError) as info:
        lambda_functions({"uses": spec("uses", folder, "lambda_function.lambda_handler")},
                         deps_cache=tmp_path / "deps-cache", progress=lambda line: None)
    assert f"Installing {requirements} (function uses) failed, pip exited with" in info.value.message
    assert "no-such-package" in info.value.message
    assert list((tmp_path / "deps-cache").iterdir()) == []


def test_requirements_asking_for_nothing_install_nothing(tmp_path: Path) -> None:
    write(tmp_path / "requirements.txt", "# nothing yet\n\n")
    assert requirements_of(tmp_path) is None
    assert requirements_of(tmp_path / "absent") is None
    write(tmp_path / "lambda_function.py", "def lambda_handler(e, c):\n    return 1\n")
    configs = lambda_functions({"f": spec("f", tmp_path, "lambda_function.lambda_handler")},
                               deps_cache=tmp_path / "deps-cache")
    assert configs[0].paths == () and not (tmp_path / "deps-cache").exists()
