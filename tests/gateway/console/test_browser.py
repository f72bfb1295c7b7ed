"""The console in a real browser (Playwright driving the Debian Chromium), against a real ``scones up``.

Elements are found the way a person finds them: by role and by text. Screenshots of each page go to
the test's output folder (and to ``$SCONES_CONSOLE_SCREENSHOTS`` when set, to refresh ``docs/``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scones.gateway.routing import Service

from .conftest import SLOW_MACHINE, XSS, XSS_KEY, XSS_NAME, Console

pytestmark = pytest.mark.xdist_group("console")

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="Playwright for Python is missing: pip install -e '.[dev]'")
expect = sync_api.expect

CHROMIUM = os.environ.get("SCONES_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium, as .ci/run does)",
                allow_module_level=True)

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
expect.set_options(timeout=15_000)


@dataclasses.dataclass
class Tab:
    page: Any
    url: str
    shots: list[Path]
    dialogs: list[str]
    errors: list[str]

    def open(self, fragment: str) -> None:
        self.page.goto(f"{self.url}/_console/{fragment}")

    def shot(self, name: str) -> None:
        for folder in self.shots:
            self.page.screenshot(path=str(folder / f"console-{name}.png"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folders = [tmp_path_factory.mktemp("console-screenshots")]
    extra = os.environ.get("SCONES_CONSOLE_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        folders.append(Path(extra))
    return folders


@pytest.fixture
def tab(browser: Any, console: Console, shots: list[Path]) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    tab = Tab(page, console.url, shots, [], [])

    def on_dialog(dialog: Any) -> None:
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert tab.errors == [], "the page threw"
    assert tab.dialogs == [], "a dialog opened: user data ran as script"


def test_both_executions_are_listed_and_the_failed_one_shows_where_and_why(tab: Tab, console: Console) -> None:
    page = tab.page
    tab.open("#/executions")
    expect(page.get_by_role("link", name=console.ok, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=console.low, exact=True)).to_be_visible()
    tab.shot("executions")

    page.get_by_label("Status").select_option("FAILED")
    expect(page.get_by_role("link", name=console.ok, exact=True)).to_have_count(0)
    page.get_by_role("link", name=console.low, exact=True).click()

    expect(page.get_by_role("heading", name="Failed in LowConfidence")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("ThresholdConfidenceNotMet")
    expect(page.get_by_role("img", name=f"Image s3://scones/{console.unconfident}")).to_be_visible()
    expect(page.get_by_role("button", name="FilterInferences, Task, caught")).to_be_visible()
    failed = page.get_by_role("button", name="LowConfidence, Fail, failed")
    expect(failed).to_be_visible()
    tab.shot("execution-failed")

    failed.focus()  # by keyboard: the graph's states are buttons
    page.keyboard.press("Enter")
    panel = page.get_by_role("complementary")
    expect(panel.get_by_role("heading", name="LowConfidence")).to_be_visible()
    expect(panel).to_contain_text("ThresholdConfidenceNotMet")
    expect(panel).to_contain_text("THRESHOLD_CONFIDENCE_NOT_MET")

    page.get_by_role("button", name="FilterInferences, Task, caught").click()
    expect(panel.get_by_role("heading", name="FilterInferences")).to_be_visible()
    expect(panel).to_contain_text("caught")
    expect(panel.get_by_role("heading", name="Input")).to_be_visible()

    page.get_by_role("searchbox", name="Filter events").fill("ExecutionFailed")
    expect(page.get_by_text(re.compile(r"^1 of \d+ events$"))).to_be_visible()


def test_a_map_execution_draws_its_item_processor_and_its_iterations(tab: Tab, console: Console) -> None:
    page = tab.page
    tab.open(f"#/executions/{console.batch}")
    expect(page.get_by_text("ClassifyEach: item processor")).to_be_visible()
    expect(page.get_by_role("button", name="ClassifyEach, Map, succeeded")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^FilterInferences, Task, .*caught"))).to_be_visible()
    expect(page.get_by_role("button", name="Errored, Pass, not reached")).to_be_visible()
    iterations = page.get_by_role("region", name="Iterations of ClassifyEach")
    expect(iterations.get_by_role("row")).to_have_count(7)  # the header and six images
    expect(iterations.get_by_role("img", name=f"s3://scones/{console.unconfident}")).to_be_visible()
    tab.shot("execution-map")
    iterations.get_by_role("button", name="LowConfidence").click()
    expect(page.get_by_role("complementary").get_by_role("heading", name="LowConfidence")).to_be_visible()


def test_the_endpoint_page_shows_the_captured_images_with_their_predictions(tab: Tab, console: Console) -> None:
    page = tab.page
    tab.open("#/endpoints")
    page.get_by_role("link", name="scones-endpoint").click()
    expect(page.get_by_role("heading", name="Captured records, newest first")).to_be_visible()
    passed = page.get_by_role("row").filter(has_text="✓ passed")
    below = page.get_by_role("row").filter(has_text="✗ below threshold")
    expect(passed.first.get_by_role("img")).to_be_visible()
    expect(below.first.get_by_role("img")).to_be_visible()
    expect(below.first).to_contain_text(re.compile(r"bicycle|motorcycle"))
    expect(page.get_by_text(f"{console.threshold} (filterInferences THRESHOLD)")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"^Invocations per minute"))).to_be_visible()
    tab.shot("endpoint")


def test_an_execution_started_from_the_editor_is_watched_to_its_end(tab: Tab) -> None:
    page = tab.page
    tab.open(f"#/state-machines/{SLOW_MACHINE}")
    editor = page.get_by_label("Input (JSON)")
    start = page.get_by_role("button", name="Start execution")
    editor.fill('{"seconds": 2,')
    expect(page.get_by_text(re.compile("^Not valid JSON"))).to_be_visible()
    expect(start).to_be_disabled()
    editor.fill('{"seconds": 2, "note": "from the editor"}')
    expect(page.get_by_text("Valid JSON.")).to_be_visible()
    page.get_by_label("Execution name").fill("from-the-editor")
    page.evaluate("window.sconesNoReload = true")
    start.click()

    expect(page.get_by_role("heading", name="from-the-editor")).to_be_visible()
    expect(page.get_by_role("button", name="Pause, Wait, running")).to_be_visible()
    expect(page.get_by_role("button", name="Pause, Wait, succeeded")).to_be_visible()
    expect(page.get_by_text("succeeded", exact=True).first).to_be_visible()
    assert page.evaluate("window.sconesNoReload") is True  # followed live, never reloaded


def test_what_the_reader_opens_stays_open_while_the_execution_is_followed(tab: Tab, console: Console) -> None:
    name = "console-kept-open"
    console.client("stepfunctions").start_execution(stateMachineArn=console.machine_arn(SLOW_MACHINE), name=name,
                                                    input=json.dumps({"seconds": 6}))
    page = tab.page
    tab.open(f"#/executions/{name}")
    expect(page.get_by_role("button", name="Pause, Wait, running")).to_be_visible()
    page.get_by_text("Execution input and output", exact=True).click()
    page.locator("table.events-table details").first.locator("summary").click()
    execution_input = page.get_by_label("Execution input", exact=True)
    first_event = page.get_by_label("Event 1", exact=True)
    expect(execution_input).to_be_visible()
    expect(first_event).to_be_visible()
    page.wait_for_timeout(2500)  # polled twice meanwhile, with nothing new while it waits
    expect(execution_input).to_be_visible()
    expect(first_event).to_be_visible()
    expect(page.get_by_role("button", name="Pause, Wait, succeeded")).to_be_visible()
    expect(execution_input).to_be_visible()  # and drawn again once the history grew
    expect(first_event).to_be_visible()


def test_an_address_with_a_broken_escape_says_so(tab: Tab) -> None:
    tab.open("#/executions/%E0%A4%A")  # a '%' that starts no UTF-8 character: decodeURIComponent throws
    expect(tab.page.get_by_role("heading", name="Could not load this page")).to_be_visible()
    expect(tab.page.get_by_role("alert")).to_contain_text("URI malformed")


def test_names_inputs_and_keys_show_as_text(tab: Tab) -> None:
    page = tab.page
    tab.open("#/executions")
    page.get_by_role("link", name=XSS_NAME, exact=True).click()
    expect(page.get_by_role("heading", name=XSS_NAME)).to_be_visible()
    state = page.get_by_role("button", name=f"{XSS}, Pass, succeeded")
    expect(state).to_be_visible()
    state.click()
    expect(page.get_by_role("complementary").get_by_role("heading", name=XSS)).to_be_visible()
    expect(page.get_by_role("complementary")).to_contain_text(f'"note": "{XSS}"')

    folder, _, name = XSS_KEY.rpartition("/")
    tab.open("#/buckets/scones?prefix=xss/")
    page.get_by_role("link", name=folder[len("xss/"):] + "/").click()
    page.get_by_role("button", name=name).click()
    expect(page.get_by_role("heading", name=XSS_KEY)).to_be_visible()
    expect(page.get_by_role("region", name="Preview")).to_contain_text(XSS)
    assert page.locator("img[src='x'], script:not([src])").count() == 0


def test_a_read_only_console_says_so_and_offers_no_start(tab: Tab, console: Console) -> None:
    service = console.aws.gateway.handlers[Service.CONSOLE]
    writable = service.ctx
    service.ctx = dataclasses.replace(writable, write=False)
    try:
        tab.open("#/state-machines/scones-workflow")
        expect(tab.page.get_by_role("status")).to_contain_text("Read-only console")
        expect(tab.page.get_by_role("button", name="Start execution")).to_be_disabled()
        tab.shot("state-machine")
    finally:
        service.ctx = writable


def test_every_section_opens_from_the_navigation(tab: Tab, console: Console) -> None:
    page = tab.page
    tab.open("")
    nav = page.get_by_role("navigation", name="Sections")
    nav.get_by_role("link", name="State machines").click()
    expect(page.get_by_role("link", name="scones-workflow-batch")).to_be_visible()
    nav.get_by_role("link", name="Functions").click()
    expect(page.get_by_role("link", name="filterInferences")).to_be_visible()
    page.get_by_role("link", name="classifyImage").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Recent invocations"))).to_be_visible()
    page.get_by_role("group").first.locator("summary").click()
    expect(page.get_by_role("heading", name="Log").first).to_be_visible()
    tab.shot("function")
    nav.get_by_role("link", name="Buckets").click()
    page.get_by_role("link", name="scones").click()
    page.get_by_role("link", name="images/").click()
    page.get_by_role("button", name="img_0.png").click()
    expect(page.get_by_role("region", name="Preview").get_by_role("img", name="images/img_0.png")).to_be_visible()
    expect(page.get_by_role("link", name="Download images/img_0.png")).to_be_visible()
    tab.shot("bucket")
