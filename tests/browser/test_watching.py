"""The browser tests' own watch: a page's request to another machine never leaves this one,
and is recorded, so the tests that assert `outside_requests == []` can fail."""

from __future__ import annotations

import pytest

from tests.browser.conftest import watched_page

pytestmark = pytest.mark.browser

ELSEWHERE = "http://192.0.2.1/next"  # an address, not a name: no DNS failure to hide behind
TRACKER = "http://example.org/track.gif"


def test_requests_to_other_machines_are_refused_and_recorded(browser, live_server):
    page = watched_page(browser, live_server)
    why = {}
    page.on("requestfailed", lambda request: why.setdefault(request.url, request.failure))
    try:
        page.goto(f"{live_server}/login")
        # An image from elsewhere, which the site's policy stops before any proxy.
        with page.expect_event("requestfailed", lambda request: request.url == TRACKER):
            page.evaluate(f"new Image().src = {TRACKER!r}")
        # A navigation the page starts itself, which no Content Security Policy stops: the
        # browser's dead-end proxy refuses it, so it is never sent, whatever the network.
        with page.expect_event("requestfailed", lambda request: request.url == ELSEWHERE):
            page.evaluate(f"location.href = {ELSEWHERE!r}")
        assert sorted(page.watch.outside_requests) == sorted([ELSEWHERE, TRACKER])
        assert why == {ELSEWHERE: "net::ERR_PROXY_CONNECTION_FAILED", TRACKER: "csp"}
    finally:
        page.context.close()
