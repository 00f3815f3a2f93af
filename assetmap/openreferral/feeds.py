"""Reading another publisher's Open Referral UK 3.0 API: every page of its /services.

Another directory's server is outside our control and may be down, slow, overloaded, wrong or
hostile. So every request has a time limit (for the whole answer, not only for each read, so a
server that trickles bytes is cut off too), a server error or a dropped connection is tried
again after a pause that doubles each time (a 4xx is not: asking again will not change it,
except 429, which asks us to wait), and an answer's size is checked against what is left of
`max_bytes` before it is read (by its Content-Length) and while it is read (a server need not
say, or may lie). Every failure is a FeedError whose words name the address and what went
wrong, for a coordinator to act on.

The pages are gathered into one page in the standard's envelope (`as_file`), which is handed
to the import pipeline like any saved /services page (assetmap.openreferral.sync).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 2.0
DEFAULT_MAX_PAGES = 1000
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
PER_PAGE = 100
CHUNK = 64 * 1024
USER_AGENT = "assetmap-feeds (Open Referral UK sync)"
# The standard's page envelope (components/schemas/Page in its openapi.json), with contents.
ENVELOPE = ("total_items", "total_pages", "page_number", "contents")


class FeedError(Exception):
    """A feed that could not be read. The message is whole: it names the address and says
    what went wrong, so it can be shown to a coordinator as it is."""


class _TryAgain(Exception):
    """A failure that may pass: a server error, a dropped connection, a time-out."""


@dataclass
class Fetched:
    """What a sync read: every service of every page, and how much was read."""

    services: list[dict] = field(default_factory=list)
    pages: int = 0
    bytes_read: int = 0
    attempts: int = 0


def services_url(base_url: str) -> str:
    """The /services address of an ORUK API given by its base address (".../api/oruk/"),
    or by its /services address itself."""
    base = base_url.strip()
    parts = urllib.parse.urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FeedError(
            f"{base_url} is not a web address: give the ORUK API's address starting with "
            "http:// or https://, such as https://example.org/api/oruk/"
        )
    path = parts.path.rstrip("/")
    if not path.endswith("/services"):
        path += "/services"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def page_url(base_url: str, page: int, per_page: int, modified_after: str | None) -> str:
    query = {"page": page, "per_page": per_page}
    if modified_after:
        query["modified_after"] = modified_after
    return f"{services_url(base_url)}?{urllib.parse.urlencode(query)}"


def fetch_services(
    base_url: str,
    modified_after: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
    max_pages: int = DEFAULT_MAX_PAGES,
    max_bytes: int = DEFAULT_MAX_BYTES,
    per_page: int = PER_PAGE,
    sleep: Callable[[float], None] = time.sleep,
    max_seconds: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Fetched:
    """Every service on every page of the API's /services (changed after `modified_after`,
    an ISO 8601 time, when given), following total_pages. FeedError when a page cannot be
    had after `retries` more tries, is not the standard's page, or the pages together would
    pass `max_pages` or `max_bytes`, or reading them all would take longer than
    `max_seconds` (a web page's sync: no request may be held for minutes)."""
    fetched = Fetched()
    page, total_pages = 1, 1
    started = clock()
    while page <= total_pages:
        if max_seconds is not None and page > 1 and clock() - started > max_seconds:
            raise FeedError(
                f"{services_url(base_url)} has {total_pages} pages of {per_page} services, more "
                f"than a page can read in {max_seconds:g} seconds (it read {page - 1}); "
                "nothing was imported. Sync it from the command line, "
                "`assetmap feeds sync NAME`, or nightly from cron"
            )
        if page > max_pages:
            raise FeedError(
                f"{services_url(base_url)} has {total_pages} pages of {per_page} services, more "
                f"than the {max_pages} pages a sync reads; nothing was imported"
            )
        url = page_url(base_url, page, per_page, modified_after)
        body = _get(url, fetched, timeout, retries, backoff, max_bytes, sleep)
        envelope = _page(url, body)
        fetched.services.extend(envelope["contents"])
        fetched.pages += 1
        total_pages = envelope["total_pages"]
        if not envelope["contents"]:
            break  # a server whose count is wrong must not keep us asking for empty pages
        page += 1
    fetched.services = _once_each(fetched.services)
    return fetched


def _once_each(services: list[dict]) -> list[dict]:
    """Each service once, as last read: a service edited while the pages were read can move
    from one page to the next and be seen twice."""
    by_id: dict = {}
    without_id = []
    for service in services:
        key = service.get("id")
        if isinstance(key, str) and key:
            by_id.pop(key, None)
            by_id[key] = service
        else:
            without_id.append(service)  # the import says what is wrong with it
    return [*by_id.values(), *without_id]


def as_file(fetched: Fetched) -> bytes:
    """Every service read, as one page in the standard's envelope (UTF-8 JSON)."""
    count = len(fetched.services)
    envelope = {
        "total_items": count,
        "total_pages": 1,
        "page_number": 1,
        "size": count,
        "first_page": True,
        "last_page": True,
        "empty": not count,
        "contents": fetched.services,
    }
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8")


def about(base_url: str, *, timeout: float = DEFAULT_TIMEOUT, retries: int = 1) -> str:
    """Check that an address is an ORUK API before it is kept as a feed: its root answers
    the standard's version, or its /services answers a page. The words to say what it is
    ("HSDS-UK-3.0, 212 services"); FeedError saying what it answered instead."""
    services = services_url(base_url)
    root = services.removesuffix("/services") + "/"
    fetched = Fetched()
    version = None
    try:
        body = _get(root, fetched, timeout, retries, 0.5, 1024 * 1024, time.sleep)
        answer = json.loads(body)
        if isinstance(answer, dict) and isinstance(answer.get("version"), str):
            version = answer["version"]
    except (FeedError, ValueError, RecursionError):
        pass  # the root is optional in practice: /services decides
    first = page_url(base_url, 1, 1, None)
    envelope = _page(first, _get(first, fetched, timeout, retries, 0.5, 10 * 1024**2, time.sleep))
    count = f"{envelope['total_items']} services"
    return f"{version}, {count}" if version else count


def _get(
    url: str,
    fetched: Fetched,
    timeout: float,
    retries: int,
    backoff: float,
    max_bytes: int,
    sleep: Callable[[float], None],
) -> bytes:
    """One answer's body, tried again after a server error, a dropped connection or a
    time-out (waiting backoff, then twice that, ...). Counts what was read in `fetched`."""
    for attempt in range(retries + 1):
        fetched.attempts += 1
        try:
            body = _read(url, timeout, max_bytes - fetched.bytes_read)
        except _TryAgain as failure:
            if attempt == retries:
                tries = f" (tried {retries + 1} times)" if retries else ""
                raise FeedError(f"{url} {failure}{tries}; nothing was imported") from None
            sleep(backoff * 2**attempt)
            continue
        fetched.bytes_read += len(body)
        return body
    raise AssertionError("unreachable")  # pragma: no cover


# Web addresses only, also after a redirect: no file://, ftp:// or data: read on a server's say.
_OPENER = urllib.request.OpenerDirector()
for _handler in (
    urllib.request.ProxyHandler(),
    urllib.request.HTTPHandler(),
    urllib.request.HTTPSHandler(),
    urllib.request.HTTPRedirectHandler(),
    urllib.request.HTTPDefaultErrorHandler(),
    urllib.request.HTTPErrorProcessor(),
    urllib.request.UnknownHandler(),
):
    _OPENER.add_handler(_handler)


def _read(url: str, timeout: float, budget: int) -> bytes:
    """One GET, read whole within `timeout` seconds and `budget` bytes."""
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
    )
    deadline = time.monotonic() + timeout
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.strip().isdigit() and int(length) > budget:
                raise FeedError(_too_big(url, budget, int(length)))
            chunks, size = [], 0
            while chunk := response.read1(CHUNK):
                size += len(chunk)
                if size > budget:
                    raise FeedError(_too_big(url, budget))
                if time.monotonic() > deadline:
                    raise _TryAgain(f"did not finish answering within {timeout:g} seconds")
                chunks.append(chunk)
            return b"".join(chunks)
    except urllib.error.HTTPError as error:
        error.close()  # it holds the connection
        words = f"answered {error.code} {error.reason}"
        if error.code >= 500 or error.code == 429:
            raise _TryAgain(words) from None
        hint = (
            " (is this the API's address? it should end in /api/oruk/ or similar)"
            if error.code == 404
            else ""
        )
        raise FeedError(f"{url} {words}{hint}; nothing was imported") from None
    except urllib.error.URLError as error:
        raise _TryAgain(f"could not be reached: {_reason(error.reason)}") from None
    except TimeoutError:
        raise _TryAgain(f"did not answer within {timeout:g} seconds") from None
    except (ConnectionError, http.client.HTTPException, OSError) as error:
        raise _TryAgain(f"broke off its answer: {_reason(error)}") from None


def _reason(reason) -> str:
    if isinstance(reason, TimeoutError):
        return "no answer in time"
    return str(getattr(reason, "strerror", None) or reason or type(reason).__name__)


def _too_big(url: str, budget: int, said: int | None = None) -> str:
    size = f" ({said / 1024**2:.1f} MB)" if said is not None else ""
    return (
        f"{url} answered more than the {max(budget, 0) / 1024**2:.1f} MB a sync may still "
        f"read{size}; nothing was imported. Ask the publisher for smaller pages, or sync "
        "changes only"
    )


def _page(url: str, body: bytes) -> dict:
    """The page envelope of an answer, or FeedError saying why it is not one."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        # What it is, not what it says: the answer of an address on the server's network is
        # not shown to whoever typed the address.
        what = "a web page" if body.lstrip()[:1] == b"<" else "text" if body.strip() else "nothing"
        raise FeedError(
            f"{url} answered something that is not JSON ({what}); is this the address of an "
            "Open Referral UK API?"
        ) from None
    if not isinstance(answer, dict) or not all(k in answer for k in ENVELOPE):
        has = ", ".join(list(answer)[:8]) if isinstance(answer, dict) else type(answer).__name__
        raise FeedError(
            f"{url} answered JSON that is not a page of Open Referral UK services (it has "
            f"{has or 'nothing'}, where a page has {', '.join(ENVELOPE)})"
        )
    contents, total_pages = answer["contents"], answer["total_pages"]
    if not isinstance(contents, list) or not all(isinstance(s, dict) for s in contents):
        raise FeedError(f"{url} answered a page whose contents is not a list of services")
    if not _whole(total_pages) or not _whole(answer["total_items"]):
        raise FeedError(
            f"{url} answered a page whose total_pages or total_items is not a whole number"
        )
    return answer


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
