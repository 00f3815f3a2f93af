"""Browser fixtures: the app served on a local port, and headless Debian Chromium.

Chromium is Debian's, driven by Playwright; `playwright install` is not used: its headless
shell (/usr/bin/chromium-headless-shell, package chromium-headless-shell) where it is
installed, else the full browser (/usr/bin/chromium, package chromium); ASSETMAP_CHROMIUM
names another. Without one these tests skip with the reason, unless ASSETMAP_REQUIRE_BROWSER
is set (as CI does), when they fail instead, so CI cannot pass by skipping them.
"""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from assetmap import create_app
from tests.conftest import load_sample


def _chromium() -> str:
    """The headless shell is the same Blink and V8 built without the browser's windows,
    profile and services: what Playwright itself runs for headless tests. A page costs it a
    third of the processor time the full browser takes in its headless mode (0.6 s against
    1.7 s for the map in a new context), half of what the browser tests took."""
    if os.environ.get("ASSETMAP_CHROMIUM"):
        return os.environ["ASSETMAP_CHROMIUM"]
    shell = "/usr/bin/chromium-headless-shell"
    return shell if Path(shell).exists() else "/usr/bin/chromium"


CHROMIUM = _chromium()
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 900}  # a new page's, unless a test asks for another
TILE_HOST = "tile.openstreetmap.org"
# A 1x1 transparent PNG, served in place of map tiles so tests never leave the machine.
BLANK_TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


# Settings for the apps the tests serve that are not about the tile server: every map tile is
# this blank image written into the page (the fragment keeps Leaflet's {z}/{x}/{y} template),
# so the browser draws it without a request. Tiles from a server are answered through this
# process (see `watched_page`), a round trip each: 1,353 of them for test_injection's pages.
# The Content Security Policy is the production one (it allows data: images); test_map serves
# the production tile URL too, to show its tiles are fetched and not refused.
BLANK_TILES = {
    "ASSETMAP_TILE_URL": "data:image/png;base64,"
    + base64.b64encode(BLANK_TILE).decode()
    + "#{z}/{x}/{y}"
}


def _chromium_missing_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium-headless-shell)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def _nowhere() -> socket.socket:
    """A port on this machine that refuses every connection: bound, so nothing else can take
    it, and never listening."""
    dead_end = socket.socket()
    dead_end.bind(("127.0.0.1", 0))
    return dead_end


@pytest.fixture(scope="session")
def browser():
    """Chromium, with every request to another server sent to a proxy that refuses it.

    So nothing a page asks of another machine ever leaves this one, and each such request
    fails where `watched_page` sees it (its address included, even one given as an IP). The
    pages' own requests (127.0.0.1) go straight to the app. Pages could be watched with a
    route instead, but a route makes Playwright stop every request of the page (the app's
    own too) until it has been matched: a quarter of a map page's processor time.
    """
    reason = _chromium_missing_reason()
    if reason:
        if os.environ.get("ASSETMAP_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required here but cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    dead_end = _nowhere()
    proxy = [f"--proxy-server=http://127.0.0.1:{dead_end.getsockname()[1]}"]
    proxy.append("--proxy-bypass-list=127.0.0.1")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + proxy
            )
            yield browser
            browser.close()
    finally:
        dead_end.close()


def read_whole(app):
    """The app, with each answer read in full and closed before the server sends it.

    Werkzeug's development server closes an answer only after it has drained the socket, and
    skips the close when the browser has already reset the connection (as it does when a
    test moves on while a stylesheet is in flight). The open static file then warns in
    whichever test is running when it is collected. Answers here are small, so reading them
    whole costs nothing and makes the close certain.
    """

    def whole(environ, start_response):
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            if hasattr(answer, "close"):
                answer.close()

    return whole


class QuietRequests(WSGIRequestHandler):
    """Werkzeug's handler without its line in the log for every answer (thousands a run,
    each formatted and captured by pytest); errors are still logged."""

    def log_request(self, code="-", size="-") -> None:
        pass


@contextmanager
def serving(app):
    """The app served by a real HTTP server on a free local port, for as long as the block."""
    server = make_server(
        "127.0.0.1", 0, read_whole(app), threaded=True, request_handler=QuietRequests
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


# Where the live server's database is, for tests that add accounts to it.
LIVE_DB: dict = {}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app on the sample data, drawing blank map tiles written into the page (test_map
    serves the same database with the production tile server, to show the browser fetches
    its tiles)."""
    from tests import engines

    folder = tmp_path_factory.mktemp("browser")
    db_path = engines.new_target(folder, keep=True)
    load_sample(db_path)
    LIVE_DB["path"] = db_path
    app = create_app(
        {
            "ASSETMAP_DB": str(db_path),
            "SECRET_KEY": "browser-tests-only",
            **BLANK_TILES,
            # Its own folder for imported files and the one-import-at-a-time lock: on
            # PostgreSQL the default is ./instance, shared by every test process.
            "ASSETMAP_FILES_DIR": str(folder / "files"),
        }
    )
    with serving(app) as url:
        yield url


class PageWatch:
    """What a page did that a test may need to refuse: dialogs, script errors, outside requests."""

    def __init__(self):
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.outside_requests: list[str] = []
        self.tiles: list[str] = []  # tiles asked of the tile server, answered blank


def watched_page(browser, base_url: str, *, tile_server: bool = False, **context_options):
    """A new page that records dialogs, script errors and requests to other servers (which
    the browser's dead-end proxy refuses, so nothing leaves the machine).

    With `tile_server`, for a site that draws its maps from the production tile server,
    the tiles are answered here with a blank image instead, and their addresses recorded.
    """
    context = browser.new_context(**{"viewport": VIEWPORT, **context_options})
    page = context.new_page()
    watch = PageWatch()

    def on_dialog(dialog):
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message):
        if message.type == "error":
            watch.errors.append(message.text)

    def on_request_failed(request):
        if urlparse(request.url).hostname != "127.0.0.1":
            watch.outside_requests.append(request.url)

    def tile(route):
        watch.tiles.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=BLANK_TILE)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.on("requestfailed", on_request_failed)
    if tile_server:
        context.route(f"https://*{TILE_HOST}/**", tile)
    page.watch = watch
    page.base_url = base_url
    return page


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture(scope="session")
def _page_of_the_session():
    """The `page` fixture's page, kept from one test to the next (see `page`)."""
    kept: dict = {}
    yield kept
    if kept:
        kept["page"].context.close()


@pytest.fixture
def page(request, browser, live_server, _page_of_the_session):
    """A watched page of the live server at 1280 x 900, signed in as no one.

    The same tab for every test that asks for it (a new one after a test that failed or
    closed it), with its cookies cleared, what it watched forgotten and about:blank loaded
    first: a new browser context costs a new renderer process, which took as much processor
    time as the page itself. Nothing else of a test's is kept: the site stores nothing in
    the browser but its session cookie, and the static files the cache keeps are the same.
    Tests that need a phone's screen, the geolocation or a first visit open their own.
    """
    kept = _page_of_the_session
    page = kept.get("page")
    if page is None or page.is_closed():
        page = kept["page"] = watched_page(browser, live_server)
    else:
        page.context.clear_cookies()
        page.set_viewport_size(VIEWPORT)
        page.goto("about:blank")
        for seen in vars(page.watch).values():
            seen.clear()
    yield page
    if request.node.stash.get(FAILED, False) and not page.is_closed():
        page.context.close()


# The cookies a sign-in through the form left, by server and role (see `signed_in_page`).
SIGNED_IN: dict[tuple[str, str], dict] = {}


def signed_in_page(browser, base_url: str, role: str, next_path: str):
    """A watched page signed in as the live server's account of that role (made when
    absent), and sent on to `next_path`.

    The first time for a server and role it signs in through the sign-in form; after that
    the page is a new context holding the cookies that sign-in left, as a browser that comes
    back does: each check of the password costs scrypt's 0.1 to 0.3 s of processor time on
    purpose. If the site no longer takes that session (it was ended), the form is used again.
    """
    key = (base_url, role)
    if key in SIGNED_IN:
        page = watched_page(browser, base_url, storage_state=SIGNED_IN[key])
        page.goto(f"{base_url}{next_path}")
        if urlparse(page.url).path != "/login":
            page.wait_for_url(f"**{next_path}")
            return page
        page.context.close()
    from tests.conftest import ROLE_EMAILS, TEST_PASSWORD, add_user

    add_user(LIVE_DB["path"], role)
    page = watched_page(browser, base_url)
    page.goto(f"{base_url}/login?next={next_path}")
    page.fill("#email", ROLE_EMAILS[role])
    page.fill("#password", TEST_PASSWORD)
    page.click("form.stacked-form button[type=submit]")
    page.wait_for_url(f"**{next_path}")
    SIGNED_IN[key] = page.context.storage_state()
    return page


def wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Wait until a JavaScript expression is true in the page, asking again every 50 ms.

    Playwright's `wait_for_function` polls by evaluating its string inside the page, which our
    Content Security Policy (no 'unsafe-eval') refuses as soon as the first answer is "not
    yet"; `page.evaluate` goes through the browser's debugging protocol and is not refused.
    Focus moved by `autofocus` or a script lands a frame or more after the element appears.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:g} s: {expression}")
        page.wait_for_timeout(50)
