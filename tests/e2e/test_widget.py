"""End to end: the website chat widget (web/) in Debian's Chromium against the real running assistant.

Checks keyboard use, focus, live-region announcements, reload, injection, axe-core (WCAG 2.1 AA),
320 px and 200 % zoom. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

import knowledge
from tests.e2e.server import ROOT, Assistant, free_port, running_assistant

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
DESKTOP = {"width": 1280, "height": 800}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
REPLY_TIMEOUT_MS = 30_000

# Records what the log announces: how many messages it held when it was attached to the page, and every
# node added to or removed from it afterwards (a screen reader announces additions to role="log").
WATCH_LOG = """
window.__log = {attachedWith: null, added: [], removed: 0};
window.__status = [];
new MutationObserver((records, observer) => {
  const log = document.querySelector('[role="log"]');
  if (!log) return;
  observer.disconnect();
  window.__log.attachedWith = log.querySelectorAll('.sbw-msg').length;
  const status = document.querySelector('[role="status"]');
  new MutationObserver(() => window.__status.push(status.textContent))
    .observe(status, {childList: true, subtree: true, characterData: true});
  new MutationObserver(changes => changes.forEach(change => {
    change.addedNodes.forEach(node => window.__log.added.push(node));
    window.__log.removed += change.removedNodes.length;
  })).observe(log, {childList: true, subtree: true, characterData: true});
}).observe(document, {childList: true, subtree: true});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    with running_assistant(tmp_path_factory.mktemp("widget")) as running:
        yield running


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, server: Assistant) -> Iterator[Page]:
    with new_page(browser) as fresh:
        yield fresh


@contextmanager
def new_page(browser: Browser, expected_errors: tuple[str, ...] = (), **options: Any) -> Iterator[Page]:
    """A page in a fresh browser context that fails the test on script errors and CSP refusals."""
    context = browser.new_context(viewport=options.pop("viewport", DESKTOP), locale="de-DE", **options)
    page = context.new_page()
    page.add_init_script(WATCH_LOG)
    errors: list[str] = []
    expected = ("Failed to load resource", *expected_errors)  # e.g. a 429 or a refused connection
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: m.type == "error" and not any(e in m.text for e in expected) and errors.append(m.text),
    )
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


# ---- helpers ----


def open_demo(page: Page, server: Assistant) -> None:
    page.goto(f"{server.url}/chat")
    page.locator(".sbw-launcher").wait_for(state="visible")


def focused(page: Page) -> dict[str, str | None]:
    return page.evaluate(
        """() => { const e = document.activeElement;
                   return {id: e.id, cls: e.className, text: e.textContent, tag: e.tagName}; }"""
    )


def bot_texts(page: Page) -> list[str]:
    return page.locator(".sbw-msg--bot .sbw-text").all_text_contents()


def user_texts(page: Page) -> list[str]:
    return page.locator(".sbw-msg--user .sbw-text").all_text_contents()


def wait_for_reply(page: Page, bots_before: int) -> None:
    page.wait_for_function(
        """n => document.querySelectorAll('.sbw-msg--bot').length > n
               && document.querySelector('.sbw-status').textContent === ''""",
        arg=bots_before,
        timeout=REPLY_TIMEOUT_MS,
    )


def ask(page: Page, text: str) -> None:
    """Type into the (focused) input and press Enter, as a keyboard user does; wait for the answer."""
    before = len(bot_texts(page))
    page.locator("#sbw-input").fill(text)
    page.locator("#sbw-input").press("Enter")
    wait_for_reply(page, before)


def server_replies(page: Page) -> list[dict]:
    """Collects every message list the webhook returns to this page."""
    replies: list[dict] = []

    def on_response(response: Any) -> None:
        if response.url.endswith("/webhooks/rest/webhook") and response.ok:
            replies.extend(response.json())

    page.on("response", on_response)
    return replies


def stored_sender(page: Page) -> str | None:
    return page.evaluate("JSON.parse(sessionStorage.getItem('sbw:sender'))")


def axe_violations(page: Page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations)",
        WCAG_TAGS,
    )


def assert_no_violations(page: Page, state: str) -> None:
    violations = axe_violations(page)
    report = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]]}
        for v in violations
    ]
    print(f"axe ({state}):", json.dumps(report, ensure_ascii=False, indent=1))
    assert violations == [], f"axe violations {state}: {json.dumps(report, ensure_ascii=False)}"


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


# ---- tests ----


def test_static_files_have_types_and_cache_headers(server: Assistant) -> None:
    expected = {
        "/widget.js": "text/javascript",
        "/widget.css": "text/css",
        "/chat": "text/html",
    }
    for path, content_type in expected.items():
        response = requests.get(server.url + path, timeout=10)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == f"{content_type}; charset=utf-8"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"]
        again = requests.get(
            server.url + path, headers={"If-None-Match": response.headers["ETag"]}, timeout=10
        )
        assert again.status_code == 304 and not again.content
    page = requests.get(server.url + "/chat", timeout=10)
    assert '<html lang="de">' in page.text and 'src="/widget.js"' in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert requests.get(server.url + "/widget.js", timeout=10).headers["Cache-Control"].startswith("public")


def test_keyboard_only_conversation(page: Page, server: Assistant) -> None:
    replies = server_replies(page)
    open_demo(page, server)
    launcher = page.locator(".sbw-launcher")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('sbw-launcher')"):
            break
    else:
        pytest.fail("Tab never reached the chat launcher")
    assert launcher.get_attribute("aria-expanded") == "false"
    assert launcher.text_content()  # a visible label

    page.keyboard.press("Enter")
    assert launcher.get_attribute("aria-expanded") == "true"
    assert focused(page)["id"] == "sbw-input"
    root = page.locator(".sbw-root")
    assert root.get_attribute("lang") == "de"
    log = page.locator('[role="log"]')
    assert log.count() == 1 and log.get_attribute("aria-live") == "polite"
    assert page.locator("[aria-live]").count() == 1  # besides the implicit status and alert
    assert page.locator('[role="status"]').count() == 1

    page.keyboard.type("Ich habe meinen Ausweis verloren")
    page.keyboard.press("Enter")
    wait_for_reply(page, 0)
    assert page.evaluate("window.__status") == ["Assistent schreibt …", ""]
    assert focused(page)["id"] == "sbw-input"
    assert user_texts(page) == ["Ich habe meinen Ausweis verloren"]
    assert page.locator(".sbw-reply").count() > 0, "the lost-card answer offers quick replies"

    page.keyboard.press("Tab")
    choice = focused(page)
    assert "sbw-reply" in (choice["cls"] or "") and choice["tag"] == "BUTTON"
    bots_before = len(bot_texts(page))
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "sbw-input"  # at once, not only after the answer
    wait_for_reply(page, bots_before)
    assert focused(page)["id"] == "sbw-input"
    assert user_texts(page)[-1] == choice["text"]

    # Every bot text the server sent is shown exactly once, each as one node added once to the log.
    sent = [message["text"] for message in replies if message.get("text")]
    assert len(sent) >= 2 and bot_texts(page) == sent
    added = page.evaluate(
        """() => { const nodes = window.__log.added;
                   return {total: nodes.length, unique: new Set(nodes).size, removed: window.__log.removed,
                           bots: nodes.filter(n => n.matches && n.matches('.sbw-msg--bot')).length}; }"""
    )
    assert added == {"total": added["unique"], "unique": added["unique"], "removed": 0, "bots": len(sent)}
    assert added["total"] == len(sent) + 2  # the two user messages

    # Escape closes and returns focus to the launcher.
    page.keyboard.press("Escape")
    assert page.locator("#sbw-panel").is_hidden()
    assert "sbw-launcher" in (focused(page)["cls"] or "")
    assert launcher.get_attribute("aria-expanded") == "false"


def test_focus_is_visible(page: Page, server: Assistant) -> None:
    open_demo(page, server)
    page.locator(".sbw-launcher").focus()
    page.keyboard.press("Enter")
    for selector in ["#sbw-input", ".sbw-send", ".sbw-tool >> nth=0"]:
        page.locator(selector).focus()
        style = page.locator(selector).evaluate(
            "e => { const s = getComputedStyle(e); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        )
        assert style[0] == "solid" and style[1] >= 2, (selector, style)


def test_reduced_motion_is_respected(browser: Browser, server: Assistant) -> None:
    animations = {}
    for motion in ("no-preference", "reduce"):
        with new_page(browser, reduced_motion=motion) as page:
            open_demo(page, server)
            page.locator(".sbw-launcher").click()
            animations[motion] = page.locator("#sbw-panel").evaluate("e => getComputedStyle(e).animationName")
    assert animations == {"no-preference": "sbw-appear", "reduce": "none"}


def test_reload_keeps_the_conversation(page: Page, server: Assistant) -> None:
    office = knowledge.load().find_office("Bocholt").office
    assert office is not None
    open_demo(page, server)
    page.locator(".sbw-launcher").click()
    ask(page, "Wie ist die Telefonnummer vom Amt?")
    ask(page, "Bocholt")
    transcript = page.locator('[role="log"] .sbw-msg').all_text_contents()
    sender = stored_sender(page)
    assert sender and len(transcript) == 4

    page.reload()
    page.locator("#sbw-panel").wait_for(state="visible")  # it was open, so it still is
    assert page.locator('[role="log"] .sbw-msg').all_text_contents() == transcript
    assert stored_sender(page) == sender
    assert page.evaluate("localStorage.getItem('sbw:sender')") is None  # privacy: not kept beyond the tab
    # Restored messages were there when the log was attached, so nothing was announced again.
    assert page.evaluate("window.__log") == {"attachedWith": 4, "added": [], "removed": 0}

    page.locator("#sbw-input").focus()
    before = len(bot_texts(page))
    ask(page, "wann haben die offen?")
    answer = "\n".join(bot_texts(page)[before:])
    assert any(phone in answer for phone in office.phones), answer  # the office remembered before reload

    # "Neues Gespräch": new sender id, empty list, said aloud.
    page.get_by_role("button", name="Neues Gespräch").click()
    assert page.locator('[role="log"] .sbw-msg').count() == 0
    assert stored_sender(page) not in (None, sender)
    assert "Neues Gespräch" in page.locator('[role="status"]').text_content()
    assert focused(page)["id"] == "sbw-input"


def test_injection_is_shown_as_text(page: Page, server: Assistant) -> None:
    attacks = ["<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">']
    open_demo(page, server)
    page.locator(".sbw-launcher").click()
    for attack in attacks:
        ask(page, attack)
    assert user_texts(page) == attacks
    assert page.locator('[role="log"] img, [role="log"] script').count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"

    # Bot texts: URLs become safe links, newlines stay, markup stays text (restored from the session).
    bot_text = 'Siehe https://www.example.org/info.\n<img src=x onerror="window.__pwned=1"> Ende'
    page.evaluate(
        "t => sessionStorage.setItem('sbw:transcript', JSON.stringify([{from: 'bot', text: t}]))", bot_text
    )
    page.reload()
    message = page.locator(".sbw-msg--bot .sbw-text")
    link = message.locator("a")
    assert link.get_attribute("href") == "https://www.example.org/info"
    assert link.get_attribute("target") == "_blank" and link.get_attribute("rel") == "noopener noreferrer"
    assert message.text_content().replace(" (öffnet in neuem Fenster)", "") == bot_text
    assert message.evaluate("e => getComputedStyle(e.parentElement).whiteSpace") == "pre-line"
    assert page.locator('[role="log"] img').count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have run by now
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_axe_finds_no_violations(browser: Browser, server: Assistant) -> None:
    with new_page(browser, bypass_csp=True) as page:  # axe is injected as an inline script
        check_axe(page, server)


def check_axe(page: Page, server: Assistant) -> None:
    open_demo(page, server)
    assert_no_violations(page, "closed")
    page.locator(".sbw-launcher").click()
    assert_no_violations(page, "open")
    ask(page, "Was kostet die Wertmarke?")
    assert page.locator(".sbw-reply").count() > 0
    page.get_by_role("button", name="Größere Schrift").click()
    assert page.get_by_role("button", name="Größere Schrift").get_attribute("aria-pressed") == "true"
    assert_no_violations(page, "conversation with quick replies, larger text")
    screenshot(page, "widget-desktop.png")
    page.set_viewport_size({"width": 320, "height": 640})
    assert_no_violations(page, "320 px")


def test_larger_text_is_remembered(page: Page, server: Assistant) -> None:
    open_demo(page, server)
    page.locator(".sbw-launcher").click()
    toggle = page.get_by_role("button", name="Größere Schrift")
    size = page.locator(".sbw-root").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    toggle.click()
    assert page.locator(".sbw-root").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") > size
    page.reload()
    assert page.get_by_role("button", name="Größere Schrift").get_attribute("aria-pressed") == "true"


def test_320px_wide_nothing_overflows(browser: Browser, server: Assistant) -> None:
    with new_page(browser, viewport={"width": 320, "height": 640}) as page:
        open_demo(page, server)
        page.locator(".sbw-launcher").focus()
        page.keyboard.press("Enter")
        ask(page, "Was kostet die Wertmarke?")
        panel = page.locator("#sbw-panel").bounding_box()
        assert panel is not None and panel["x"] == 0 and panel["width"] == 320  # full width
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        assert page.evaluate("document.querySelector('.sbw-panel').scrollWidth") <= 320
        for control in page.locator(".sbw-panel button, .sbw-panel input").all():
            box = control.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320
        path = screenshot(page, "widget-320px.png")
        assert path.stat().st_size > 0


def test_200_percent_zoom_is_operable(browser: Browser, server: Assistant) -> None:
    # A 1280 x 800 screen at 200 % zoom: 640 x 400 CSS pixels, each drawn with 2 x 2 device pixels.
    with new_page(browser, viewport={"width": 640, "height": 400}, device_scale_factor=2) as page:
        open_demo(page, server)
        page.locator(".sbw-launcher").focus()
        page.keyboard.press("Enter")
        ask(page, "Was kostet die Wertmarke?")
        assert page.evaluate("document.documentElement.scrollWidth") <= 640
        for control in page.locator(".sbw-panel button, .sbw-panel input").all():
            control.scroll_into_view_if_needed()
            assert control.is_visible()
        page.locator("#sbw-input").focus()
        page.keyboard.press("Tab")
        assert "sbw-reply" in (focused(page)["cls"] or "")
        screenshot(page, "widget-zoom-200.png")


def test_unreachable_server_keeps_the_input(page: Page, server: Assistant, host_site: HostSite) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    open_host_page(
        page, host_site, f'<script src="{server.url}/widget.js" data-server="{dead}" defer></script>'
    )
    page.locator(".sbw-launcher").click()
    page.locator("#sbw-input").fill("Was kostet die Wertmarke?")
    page.locator("#sbw-input").press("Enter")
    alert = page.locator('[role="alert"]')
    alert.wait_for(state="visible", timeout=REPLY_TIMEOUT_MS)
    page.wait_for_function("document.querySelector('[role=alert]').textContent.length > 0")
    assert "nicht erreichbar" in alert.text_content()
    assert page.locator("#sbw-input").input_value() == "Was kostet die Wertmarke?"
    assert page.locator(".sbw-msg").count() == 0  # nothing is shown as sent
    assert focused(page)["id"] == "sbw-input"


def test_default_server_is_the_scripts_origin(
    browser: Browser, server: Assistant, host_site: HostSite
) -> None:
    # The test server runs without `--cors`, so the browser may send but not read the answer: the
    # widget must then say that the assistant is unreachable (docs/widget.md: CORS).
    with new_page(browser, expected_errors=("CORS policy",)) as page:
        script = f'<script src="{server.url}/widget.js" data-title="Fragen an die Gemeinde" defer></script>'
        open_host_page(page, host_site, script)
        assert page.locator("#sbw-title").text_content() == "Fragen an die Gemeinde"
        launcher_position = page.locator(".sbw-launcher").evaluate("e => getComputedStyle(e).position")
        assert launcher_position == "fixed"  # the style sheet came from the script's origin too
        page.locator(".sbw-launcher").click()
        with page.expect_request(lambda r: r.method == "POST") as request:
            page.locator("#sbw-input").fill("Hallo")
            page.locator("#sbw-input").press("Enter")
        assert request.value.url == f"{server.url}/webhooks/rest/webhook"
        page.wait_for_function("document.querySelector('[role=alert]').textContent.length > 0")
        assert "nicht erreichbar" in page.locator('[role="alert"]').text_content()
        assert page.locator("#sbw-input").input_value() == "Hallo"


def test_rate_limit_text_is_shown(page: Page, server: Assistant) -> None:
    open_demo(page, server)
    page.locator(".sbw-launcher").click()
    page.locator("#sbw-input").fill("Was kostet die Wertmarke?")
    sender = stored_sender(page)
    url = f"{server.url}/webhooks/rest/webhook"
    # Empty messages use up the sender's burst without reaching Rasa; then the widget's message is refused.
    while requests.post(url, json={"sender": sender, "message": ""}, timeout=10).status_code != 429:
        pass
    with page.expect_response(lambda r: r.url == url) as response:
        page.locator("#sbw-input").press("Enter")
    assert response.value.status == 429
    refusal = response.value.json()[0]["text"]
    page.wait_for_function("document.querySelector('[role=alert]').textContent.length > 0")
    assert page.locator('[role="alert"]').text_content() == refusal
    assert page.locator("#sbw-input").input_value() == "Was kostet die Wertmarke?"
    assert page.locator(".sbw-msg").count() == 0


class HostSite:
    """A municipal web site on another origin (another port) that embeds the widget with one script tag."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                body = site.pages.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, script: str) -> str:
        path = f"/seite-{len(self.pages)}.html"
        html = f"""<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Gemeinde</title></head>
        <body><main><h1>Gemeinde</h1><p>Ein Beispiel.</p></main>{script}</body></html>"""
        self.pages[path] = html.encode()
        return self.url + path


@pytest.fixture(scope="module")
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    thread = threading.Thread(target=site.httpd.serve_forever, daemon=True)
    thread.start()
    yield site
    site.httpd.shutdown()
    site.httpd.server_close()


def open_host_page(page: Page, host_site: HostSite, script: str) -> None:
    page.goto(host_site.add(script))
    page.locator(".sbw-launcher").wait_for(state="visible")
