"""Syncing from another publisher's Open Referral UK API (assetmap feeds).

The publisher is a second assetmap app serving the real Trafford demo data from a database of
its own, on a real HTTP server on loopback; the servers that fail (500s then OK, always 500,
slow, not JSON, too big) are small WSGI apps on loopback too. Time limits and pauses are
parameters, made tiny here: nothing waits on a fixed sleep.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from assetmap import create_app
from assetmap.openreferral import feeds, mapping, sync
from assetmap.openreferral.feeds import FeedError
from assetmap.record.loading import load_file
from assetmap.store import assets as asset_store
from assetmap.store import feeds as feed_store
from assetmap.store import initialise
from assetmap.store import mappings as saved_mappings
from assetmap.store.connection import connect
from assetmap.web import feeds as web_feeds
from tests import engines
from tests.conftest import add_user, csrf_token, give_session

ROOT = Path(__file__).resolve().parents[1]
QUICK = {"timeout": 2.0, "retries": 2, "backoff": 0.0}
PUBLISHED = 120


@contextmanager
def serving(wsgi_app):
    """A WSGI app on a free loopback port, for as long as the block."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


class Publisher:
    """Another directory: an assetmap app serving the Trafford demo data from a database of
    its own on loopback; `seen` keeps the path and query of each request it answers."""

    def __init__(self, db_path: Path, url: str, published: list[str], seen: list[str]):
        self.db_path, self.url, self.published, self.seen = db_path, url, published, seen

    def archive(self, asset_id: str, archived: bool = True) -> None:
        """A coordinator of the other directory archives one of its assets (or brings it back)."""
        db = connect(self.db_path)
        try:
            asset_store.set_archived(db, asset_id, archived, who="publisher")
        finally:
            db.close()

    def rename(self, asset_id: str, name: str) -> None:
        """A coordinator of the other directory renames one of its assets."""
        db = connect(self.db_path)
        try:
            record = {**asset_store.get_asset(db, asset_id), "name": name}
            asset_store.save_assets(db, [record], who="publisher")
        finally:
            db.close()


@pytest.fixture(scope="module")
def publisher(tmp_path_factory):
    folder = tmp_path_factory.mktemp("publisher")
    db_path = engines.new_target(folder, keep=True)
    # The first of the demo's real Trafford assets: several pages, and quick to import.
    demo = json.loads((ROOT / "data" / "assets.geojson").read_text(encoding="utf-8"))
    part = folder / "assets.geojson"
    part.write_text(json.dumps({**demo, "features": demo["features"][:PUBLISHED]}))
    initialise(db_path)
    db = connect(db_path)
    load_file(db, part, who="publisher")
    published = [
        row[0] for row in db.conn.execute("SELECT id FROM assets WHERE archived = 0 ORDER BY id")
    ]
    db.close()
    app = create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "publisher-only"})
    seen: list[str] = []

    def recorded(environ, start_response):
        seen.append(f"{environ['PATH_INFO']}?{environ['QUERY_STRING']}")
        return app(environ, start_response)

    with serving(recorded) as url:
        yield Publisher(db_path, f"{url}/api/oruk/", published, seen)


class Scripted:
    """A server that answers from a script: each request takes the next answer (the last is
    repeated). An answer is (status, headers, body), or a function of the WSGI environ that
    returns one; a body may be bytes or an iterable of bytes. Keeps each request's path and
    query in `seen`."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.seen: list[str] = []
        self.release = threading.Event()  # set at the end, to let slow answers finish

    def __call__(self, environ, start_response):
        self.seen.append(f"{environ['PATH_INFO']}?{environ['QUERY_STRING']}")
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if callable(answer):
            answer = answer(environ)
        status, headers, body = answer
        start_response(status, headers)
        return [body] if isinstance(body, bytes) else body


@contextmanager
def scripted(*answers):
    server = Scripted(*answers)
    with serving(server) as url:
        try:
            yield server, f"{url}/api/oruk/"
        finally:
            server.release.set()


def page(services: list[dict], number: int = 1, total_pages: int = 1) -> tuple:
    body = {
        "total_items": len(services) * total_pages,
        "total_pages": total_pages,
        "page_number": number,
        "size": len(services),
        "first_page": number == 1,
        "last_page": number == total_pages,
        "empty": not services,
        "contents": services,
    }
    return ("200 OK", [("Content-Type", "application/json")], json.dumps(body).encode())


SERVICE = {"id": "5b1e1ad4-1a6b-4d2f-9a54-0c6e0f2f1a01", "name": "Walk", "status": "active"}
ERROR_500 = ("500 INTERNAL SERVER ERROR", [("Content-Type", "text/html")], b"<h1>oops</h1>")


# --- reading another assetmap's pages ---------------------------------------------------


def test_every_page_of_another_directory_is_read_following_total_pages(publisher):
    url, published = publisher.url, publisher.published
    fetched = feeds.fetch_services(url, per_page=50, **QUICK)
    assert fetched.pages == math.ceil(len(published) / 50) > 1
    assert sorted(s["id"] for s in fetched.services) == sorted(
        mapping.service_id(asset_id) for asset_id in published
    )
    # one page in the standard's envelope, whose contents are the services read
    written = json.loads(feeds.as_file(fetched))
    assert written["total_items"] == written["size"] == len(published)
    assert written["contents"] == fetched.services


def test_the_address_may_be_the_apis_or_its_services(publisher):
    url, published = publisher.url, publisher.published
    assert feeds.services_url(url) == feeds.services_url(url + "services")
    assert feeds.services_url(url).endswith("/api/oruk/services")
    assert feeds.about(url) == f"HSDS-UK-3.0, {len(published)} services"


def test_changed_services_only_are_asked_for_with_modified_after():
    with scripted(page([SERVICE])) as (server, url):
        feeds.fetch_services(url, "2026-12-01T10:00:00Z", **QUICK)
    assert server.seen == [
        "/api/oruk/services?page=1&per_page=100&modified_after=2026-12-01T10%3A00%3A00Z"
    ]


def test_a_service_seen_on_two_pages_is_kept_once_as_last_read():
    moved = {**SERVICE, "name": "Walk (moved)"}
    with scripted(page([SERVICE], 1, 2), page([moved], 2, 2)) as (_, url):
        fetched = feeds.fetch_services(url, **QUICK)
    assert fetched.services == [moved]


# --- servers that fail --------------------------------------------------------------------


def test_server_errors_are_tried_again_with_a_growing_pause_then_read():
    pauses = []
    with scripted(ERROR_500, ERROR_500, page([SERVICE])) as (server, url):
        fetched = feeds.fetch_services(
            url, timeout=2, retries=3, backoff=0.001, sleep=pauses.append
        )
    assert fetched.services == [SERVICE]
    assert len(server.seen) == fetched.attempts == 3
    assert pauses == [0.001, 0.002]


def test_a_server_that_always_fails_is_a_clear_error_naming_it():
    with scripted(ERROR_500) as (server, url), pytest.raises(FeedError) as caught:
        feeds.fetch_services(url, **QUICK)
    message = str(caught.value)
    assert message.startswith(f"{url}services?page=1")
    assert "answered 500 INTERNAL SERVER ERROR (tried 3 times)" in message
    assert len(server.seen) == 3


def test_a_4xx_is_not_tried_again():
    gone = ("404 NOT FOUND", [("Content-Type", "application/json")], b'{"error": "no"}')
    with scripted(gone) as (server, url), pytest.raises(FeedError, match="answered 404"):
        feeds.fetch_services(url, **QUICK)
    assert len(server.seen) == 1


def test_a_server_that_is_down_is_a_clear_error():
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/oruk/"
    with pytest.raises(FeedError, match=r"could not be reached: .*\(tried 3 times\)"):
        feeds.fetch_services(url, **QUICK)


def test_a_slow_server_is_given_up_on_after_the_timeout():
    def slow(environ):
        scripted_server.release.wait(10)
        return page([SERVICE])

    with scripted(slow) as (scripted_server, url):
        started = time.monotonic()
        with pytest.raises(FeedError, match="did not answer within 0.2 seconds"):
            feeds.fetch_services(url, timeout=0.2, retries=1, backoff=0)
        assert time.monotonic() - started < 3


def test_a_server_that_trickles_its_answer_is_cut_off_at_the_timeout():
    def trickle(environ):
        def body():
            while not scripted_server.release.wait(0.02):
                yield b" "

        return ("200 OK", [("Content-Type", "application/json")], body())

    with (
        scripted(trickle) as (scripted_server, url),
        pytest.raises(FeedError, match="did not finish answering within 0.3 seconds"),
    ):
        feeds.fetch_services(url, timeout=0.3, retries=0, backoff=0)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            b"<!doctype html><h1>Our directory</h1>",
            r"answered something that is not JSON \(a web page\)",
        ),
        (b"secret=hunter2", r"not JSON \(text\); is this"),
        (b'{"services": []}', "answered JSON that is not a page of Open Referral UK services"),
        (b"[1, 2, 3]", "answered JSON that is not a page"),
        (b"[" * 100_000, "not JSON"),
        (
            b'{"total_items": 1, "total_pages": "many", "page_number": 1, "contents": []}',
            "total_pages or total_items is not a whole number",
        ),
        (
            b'{"total_items": 1, "total_pages": 1, "page_number": 1, "contents": ["x"]}',
            "contents is not a list of services",
        ),
    ],
)
def test_an_answer_that_is_not_a_page_of_services_is_a_clear_error(body, words):
    answer = ("200 OK", [("Content-Type", "application/json")], body)
    with scripted(answer) as (server, url), pytest.raises(FeedError, match=words) as caught:
        feeds.fetch_services(url, **QUICK)
    assert str(caught.value).startswith(url)
    assert "hunter2" not in str(caught.value)  # what an address answers is not repeated
    assert len(server.seen) == 1  # not asked again: it will not change


def test_an_answer_too_big_by_its_length_is_refused_before_it_is_read():
    claims = ("200 OK", [("Content-Length", str(50 * 1024**2))], b"{}")
    with scripted(claims) as (_, url), pytest.raises(FeedError, match=r"\(50.0 MB\)"):
        feeds.fetch_services(url, max_bytes=1024**2, **QUICK)


def test_an_answer_too_big_without_a_length_is_cut_off_while_read():
    def endless(environ):
        def body():
            while not scripted_server.release.is_set():
                yield b" " * 65536

        return ("200 OK", [("Content-Type", "application/json")], body())

    with (
        scripted(endless) as (scripted_server, url),
        pytest.raises(FeedError, match="more than the 1.0 MB a sync may still read"),
    ):
        feeds.fetch_services(url, max_bytes=1024**2, **QUICK)


def test_pages_together_over_the_limit_are_refused(publisher):
    url = publisher.url
    with pytest.raises(FeedError, match="a sync may still read"):
        feeds.fetch_services(url, per_page=50, max_bytes=100_000, **QUICK)
    with pytest.raises(FeedError, match="more than the 2 pages a sync reads"):
        feeds.fetch_services(url, per_page=10, max_pages=2, **QUICK)


def test_a_sync_on_the_page_stops_when_the_pages_would_hold_the_request_for_minutes(publisher):
    """A web page's sync has a minute in all (web/feeds.py WEB_FETCH); a publisher whose pages
    take longer is refused, saying to sync it from the command line."""
    ticks = iter(range(0, 10_000, 25))  # each page seems to take 25 s

    def clock():
        return float(next(ticks))

    with pytest.raises(FeedError, match="more than a page can read in 60 seconds") as refused:
        feeds.fetch_services(publisher.url, per_page=10, max_seconds=60, clock=clock, **QUICK)
    assert "assetmap feeds sync NAME" in str(refused.value)
    assert len(feeds.fetch_services(publisher.url, per_page=10, **QUICK).services) == PUBLISHED


def test_a_server_that_never_stops_paging_is_stopped_by_an_empty_page():
    with scripted(page([SERVICE], 1, 10**6), page([], 2, 10**6)) as (server, url):
        fetched = feeds.fetch_services(url, **QUICK)
    assert fetched.services == [SERVICE] and len(server.seen) == 2


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/", "example.org"])
def test_only_web_addresses_are_read(url):
    with pytest.raises(FeedError, match="is not a web address"):
        feeds.fetch_services(url, **QUICK)


def test_a_redirect_to_a_file_is_not_followed():
    moved = ("302 FOUND", [("Location", "file:///etc/passwd")], b"")
    with scripted(moved) as (_, url), pytest.raises(FeedError) as caught:
        feeds.fetch_services(url, **QUICK)
    assert "root:" not in str(caught.value)


# --- the commands ---------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path):
    """Our own directory: an empty database, and its command runner."""
    db_path = engines.new_target(tmp_path)
    initialise(db_path)
    app = create_app({"TESTING": True, "ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})
    return app.test_cli_runner(), db_path


def _feed(db_path, name):
    db = connect(db_path)
    try:
        return feed_store.get(db, name)
    finally:
        db.close()


def test_a_coordinator_adds_a_feed_after_its_address_is_checked(local, publisher):
    runner, db_path = local
    url, published = publisher.url, publisher.published
    result = runner.invoke(args=["feeds", "add", url + "services", "--source", "trafford-demo"])
    assert result.exit_code == 0, result.output
    assert f"Added feed trafford-demo: {url} (HSDS-UK-3.0, {len(published)} services)" in (
        result.output
    )
    feed = _feed(db_path, "trafford-demo")
    assert feed["url"] == url and feed["added_by"].startswith("cli:")
    listed = runner.invoke(args=["feeds", "list"])
    assert f"trafford-demo: {url} (last synced never)" in listed.output
    again = runner.invoke(args=["feeds", "add", url, "--source", "trafford-demo"])
    assert again.exit_code == 1 and "already a feed named trafford-demo" in again.output


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (("404 NOT FOUND", [], b"nothing"), "answered 404 NOT FOUND (is this the API's address?"),
        (("200 OK", [], b"<html>a council page</html>"), "is not JSON"),
    ],
)
def test_an_address_that_is_not_an_oruk_api_is_not_added(local, answer, words):
    runner, db_path = local
    with scripted(answer) as (_, url):
        result = runner.invoke(args=["feeds", "add", url, "--source", "not-oruk"])
    assert result.exit_code == 1
    assert words in result.output and "The feed was not added." in result.output
    assert _feed(db_path, "not-oruk") is None


@pytest.mark.parametrize("name", ["Trafford Demo", "-x", "", "a" * 61, "<script>"])
def test_a_feed_name_must_be_a_plain_source_name(local, publisher, name):
    runner, db_path = local
    result = runner.invoke(args=["feeds", "add", publisher.url, "--source", name])
    assert result.exit_code == 1 and "cannot be a feed's name" in result.output


def test_a_sync_that_cannot_read_keeps_the_error_and_changes_nothing(local):
    runner, db_path = local
    with scripted(page([SERVICE]), page([SERVICE]), ERROR_500) as (_, url):
        assert runner.invoke(args=["feeds", "add", url, "--source", "flaky"]).exit_code == 0
        result = runner.invoke(args=["feeds", "sync", "flaky", "--retries", "1", "--backoff", "0"])
    assert result.exit_code == 1
    assert "flaky: not synced: " in result.output and "(tried 2 times)" in result.output
    feed = _feed(db_path, "flaky")
    assert "answered 500" in feed["last_error"] and feed["last_synced_at"] is None
    listed = runner.invoke(args=["feeds", "list"]).output
    assert "last synced never" in listed and "last error" in listed
    db = connect(db_path)
    assert db.conn.execute("SELECT count(*) FROM import_runs").fetchone()[0] == 0
    assert db.conn.execute("SELECT count(*) FROM assets").fetchone()[0] == 0
    db.close()


def test_syncing_an_unknown_feed_names_the_known_ones(local, publisher):
    runner, _ = local
    runner.invoke(args=["feeds", "add", publisher.url, "--source", "trafford-demo"])
    result = runner.invoke(args=["feeds", "sync", "salford"])
    assert result.exit_code == 1
    assert "there is no feed named 'salford' (feeds: trafford-demo)" in result.output


def test_a_sync_with_nothing_changed_imports_nothing_and_counts_as_synced(local):
    runner, db_path = local
    with scripted(page([])) as (server, url):
        runner.invoke(args=["feeds", "add", url, "--source", "quiet"])
        result = runner.invoke(args=["feeds", "sync", "quiet"])
    assert result.exit_code == 0, result.output
    assert "quiet: nothing new or changed; nothing to import." in result.output
    feed = _feed(db_path, "quiet")
    assert feed["last_synced_at"] and feed["last_run_id"] is None and not feed["last_error"]


def test_changed_since_is_the_last_imported_sync_unless_its_run_was_undone(local):
    _, db_path = local
    db = connect(db_path)
    feed_store.add(db, name="n", url="http://127.0.0.1:9/api/oruk/", added_by="t")
    assert sync.changed_since(db, feed_store.get(db, "n")) is None  # never synced
    db.conn.execute(
        "INSERT INTO import_runs (id, file_name, sha256, source, format, imported_by, "
        "imported_at) VALUES (7, 'n.json', 'abc', 'n', 'json', 't', '2026-12-06T10:00:00Z')"
    )
    db.conn.commit()
    feed_store.synced(db, "n", began_at="2026-12-06T09:59:00Z", run_id=7)
    assert sync.changed_since(db, feed_store.get(db, "n")) == "2026-12-06T09:44:00Z"
    db.conn.execute("UPDATE import_runs SET undone_at = 'x', undone_by = 't' WHERE id = 7")
    db.conn.commit()
    assert sync.changed_since(db, feed_store.get(db, "n")) is None
    db.close()


# --- end to end: another assetmap's services imported, kept up to date, undone -------------

CHOSEN = ["--default", "kind=service", "--default", "strand=access_community_resources"]


def _sources(db_path) -> dict[str, str]:
    db = connect(db_path)
    try:
        rows = db.conn.execute(
            "SELECT source_id, name FROM assets WHERE source = 'trafford-demo' AND archived = 0"
        )
        return dict(rows.fetchall())
    finally:
        db.close()


def _runs(db_path) -> int:
    db = connect(db_path)
    try:
        return db.conn.execute("SELECT count(*) FROM import_runs").fetchone()[0]
    finally:
        db.close()


def test_a_coordinator_syncs_another_directory_keeps_it_current_and_can_undo(local, publisher):
    runner, db_path = local
    published = publisher.published
    assert runner.invoke(args=["feeds", "add", publisher.url, "--source", "trafford-demo"])

    # A preview changes nothing; the sync imports every service as one run of the source.
    preview = runner.invoke(args=["feeds", "sync", "trafford-demo", "--preview", *CHOSEN])
    assert preview.exit_code == 0, preview.output
    assert f"Preview, nothing changed: {len(published)} new" in preview.output
    assert _runs(db_path) == 0 and _sources(db_path) == {}
    first = runner.invoke(args=["feeds", "sync", "trafford-demo", *CHOSEN])
    assert first.exit_code == 0, first.output
    assert f"Imported as run 1: {len(published)} new, 0 changed" in first.output
    imported = _sources(db_path)
    assert set(imported) == {mapping.service_id(a) for a in published}
    db = connect(db_path)
    feed = feed_store.get(db, "trafford-demo")
    assert feed["last_run_id"] == 1 and feed["last_synced_at"] and not feed["last_error"]
    assert saved_mappings.newest(db, "trafford-demo")["mapping"]["defaults"]["kind"] == "service"
    db.close()

    # The other directory renames a service; the next sync (from cron: no options) asks for
    # what changed since the first and brings the new name, as run 2.
    renamed = published[0]
    publisher.rename(renamed, "Renamed by the other directory")
    publisher.seen.clear()
    second = runner.invoke(args=["feeds", "sync"])
    assert second.exit_code == 0, second.output
    assert "Imported as run 2: 0 new, 1 changed" in second.output
    db = connect(db_path)
    asked = sync.changed_since(db, feed)  # when the first sync began, less a margin
    db.close()
    assert asked < feed["last_synced_at"]
    assert f"modified_after={asked.replace(':', '%3A')}" in publisher.seen[0]
    assert _sources(db_path)[mapping.service_id(renamed)] == "Renamed by the other directory"

    # Nothing changed since: no run is added.
    third = runner.invoke(args=["feeds", "sync", "trafford-demo"])
    assert "nothing new or changed; nothing to import." in third.output and _runs(db_path) == 2

    # Undoing run 2 brings the old name back; the next sync reads everything again (its run
    # was undone, so "changed since" would miss the rename) and brings the new name back.
    undo = runner.invoke(args=["imports", "undo", "2", "--yes"])
    assert undo.exit_code == 0, undo.output
    assert _sources(db_path)[mapping.service_id(renamed)] == imported[mapping.service_id(renamed)]
    publisher.seen.clear()
    again = runner.invoke(args=["feeds", "sync", "trafford-demo"])
    assert "Imported as run 3: 0 new, 1 changed" in again.output, again.output
    assert not any("modified_after" in request for request in publisher.seen)
    assert runner.invoke(args=["feeds", "list"]).output.startswith(
        f"trafford-demo: {publisher.url} (last synced "
    )

    # The other directory archives a service: the next sync learns it was withdrawn (it is
    # published as defunct to a sync asking what changed) and closes our copy.
    withdrawn = published[1]
    publisher.archive(withdrawn)
    try:
        closing = runner.invoke(args=["feeds", "sync", "trafford-demo"])
        assert "Imported as run 4: 0 new, 1 changed" in closing.output, closing.output
        db = connect(db_path)
        status = db.conn.execute(
            "SELECT status FROM assets WHERE source_id = ?", [mapping.service_id(withdrawn)]
        ).fetchone()[0]
        db.close()
        assert status == "closed"
    finally:
        publisher.archive(withdrawn, archived=False)


STANDARD_EXAMPLE = ROOT.parent / "shared" / "openreferral-uk" / "examples" / "service_full.json"


def test_another_publishers_services_need_our_kind_and_strand_chosen_once(local):
    """The standard's own example service (another publisher's taxonomy, not ours): the first
    sync says how to choose our kind and strand and imports nothing; with them, it imports,
    and they are kept for the syncs after."""
    runner, db_path = local
    example = json.loads(STANDARD_EXAMPLE.read_text(encoding="utf-8"))
    # Its place is made up (latitude 100, postcode ABC 1234); put it in Sale, Trafford.
    location = example["service_at_locations"][0]["location"]
    location.update(latitude=53.4263, longitude=-2.3034)
    location["addresses"][0].update(postal_code="M33 7ZF", country="GB")
    with scripted(page([example])) as (_, url):
        runner.invoke(args=["feeds", "add", url, "--source", "example"])
        refused = runner.invoke(args=["feeds", "sync", "example"])
        assert refused.exit_code == 1
        assert "has no column for the kind or the strand" in refused.output
        assert "assetmap feeds sync example --default kind=service" in refused.output
        assert _runs(db_path) == 0
        chosen = runner.invoke(args=["feeds", "sync", "example", *CHOSEN])
        assert "Imported as run 1: 1 new" in chosen.output, chosen.output
        later = runner.invoke(args=["feeds", "sync", "example"])  # from cron: no options
        assert "nothing new or changed" in later.output, later.output
    db = connect(db_path)
    asset = db.conn.execute(
        "SELECT name, kind, strand FROM assets WHERE source = 'example' AND source_id = ?",
        [example["id"]],
    ).fetchone()
    db.close()
    assert tuple(asset) == (example["name"], "service", "access_community_resources")


# --- the coordinators' page -----------------------------------------------------------------


@pytest.fixture
def coordinator(local):
    """A coordinator signed in to our own directory's pages (CSRF on, as in production)."""
    _, db_path = local
    app = create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})
    client = app.test_client()
    give_session(client, db_path, add_user(db_path, "coordinator"))
    return client, db_path


def _post(client, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/manage/feeds/")})


def test_a_coordinator_adds_a_feed_on_the_page_and_bad_ones_are_refused_as_text(
    coordinator, publisher
):
    client, db_path = coordinator
    assert "No feeds yet." in client.get("/manage/feeds/").get_data(as_text=True)
    hostile = "<script>alert(1)</script>"
    bad = _post(client, "/manage/feeds/", {"url": publisher.url, "name": hostile})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "cannot be a feed&#39;s name" in page
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    with scripted(("200 OK", [], b"<html>a council page</html>")) as (_, url):
        not_oruk = _post(client, "/manage/feeds/", {"url": url, "name": "council"})
    assert not_oruk.status_code == 400
    assert "answered something that is not JSON" in not_oruk.get_data(as_text=True)
    empty = _post(client, "/manage/feeds/", {"url": "", "name": ""})
    assert empty.status_code == 400 and "Enter the address" in empty.get_data(as_text=True)
    no_token = client.post("/manage/feeds/", data={"url": publisher.url, "name": "x"})
    assert no_token.status_code == 400
    db = connect(db_path)
    assert feed_store.list_all(db) == []
    db.close()

    added = _post(client, "/manage/feeds/", {"url": publisher.url, "name": "trafford-demo"})
    assert added.status_code == 302
    page = client.get("/manage/feeds/").get_data(as_text=True)
    assert f"Added the feed trafford-demo (HSDS-UK-3.0, {PUBLISHED} services)" in page
    assert publisher.url in page and "Sync trafford-demo now" in page


def test_sync_now_shows_the_imports_preview_and_its_confirm_counts_as_the_sync(
    coordinator, publisher
):
    client, db_path = coordinator
    _post(client, "/manage/feeds/", {"url": publisher.url, "name": "trafford-demo"})
    # Our kind and strand, chosen once for the source (as confirming the import's mapping
    # step saves them): every sync uses them.
    db = connect(db_path)
    saved_mappings.save(
        db,
        "trafford-demo",
        {"defaults": {"kind": "service", "strand": "access_community_resources"}},
        saved_by="coordinator@example.org",
    )
    db.close()
    synced = _post(client, "/manage/feeds/sync", {"feed": "trafford-demo"})
    assert synced.status_code == 302 and "/manage/imports/preview/" in synced.headers["Location"]
    preview = client.get(synced.headers["Location"]).get_data(as_text=True)
    assert f"Import now: {PUBLISHED} new, 0 changed" in preview
    assert "waiting for its preview to be confirmed" in client.get("/manage/feeds/").get_data(
        as_text=True
    )
    token = synced.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    confirmed = _post(client, f"/manage/imports/preview/{token}/confirm", {})
    assert confirmed.status_code == 302
    assert len(_sources(db_path)) == PUBLISHED
    page = client.get("/manage/feeds/").get_data(as_text=True)
    assert 'href="/manage/imports/runs/1"' in page and "waiting for its preview" not in page
    db = connect(db_path)
    feed = feed_store.get(db, "trafford-demo")
    assert feed["last_run_id"] == 1 and feed["last_synced_at"] and feed["pending_sha256"] is None
    db.close()


def test_a_first_sync_on_the_page_goes_to_the_imports_step_for_choosing_columns(coordinator):
    client, _ = coordinator
    example = json.loads(STANDARD_EXAMPLE.read_text(encoding="utf-8"))
    with scripted(page([example])) as (_, url):
        _post(client, "/manage/feeds/", {"url": url, "name": "example"})
        first = _post(client, "/manage/feeds/sync", {"feed": "example"})
    assert first.status_code == 302 and first.headers["Location"].endswith("/columns")
    assert "kind" in client.get(first.headers["Location"]).get_data(as_text=True)


def test_a_feed_that_fails_on_the_page_says_why_and_keeps_it(coordinator, monkeypatch):
    client, db_path = coordinator
    monkeypatch.setattr(web_feeds, "WEB_FETCH", {"timeout": 2.0, "retries": 1, "backoff": 0})
    with scripted(page([SERVICE]), page([SERVICE]), ERROR_500) as (_, url):
        _post(client, "/manage/feeds/", {"url": url, "name": "flaky"})
        failed = _post(client, "/manage/feeds/sync", {"feed": "flaky"})
    assert failed.status_code == 302
    shown = client.get("/manage/feeds/").get_data(as_text=True)
    assert "flaky was not synced: " in shown and "answered 500" in shown
    assert "(tried 2 times)" in shown and "Never" in shown
    unknown = _post(client, "/manage/feeds/sync", {"feed": "<b>nope</b>"})
    assert unknown.status_code == 302
    assert "there is no feed named &#39;&lt;b&gt;nope&lt;/b&gt;&#39;" in client.get(
        "/manage/feeds/"
    ).get_data(as_text=True)
