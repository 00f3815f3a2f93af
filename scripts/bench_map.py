"""Benchmark the public map against a folium map that embeds one Marker per asset.

    .venv/bin/python scripts/bench_map.py [--sizes 10000] [--runs 20] [--warmup 1]

For each size it takes the cached database of synthetic assets that scripts/bench_search.py
builds (every record's source is "synthetic-benchmark"; nothing here is real data), serves
the app with gunicorn on a free loopback port (this checkout's code), and measures in headless
Debian Chromium:

- `/map`: the page's HTML size; the GeoJSON the map's script fetches (every page of
  /api/v1/assets it asks for), raw and gzipped; and the time from navigation until every
  marker is in its cluster layer (the page sets `data-assets-loaded` on the map only then).
- the baseline, on the same assets: a folium map built the way folium's documentation shows,
  one `folium.Marker(location, popup=name, tooltip=name)` per asset in a `MarkerCluster`,
  written to an HTML file and served from loopback with the same vendored Leaflet files
  (folium's CDN addresses are swapped for them, so nothing leaves the machine). Each run
  renders it afresh and loads it, and its time is the two together, because a site serving
  such a map pays both on every request.

The two take turns run by run, and which goes first alternates (ours then folium's, then
folium's then ours), so a machine that gets busier or quieter during the benchmark (a shared
one does) slows both alike: timing all of one and then all of the other once gave 3.8x in one
run and 6.8x in the next. The first `--warmup` rounds (a cold browser, a cold server) are not
counted. It prints p50 and p95 of each, and the ratios baseline / ours at p50 and at p95.
Map tiles are answered with a blank image, so the network is not what is measured.

Targets: at 10k assets, HTML at most 150 KB (issue 6), every marker clustered within 2 s, and
at least 5x faster than the baseline at both p50 and p95 (issue 19).
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import ensure_database  # noqa: E402

from assetmap.store import assets as store  # noqa: E402
from assetmap.store import connect  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BLANK_TILE = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_app(db_path: Path) -> tuple[subprocess.Popen, str]:
    """`assetmap serve` (gunicorn, 2 workers) on the database, on a free loopback port."""
    port = free_port()
    # The assetmap command beside this Python, running this checkout's code (PYTHONPATH), so
    # that a worktree without a .venv of its own measures its own changes.
    env = {
        **os.environ,
        "ASSETMAP_DB": str(db_path),
        "SECRET_KEY": "benchmark-only",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "assetmap"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/api/v1/taxonomy", timeout=1).read()
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the app did not start")


def serve_folder(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def ensure_jquery(work: Path) -> Path:
    """folium's popups call jQuery, so the baseline needs it: fetched once from the npm
    registry into the work folder (the app itself never uses jQuery)."""
    target = work / "jquery-3.7.1" / "jquery.min.js"
    if not target.exists():
        with tempfile.TemporaryDirectory() as unpack:
            subprocess.run(
                ["npm", "pack", "--silent", "jquery@3.7.1"],
                cwd=unpack,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            subprocess.run(["tar", "-xzf", "jquery-3.7.1.tgz"], cwd=unpack, check=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            (Path(unpack) / "package" / "dist" / "jquery.min.js").replace(target)
    return target


def baseline_points(db_path: Path) -> list[tuple[float, float, str]]:
    """Every asset's position and name, read once (the database is not what is compared)."""
    db = connect(db_path)
    points = [(r["lat"], r["lon"], r["name"]) for r in store.iter_assets(db)]
    db.close()
    return points


def baseline_html(points: list[tuple[float, float, str]], static_url: str) -> tuple[str, float]:
    """folium's documented way: one Marker per asset in a MarkerCluster. Returns the page
    and the seconds folium took to build and render it."""
    import folium
    from folium.plugins import MarkerCluster

    started = time.perf_counter()
    m = folium.Map(location=[52.8, -1.5], zoom_start=7)
    cluster = MarkerCluster().add_to(m)
    for lat, lon, name in points:
        folium.Marker([lat, lon], popup=name, tooltip=name).add_to(cluster)
    html = m.get_root().render()
    seconds = time.perf_counter() - started
    leaflet = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist"
    local = {
        "https://code.jquery.com/jquery-3.7.1.min.js": f"{static_url}/jquery/jquery.min.js",
        f"{leaflet}/leaflet.js": f"{static_url}/vendor/leaflet/leaflet.js",
        f"{leaflet}/leaflet.css": f"{static_url}/vendor/leaflet/leaflet.css",
    }
    for cdn, mine in local.items():
        html = html.replace(cdn, mine)
    for name in ("leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"):
        html = html.replace(
            f"https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/{name}",
            f"{static_url}/vendor/leaflet.markercluster/{name}",
        )
    return html, seconds


def new_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    def route(route):
        url = route.request.url
        if url.startswith("http://127.0.0.1"):
            return route.continue_()
        if "tile.openstreetmap.org" in url:
            return route.fulfill(status=200, content_type="image/png", body=BLANK_TILE)
        return route.abort()  # folium's jQuery, Bootstrap and icons: not needed to cluster

    context.route("**/*", route)
    return page


def time_ours(browser, url: str, expected: int) -> float:
    page = new_page(browser)
    started = time.perf_counter()
    page.goto(url + "/map", wait_until="commit")
    page.wait_for_selector(".folium-map[data-assets-loaded]", timeout=120_000)
    seconds = time.perf_counter() - started
    shown = page.get_attribute(".folium-map", "data-assets-loaded")
    page.context.close()
    if shown != str(expected):
        raise RuntimeError(f"the map showed {shown} assets, expected {expected}")
    return seconds


def time_baseline(browser, url: str) -> float:
    page = new_page(browser)
    started = time.perf_counter()
    page.goto(url + "/baseline.html", wait_until="load", timeout=600_000)
    page.wait_for_selector(".marker-cluster", timeout=120_000)
    seconds = time.perf_counter() - started
    page.context.close()
    return seconds


def payload(url: str) -> tuple[int, int, int, int]:
    """The map page's HTML size, the GeoJSON it fetches (raw and gzipped, bytes) and how
    many assets that is (closed ones are not on the map)."""
    html = urllib.request.urlopen(url + "/map").read()
    fields = "name,kind,strand,source,address,postcode"
    raw = zipped = offset = 0
    while True:
        body = urllib.request.urlopen(
            f"{url}/api/v1/assets?fields={fields}&limit=1000&offset={offset}"
        ).read()
        raw += len(body)
        zipped += len(gzip.compress(body))
        page = json.loads(body)
        offset += len(page["features"])
        if offset >= page["total"] or not page["features"]:
            return len(html), raw, zipped, page["total"]


def summary(times: list[float]) -> tuple[float, float]:
    """p50 and p95 (nearest rank; with 20 runs, p95 is the second slowest)."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


class Baseline:
    """folium's map, rendered afresh for each run and loaded from a loopback server."""

    def __init__(self, db_path: Path, work: Path, folder: Path):
        (folder / "vendor").symlink_to(ROOT / "assetmap" / "static" / "vendor")
        (folder / "jquery").symlink_to(ensure_jquery(work).parent)
        self.folder = folder
        self.points = baseline_points(db_path)
        self.server, self.url = serve_folder(folder)
        self.html_bytes = 0
        self.renders: list[float] = []

    def run(self, browser) -> float:
        html, render_seconds = baseline_html(self.points, self.url)
        (self.folder / "baseline.html").write_text(html)
        self.html_bytes = len(html.encode())
        self.renders.append(render_seconds)
        return render_seconds + time_baseline(browser, self.url)

    def close(self) -> None:
        self.server.shutdown()


def take_turns(browser, url: str, shown: int, baseline: Baseline, runs: int, warmup: int):
    """Each round runs both, ours first in even rounds and the baseline first in odd ones;
    the times of the rounds after the warm-up ones, (ours, baseline)."""
    ours, theirs = [], []
    for round_number in range(warmup + runs):
        turns = [
            ("ours", lambda: time_ours(browser, url, shown)),
            ("baseline", lambda: baseline.run(browser)),
        ]
        if round_number % 2:
            turns.reverse()
        times = {name: run() for name, run in turns}
        if round_number >= warmup:
            ours.append(times["ours"])
            theirs.append(times["baseline"])
        print(
            f"  round {round_number + 1:2d}{' (warm-up)' if round_number < warmup else ''}: "
            f"{' then '.join(name for name, _ in turns)}: ours {times['ours']:.2f} s, "
            f"baseline {times['baseline']:.2f} s",
            file=sys.stderr,
        )
    return ours, theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--runs", type=int, default=20, help="counted rounds of each (20)")
    parser.add_argument("--warmup", type=int, default=1, help="rounds not counted (1)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/assetmap-bench"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    print("map benchmark (synthetic assets; source 'synthetic-benchmark')")
    print(
        f"{args.runs} rounds counted after {args.warmup} warm-up; in each, ours and the "
        "baseline take turns, the one going first alternating; times in seconds"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for n in (int(s) for s in args.sizes.split(",")):
            db_path = ensure_database(args.work, n, args.seed)
            process, url = serve_app(db_path)
            try:
                html_bytes, raw, zipped, shown = payload(url)
                with tempfile.TemporaryDirectory() as folder:
                    baseline = Baseline(db_path, args.work, Path(folder))
                    try:
                        ours, base_times = take_turns(
                            browser, url, shown, baseline, args.runs, args.warmup
                        )
                    finally:
                        baseline.close()
            finally:
                process.terminate()
                process.wait()
            ours_p50, ours_p95 = summary(ours)
            base_p50, base_p95 = summary(base_times)
            render_p50 = statistics.median(baseline.renders[args.warmup :] or baseline.renders)
            ratio_p50, ratio_p95 = base_p50 / ours_p50, base_p95 / ours_p95
            met = "met" if min(ratio_p50, ratio_p95) >= 5 else "NOT met"
            print(f"\n{n:,} assets ({shown:,} open, so on the map)")
            print(f"  /map HTML             {html_bytes / 1024:8.1f} KB")
            print(
                f"  GeoJSON for the map   {raw / 1024:8.1f} KB raw, {zipped / 1024:.1f} KB gzipped"
            )
            print(
                f"  baseline HTML         {baseline.html_bytes / 1024:8.1f} KB "
                f"(folium render p50 {render_p50:.2f} s)"
            )
            print(f"  ours: all clustered   p50 {ours_p50:.2f} s  p95 {ours_p95:.2f} s")
            print(f"  baseline: render+load p50 {base_p50:.2f} s  p95 {base_p95:.2f} s")
            print(
                f"  baseline / ours       p50 {ratio_p50:.1f}x  p95 {ratio_p95:.1f}x  "
                f"(target 5x at both: {met})"
            )
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
