"""The browser tests' own watch: a page's request to another machine never leaves this one,
and is recorded, so the tests that assert `outside_requests == []` can fail."""

from __future__ import annotations

import pytest

from tests.browser.conftest import watched_page

pytestmark = pytest.mark.browser


def test_requests_to_other_machines_are_refused_and_recorded(browser, live_server):
    page = watched_page(browser, live_server)
    why = []
    page.on("requestfailed", lambda request: why.append(request.failure))
    try:
        page.goto(f"{live_server}/login")
        page.evaluate(
            """async () => {
                for (const url of ["http://example.org/track.gif", "http://192.0.2.1/x.js"]) {
                    const image = new Image();
                    const done = new Promise((settle) => {
                        image.onerror = image.onload = settle;
                    });
                    image.src = url;
                    await done;
                }
            }"""
        )
        assert sorted(page.watch.outside_requests) == [
            "http://192.0.2.1/x.js",
            "http://example.org/track.gif",
        ]
        # Refused by the browser's dead-end proxy: never sent, whatever the network allows.
        assert why == ["net::ERR_PROXY_CONNECTION_FAILED"] * 2
    finally:
        page.context.close()
