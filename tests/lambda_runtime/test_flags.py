"""``--function`` and ``--env`` into Declarations: the good forms, and every bad one refused before anything runs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from scones.declaration_flags import declare_functions
from scones.declarations import FunctionSpec, Origin
from scones.errors import UsageError

HANDLER = "def lambda_handler(event, context):\n    return event\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def test_file_folder_and_zip_with_default_and_given_handlers(tmp_path: Path) -> None:
    write(tmp_path / "resize.py", HANDLER + "def handler(event, context):\n    return 1\n")
    write(tmp_path / "app" / "lambda_function.py", HANDLER)
    write(tmp_path / "app" / "pkg" / "main.py", "def go(e, c):\n    return 2\n")
    make_zip(tmp_path / "fn.zip", {"lambda_function.py": HANDLER})
    declared = declare_functions(
        ["plain=resize.py", "named=resize.py:handler", "folder=app", "nested=app:pkg.main.go",
         "zipped=fn.zip", f"absolute={tmp_path / 'resize.py'}"],
        ["plain:SIZE=64", "plain:URL=http://x:1/?a=b", "folder:MODE=fast"], cwd=tmp_path)
    f = declared.functions
    assert list(f) == ["plain", "named", "folder", "nested", "zipped", "absolute"]
    assert (f["plain"].code, f["plain"].handler) == (tmp_path / "resize.py", "lambda_handler")
    assert f["named"].handler == "handler"
    assert (f["folder"].code, f["folder"].handler) == (tmp_path / "app", "lambda_function.lambda_handler")
    assert f["nested"].handler == "pkg.main.go"
    assert f["zipped"].handler == "lambda_function.lambda_handler"
    assert f["plain"].environment == {"SIZE": "64", "URL": "http://x:1/?a=b"}
    assert f["folder"].environment == {"MODE": "fast"} and f["named"].environment == {}
    assert all(spec.origin is Origin.FLAG for spec in f.values())
    assert f["plain"].declared_at == "--function plain=resize.py"


def bad(tmp_path: Path, functions: list[str], env: tuple[str, ...] = ()) -> str:
    with pytest.raises(UsageError) as info:
        declare_functions(functions, env, cwd=tmp_path)
    return str(info.value)


@pytest.mark.parametrize(("flag", "expected"), [
    ("noequals", "is not --function NAME=PATH[:HANDLER]"),
    ("=app.py", "is not --function NAME=PATH[:HANDLER]"),
    ("bad name=app.py", "'bad name' is not a Lambda function name"),
    ("x" * 65 + "=app.py", "is not a Lambda function name"),
    ("f=missing.py", "missing.py does not exist (--function f=missing.py)"),
    ("f=app.py:nothere", "handler 'nothere' missing on module 'app'"),
    ("f=app.py:not-a-name", "is not a Python function name"),
    ("f=notes.txt", "is neither a .py file, a folder nor a .zip"),
    ("f=folder", "no module 'lambda_function' in"),
    ("f=folder:nodot", "is not Lambda's module.function form"),
], ids=["no-equals", "no-name", "space-in-name", "name-too-long", "missing-path", "missing-handler",
        "handler-not-identifier", "not-python", "folder-without-module", "malformed-module-handler"])
def test_bad_function_flags(tmp_path: Path, flag: str, expected: str) -> None:
    write(tmp_path / "app.py", HANDLER)
    write(tmp_path / "notes.txt", "hello")
    (tmp_path / "folder").mkdir()
    assert expected in bad(tmp_path, [flag])


def test_two_declarations_of_one_name(tmp_path: Path) -> None:
    write(tmp_path / "a.py", HANDLER)
    write(tmp_path / "b.py", HANDLER)
    message = bad(tmp_path, ["f=a.py", "f=b.py"])
    assert "f is declared twice: --function f=a.py and --function f=b.py" in message


@pytest.mark.parametrize(("env", "expected"), [
    ("f=XY", "is not --env NAME:KEY=VALUE"),
    ("f:XY", "is not --env NAME:KEY=VALUE"),
    (":XY=1", "is not --env NAME:KEY=VALUE"),
    ("f:1X=1", "'1X' is not an environment variable name"),
    ("f:X=1", "'X' is not an environment variable name"),  # Lambda's pattern wants two characters at least
    ("f:A-B=1", "'A-B' is not an environment variable name"),
    ("g:XY=1", "no --function declares g"),
    ("F:XY=1", "did you mean f?"),
], ids=["no-colon", "no-equals", "no-function", "bad-key", "one-letter-key", "dash-in-key", "undeclared",
        "case-slip"])
def test_bad_env_flags(tmp_path: Path, env: str, expected: str) -> None:
    write(tmp_path / "app.py", HANDLER)
    assert expected in bad(tmp_path, ["f=app.py"], (env,))


def test_env_set_twice_to_different_values(tmp_path: Path) -> None:
    write(tmp_path / "app.py", HANDLER)
    declared = declare_functions(["f=app.py"], ["f:XY=1", "f:XY=1"], cwd=tmp_path)
    assert declared.functions["f"].environment == {"XY": "1"}
    assert "f's XY is already set to '1'" in bad(tmp_path, ["f=app.py"], ("f:XY=1", "f:XY=2"))


def test_syntax_error_is_reported_up_front_with_file_and_line(tmp_path: Path) -> None:
    source = write(tmp_path / "broken.py", "import os\n\ndef lambda_handler(event, context)\n    return 1\n")
    message = bad(tmp_path, ["f=broken.py"])
    assert f"syntax error in {source}, line 3" in message
    assert "def lambda_handler(event, context)" in message
    assert "Runtime.UserCodeSyntaxError" in message


def test_handler_defined_in_a_branch_or_imported_counts(tmp_path: Path) -> None:
    write(tmp_path / "impl.py", HANDLER)
    write(tmp_path / "branchy.py", "try:\n    import json\nexcept ImportError:\n    pass\n"
                                   "if True:\n    def lambda_handler(e, c):\n        return 1\n")
    write(tmp_path / "reexport.py", "from impl import lambda_handler as handler\n")
    write(tmp_path / "star.py", "from impl import *\n")
    declared = declare_functions(["a=branchy.py", "b=reexport.py:handler", "c=star.py"], cwd=tmp_path)
    assert set(declared.functions) == {"a", "b", "c"}


def test_handler_bound_by_a_loop_a_with_or_a_match_counts(tmp_path: Path) -> None:
    write(tmp_path / "looped.py", "for lambda_handler in [lambda e, c: 1]:\n    pass\n")
    write(tmp_path / "withed.py", "import contextlib\nwith contextlib.nullcontext(len) as lambda_handler:\n    pass\n")
    write(tmp_path / "matched.py", "import sys\nmatch sys.platform:\n    case _:\n"
                                   "        def lambda_handler(e, c):\n            return 1\n")
    declared = declare_functions(["a=looped.py", "b=withed.py", "c=matched.py"], cwd=tmp_path)
    assert set(declared.functions) == {"a", "b", "c"}


def test_missing_handler_lists_the_functions_there(tmp_path: Path) -> None:
    write(tmp_path / "lambda.py", "def resize(e, c):\n    pass\n\ndef crop(e, c):\n    pass\n")
    message = bad(tmp_path, ["f=lambda.py"])
    assert "handler 'lambda_handler' missing on module 'lambda'" in message
    assert "Runtime.HandlerNotFound" in message and "functions defined in it: crop, resize" in message


def test_zip_slip_is_refused(tmp_path: Path) -> None:
    make_zip(tmp_path / "evil.zip", {"lambda_function.py": HANDLER, "../../escaped.py": "x = 1\n"})
    message = bad(tmp_path, ["f=evil.zip"])
    assert "'../../escaped.py', which would land outside" in message and "zip-slip" in message
    make_zip(tmp_path / "absolute.zip", {"lambda_function.py": HANDLER, "/etc/cron.d/x": "x"})
    assert "zip-slip" in bad(tmp_path, ["f=absolute.zip"])
    assert not (tmp_path.parent / "escaped.py").exists()


def test_a_zip_that_is_not_a_zip(tmp_path: Path) -> None:
    write(tmp_path / "fake.zip", "definitely not a zip")
    assert "fake.zip is not a readable zip file" in bad(tmp_path, ["f=fake.zip"])


def test_zip_checks_the_module_inside(tmp_path: Path) -> None:
    make_zip(tmp_path / "broken.zip", {"lambda_function.py": "def lambda_handler(:\n"})
    make_zip(tmp_path / "empty.zip", {"README": "no code"})
    assert f"syntax error in {tmp_path / 'broken.zip'}/lambda_function.py, line 1" in bad(tmp_path, ["f=broken.zip"])
    assert "no module 'lambda_function' in" in bad(tmp_path, ["f=empty.zip"])


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    write(tmp_path / "app.py", HANDLER)
    message = bad(tmp_path, ["a=missing.py", "b=app.py:nope", "c=app.py"], ("zz:XY=1",))
    assert message.startswith("3 problems with the declared functions:")
    assert "missing.py does not exist" in message and "handler 'nope' missing" in message
    assert "no --function declares zz" in message


def test_path_with_a_colon_that_exists_wins(tmp_path: Path) -> None:
    write(tmp_path / "odd:name" / "lambda_function.py", HANDLER)
    assert declare_functions(["f=odd:name"], cwd=tmp_path).functions["f"].code == tmp_path / "odd:name"


def test_a_runtime_other_than_python_is_refused(tmp_path: Path) -> None:
    import dataclasses

    from scones.lambda_runtime.user_code import CodeError, check_code

    write(tmp_path / "app.py", HANDLER)
    spec = declare_functions(["f=app.py"], cwd=tmp_path).functions["f"]
    with pytest.raises(CodeError, match="runtime nodejs20.x .*scones runs Python functions only"):
        check_code(dataclasses.replace(spec, runtime="nodejs20.x"))


def test_env_reaches_template_functions_by_the_same_rules(tmp_path: Path) -> None:
    write(tmp_path / "app.py", HANDLER)
    template = {"t": FunctionSpec(name="t", code=tmp_path / "app.py", handler="lambda_handler",
                                  origin=Origin.TEMPLATE, environment={"OLD": "x", "XY": "0"},
                                  declared_at="template.yaml: T")}
    declared = declare_functions(["f=app.py"], ["t:XY=1", "f:AB=2"], cwd=tmp_path, template=template)
    assert list(declared.functions) == ["t", "f"]
    assert declared.functions["t"].environment == {"OLD": "x", "XY": "1"}
    assert declared.functions["t"].origin is Origin.TEMPLATE and declared.functions["f"].environment == {"AB": "2"}
    with pytest.raises(UsageError, match="t's XY is already set to '1'"):
        declare_functions([], ["t:XY=1", "t:XY=2"], cwd=tmp_path, template=template)
    with pytest.raises(UsageError) as info:
        declare_functions([], ["T:XY=1"], cwd=tmp_path, template=template)
    assert "no --function declares T, nor the template" in str(info.value) and "did you mean t?" in str(info.value)
    with pytest.raises(UsageError, match="'t' is declared twice: template.yaml: T and --function t=app.py"):
        declare_functions(["t=app.py"], cwd=tmp_path, template=template)
