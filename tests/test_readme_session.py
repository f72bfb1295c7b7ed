"""The notebook session of README.md's "Your code against scones" runs verbatim against ``scones up``."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from scones.config import Settings
from scones.gateway.up import UpOptions, exports, up_in_thread
from scones.testing import tiny_model_tarball

README = Path(__file__).resolve().parents[1] / "README.md"

pytestmark = pytest.mark.xdist_group("scones-up")


def session_code() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- notebook-session -->\n```python\n(.*?)```", text, re.S)
    assert match, "README.md lost its notebook session"
    return match.group(1)


@pytest.mark.timeout(120)
def test_the_readme_notebook_session_runs_verbatim(scones_home: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    settings = Settings.from_env()
    model = settings.store_root / settings.bucket / "model" / "model.tar.gz"
    model.parent.mkdir(parents=True)
    model.write_bytes(tiny_model_tarball())
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 10, 250)).save(buf, format="PNG")
    (tmp_path / "bike.png").write_bytes(buf.getvalue())
    monkeypatch.chdir(tmp_path)
    with up_in_thread(settings, UpOptions(port=0)) as (url, _):
        for key, value in exports(url, None).items():
            monkeypatch.setenv(key, value)
        exec(compile(session_code(), str(README), "exec"), {"__name__": "__notebook__"})
    out = capsys.readouterr().out
    assert "['uploads/bike.png']" in out and "probabilities: [" in out
    assert "SUCCEEDED" in out
    assert re.search(r"1 capture file\(s\): data_capture/scones-endpoint/AllTraffic/\d{4}/\d\d/\d\d/\d\d/", out)
