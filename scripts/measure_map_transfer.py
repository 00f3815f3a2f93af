"""Measure what /map costs to download, first visit and second, in headless Chromium.

    .venv/bin/python scripts/measure_map_transfer.py [--db instance/assetmap.db]

Without --db it builds the demo database in a temporary folder with `make run`'s commands
(`assetmap init`, then `assetmap load data/assets.geojson`: 374 real Trafford assets). It
serves the app on a free loopback port and opens /map twice in one browser context, the way
a person comes back to the map:

- first visit: the bytes that crossed the network (Chromium's encodedDataLength, compressed
  bodies and headers, from the DevTools protocol), by kind: the page, static files, API
  answers. Target (issue 19): under 120 KB.
- second visit (a new tab, same context): which requests reached the server. Target: no
  static file at all (they are cached for a year under hashed names, so Chromium does not
  even ask).

Map tiles come from a stub on the same server (a blank 1x1 PNG) and are reported apart: a
real tile server's images are not the app's bytes. No request routing is used (Playwright
turns the browser's cache off while routing), which is why tiles are served locally.
tests/browser/test_delivery.py runs `measure` and checks both targets.
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_ASSETS = ROOT / "data" / "assets.geojson"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
FIRST_VISIT_TARGET_BYTES = 120 * 1024
TILES = "/tiles/"
TILE_URL = TILES + "{z}/{x}/{y}.png"
BLANK_TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def build_demo_database(path: Path) -> Path:
    """The demo database as `make run` builds it (its assets; postcodes are not needed)."""
    from assetmap import create_app

    app = create_app({"ASSETMAP_DB": str(path), "SECRET_KEY": "measure-only"})
    runner = app.test_cli_runner()
    for args in (["init"], ["load", str(DEMO_ASSETS), "--who", "make run (demo data)"]):
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            raise SystemExit(f"assetmap {' '.join(args)} failed:\n{result.output}")
    return path


class Recorder:
    """The app as a WSGI server sees it, noting each path asked for, and answering map tiles
    with a blank image (cached for a day, as a tile server's are). Each answer is read whole
    before it is sent, so the development server never leaves a file open."""

    def __init__(self, app: Callable):
        self.app = app
        self.paths: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        with self.lock:
            self.paths.append(path)
        if path.startswith(TILES):
            headers = [("Content-Type", "image/png"), ("Cache-Control", "max-age=86400")]
            start_response("200 OK", headers)
            return [BLANK_TILE]
        answer = self.app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            if hasattr(answer, "close"):
                answer.close()

    def take(self) -> list[str]:
        with self.lock:
            taken, self.paths = self.paths, []
        return taken


@contextmanager
def serving(app):
    """The app on a free loopback port; yields (base URL, Recorder)."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    recorder = Recorder(app)
    server = make_server("127.0.0.1", 0, recorder, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", recorder
    finally:
        server.shutdown()
        thread.join(timeout=5)


def the_app(db_path: Path):
    from assetmap import create_app

    return create_app(
        {"ASSETMAP_DB": str(db_path), "SECRET_KEY": "measure-only", "ASSETMAP_TILE_URL": TILE_URL}
    )


@dataclass
class Visit:
    """One visit: the bytes each URL took on the wire as Chromium saw them, and the paths
    that reached the server (the proof that a cached file was not even asked for)."""

    transferred: dict[str, int] = field(default_factory=dict)
    server_paths: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    assets_on_map: int = 0

    def bytes_of(self, kind: str) -> int:
        return sum(n for url, n in self.transferred.items() if kind_of(url) == kind)

    @property
    def app_bytes(self) -> int:
        """Everything but map tiles."""
        return sum(n for url, n in self.transferred.items() if kind_of(url) != "tiles")

    @property
    def static_paths(self) -> list[str]:
        return [p for p in self.server_paths if p.startswith("/static/")]


def kind_of(url: str) -> str:
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1]
    for prefix, kind in (("/static/", "static"), ("/api/", "api"), (TILES, "tiles")):
        if path.startswith(prefix):
            return kind
    return "page"


def visit_map(context, base_url: str, recorder: Recorder) -> Visit:
    """Open /map in a new tab of `context` and wait until its markers are in place and the
    network is quiet; what crossed the network comes from the DevTools protocol."""
    page = context.new_page()
    visit = Visit()
    urls: dict[str, str] = {}
    cdp = context.new_cdp_session(page)

    def sent(event):
        urls[event["requestId"]] = event["request"]["url"]

    def finished(event):
        url = urls.get(event["requestId"], "")
        if url.startswith("http"):  # not data: URLs, which never cross the network
            visit.transferred[url] = visit.transferred.get(url, 0) + int(event["encodedDataLength"])

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", finished)
    cdp.send("Network.enable")
    page.on("console", lambda m: m.type == "error" and visit.errors.append(m.text))
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    recorder.take()
    page.goto(f"{base_url}/map")
    page.wait_for_selector(".folium-map[data-assets-loaded]")
    loaded = page.get_attribute(".folium-map", "data-assets-loaded")
    if loaded in (None, "error"):
        visit.errors.append(f"the map did not load its assets: {page.text_content('#map-status')}")
    else:
        visit.assets_on_map = int(loaded)
    page.wait_for_load_state("networkidle")
    visit.server_paths = recorder.take()
    cdp.detach()
    page.close()
    return visit


def measure(browser, base_url: str, recorder: Recorder) -> tuple[Visit, Visit]:
    """The first and second visits to /map in one fresh browser context."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        first = visit_map(context, base_url, recorder)
        second = visit_map(context, base_url, recorder)
    finally:
        context.close()
    return first, second


def report(first: Visit, second: Visit) -> tuple[str, bool]:
    kb = 1024
    lines = [
        "first visit to /map (bytes on the wire, compressed, headers included):",
        f"  page    {first.bytes_of('page') / kb:7.1f} KB",
        f"  static  {first.bytes_of('static') / kb:7.1f} KB",
        f"  api     {first.bytes_of('api') / kb:7.1f} KB",
        f"  total   {first.app_bytes / kb:7.1f} KB"
        f"   target < {FIRST_VISIT_TARGET_BYTES / kb:.0f} KB"
        f"   ({first.bytes_of('tiles') / kb:.1f} KB of stub tiles not counted)",
        f"  assets on the map: {first.assets_on_map}",
        "second visit, same browser context:",
        f"  total   {second.app_bytes / kb:7.1f} KB",
        f"  static files requested from the server: {len(second.static_paths)}   target 0",
        f"  requests that reached the server: {', '.join(sorted(set(second.server_paths)))}",
    ]
    for url, n in sorted(first.transferred.items(), key=lambda item: kind_of(item[0])):
        if kind_of(url) != "tiles":
            lines.append(f"    {n:8,d} B  {kind_of(url):6}  /{url.split('/', 3)[-1]}")
    ok = (
        first.app_bytes < FIRST_VISIT_TARGET_BYTES
        and not second.static_paths
        and not first.errors
        and not second.errors
    )
    for error in first.errors + second.errors:
        lines.append(f"  error: {error}")
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="a database to serve (default: the demo, built)")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        db_path = args.db or build_demo_database(Path(folder) / "assetmap.db")
        with serving(the_app(db_path)) as (base_url, recorder), sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
            )
            try:
                first, second = measure(browser, base_url, recorder)
            finally:
                browser.close()
    text, ok = report(first, second)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
