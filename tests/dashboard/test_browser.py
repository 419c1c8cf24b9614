"""The running dashboard in a real headless Chromium: the user's path from the overview to the origin
of a hallucinated claim, the claim's spread, and injected script that must stay inert.

Screenshots of every page go to ``test-artifacts/`` (git-ignored)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.launcher import start_dashboard, wait_ready
from tests.dashboard.scenario import BOOKING, CLAIM, CLEAN, HALLU, ORIGIN, build_store

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # a path with spaces, a quote and shell metacharacters: it must reach the app as one argument
    folder = tmp_path_factory.mktemp("dash") / "my traces; it's $HOME & more"
    folder.mkdir()
    store_path = build_store(folder / "faultlens.duckdb")
    port = _free_port()
    log = folder.parent / "streamlit.log"
    proc: subprocess.Popen[bytes] = start_dashboard(str(store_path), port=port, log_path=log)
    try:
        wait_ready(port, timeout=60, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # pip playwright; its browsers are never downloaded

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=FLAGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        yield context
        context.close()


def _settle(page: Any) -> None:
    """Wait until Streamlit has finished the script run and rendered its lazy elements."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=30_000
    )
    page.wait_for_timeout(800)


def _screenshot(page: Any, name: str) -> None:
    """Full-length screenshot: Streamlit scrolls inside its own container, so grow the viewport."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = page.evaluate("document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 150, 12_000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_from_overview_to_the_origin_of_a_hallucinated_claim(dashboard: str, browser: Any) -> None:
    page = browser.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))

    def on_dialog(dialog: Any) -> None:  # an alert() from injected content would land here
        console.append("DIALOG " + dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(dashboard + "/")
    _settle(page)
    _screenshot(page, "overview")
    # one click: the top finding's "Open where it starts"
    page.get_by_text("Open where it starts").first.click()
    page.wait_for_url(f"**/trace?trace_id={HALLU}&span_id={ORIGIN}", timeout=30_000)
    origin = page.wait_for_selector("mark.fl-origin", timeout=30_000)
    _settle(page)
    assert origin.inner_text() == CLAIM
    assert page.locator("mark.fl-spread").count() >= 4  # every message the claim reached
    assert page.get_by_text("Failure starts here").count() >= 1
    # the injected markup is on the page as text, and none of it ran
    assert page.get_by_text("<script>window.__flPwned = 1</script>", exact=False).count() >= 1
    assert page.evaluate("typeof window.__flPwned") == "undefined"
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert page.locator('img[src="x"]').count() == 0
    assert not [c for c in console if c.startswith("DIALOG")]
    _screenshot(page, "trace-chain")
    page.get_by_role("tab", name="Waterfall").click()
    _settle(page)
    # clicking a bar selects its span: the booking the hallucinated price reached
    bar = page.locator(".js-plotly-plot .bars path").nth(10)
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()  # plotly's drag layer covers the bars: click where the bar is
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(f"() => location.search.includes('span_id={BOOKING}')", timeout=30_000)
    _settle(page)
    assert page.get_by_role("heading", name="Selected span").count() == 1
    _screenshot(page, "trace-waterfall")
    page.get_by_role("tab", name="Agent graph").click()
    _settle(page)
    _screenshot(page, "trace-agents")
    assert page.evaluate("typeof window.__flPwned") == "undefined"
    page.close()


def test_hostile_span_names_stay_text(dashboard: str, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{dashboard}/trace?trace_id={CLEAN}")
    _settle(page)
    assert page.get_by_text("[docs](javascript:window.__flPwned=4)", exact=False).count() >= 1
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert page.locator('a[href*="evil.example"]').count() == 0  # no autolinks either
    assert page.evaluate("typeof window.__flPwned") == "undefined"
    page.get_by_role("tab", name="Waterfall").click()
    _settle(page)
    assert page.locator('a[href^="javascript:"]').count() == 0 and page.locator('img[src="x"]').count() == 0
    assert page.evaluate("typeof window.__flPwned") == "undefined"
    page.close()


@pytest.mark.parametrize(
    ("path", "name", "text"),
    [
        ("/traces?status=failing", "traces", "Traces"),
        ("/findings", "findings", "By detector"),
    ],
)
def test_pages_render(dashboard: str, browser: Any, path: str, name: str, text: str) -> None:
    page = browser.new_page()
    page.goto(dashboard + path)
    _settle(page)
    assert page.get_by_text(text).first.is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
    _screenshot(page, name)
    page.close()
