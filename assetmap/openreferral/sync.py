"""Syncing from another publisher: its ORUK services imported as a run of the feed's source.

A sync is an import like any other, so it has the import's preview, problems and undo: the
services read (assetmap.openreferral.feeds) are written to one JSON file in the standard's
page envelope and handed to the import pipeline (assetmap.imports.pipeline) with the feed's
name as the source. The command line previews or applies it here; the page keeps the file as
a pending upload and shows the import's own preview, and the run its confirm makes is found
afterwards by the file's SHA-256 (`settle`).

Another directory's services seldom say our kind and strand, so the first sync usually needs
them chosen, once: on the import page's mapping step, or with --default on the command line.
Either way the choice is saved as the mapping of the feed's source (store.mappings), which
every later sync uses, from cron or from the page.

After the first sync only what changed is asked for (modified_after: when the last imported
sync began reading, so nothing edited while it read is missed). If that sync's run was
undone, the next one reads everything again: importing the same services twice changes
nothing, and what the undo took away comes back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from assetmap.imports import ImportFileError, ImportOptions, ImportReport, apply, preview
from assetmap.imports.columns import ColumnsRefused
from assetmap.imports.mapping import parse_mapping
from assetmap.openreferral import feeds
from assetmap.openreferral.feeds import FeedError, Fetched
from assetmap.store import feeds as store
from assetmap.store import mappings as saved_mappings
from assetmap.store.assets import now

# modified_after is a time on our clock compared with times on the publisher's: asking from a
# little earlier keeps a clock that runs behind ours from hiding changes (services read twice
# are unchanged, which costs nothing).
CLOCK_MARGIN = timedelta(minutes=15)
# A feed's name is the source of its assets: a short slug, as sources are.
NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?")


class FeedNameError(FeedError):
    """The name given for a feed cannot be one (or is taken)."""


@dataclass
class Read:
    """One sync's services, read and written as an import file."""

    feed: dict
    began_at: str
    modified_after: str | None
    fetched: Fetched
    data: bytes

    @property
    def file_name(self) -> str:
        return f"{self.feed['name']}-{self.began_at.replace(':', '')}.json"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Synced:
    """What a sync did: what it read and its import's report (None when no service was
    read; a preview's report, with no run, when none was new or changed)."""

    read: Read
    report: ImportReport | None


def add_feed(db, url: str, name: str, *, who: str, timeout: float = 10.0) -> tuple[dict, str]:
    """Keep a feed after checking that its address answers as an ORUK API. The feed and what
    the API said it is ("HSDS-UK-3.0, 212 services"); FeedError saying what is wrong."""
    if not NAME.fullmatch(name or ""):
        raise FeedNameError(
            f"{name!r} cannot be a feed's name: use lower-case letters, digits and hyphens "
            "(up to 60), such as salford-directory; it becomes the source of its assets"
        )
    if store.get(db, name) is not None:
        raise FeedNameError(f"there is already a feed named {name}; choose another name")
    base = feeds.services_url(url).removesuffix("/services") + "/"
    words = feeds.about(base, timeout=timeout)
    try:
        return store.add(db, name=name, url=base, added_by=who), words
    except store.FeedExists:
        raise FeedNameError(f"there is already a feed named {name}; choose another name") from None


def get_feed(db, name: str) -> dict:
    """The feed of this name, with any sync confirmed on the page settled; FeedError if none."""
    feed = store.get(db, name)
    if feed is None:
        known = ", ".join(f["name"] for f in store.list_all(db)) or "none yet"
        raise FeedError(f"there is no feed named {name!r} (feeds: {known})")
    return settle(db, feed)


def list_feeds(db) -> list[dict]:
    """Every feed, settled."""
    return [settle(db, feed) for feed in store.list_all(db)]


def settle(db, feed: dict) -> dict:
    """A sync fetched on the page counts as synced once its preview was confirmed: when an
    import run of its file (by SHA-256) under the feed's source exists and was not undone."""
    if not feed["pending_sha256"]:
        return feed
    run = store.run_of(db, source=feed["name"], sha256=feed["pending_sha256"])
    if run is None or run["undone_at"] or (feed["last_run_id"] or 0) >= run["id"]:
        return feed
    store.synced(db, feed["name"], began_at=feed["pending_fetched_at"], run_id=run["id"])
    return store.get(db, feed["name"])


def changed_since(db, feed: dict) -> str | None:
    """What to ask for as modified_after: when the last imported sync began reading (less
    CLOCK_MARGIN), unless there was none or its run was undone (then everything is read
    again)."""
    if not feed["last_synced_at"] or feed["last_run_id"] is None:
        return None
    if store.run_undone(db, feed["last_run_id"]):
        return None
    began = datetime.fromisoformat(feed["last_synced_at"].replace("Z", "+00:00"))
    return (began - CLOCK_MARGIN).isoformat().replace("+00:00", "Z")


def read(db, feed: dict, *, everything: bool = False, **fetch_options) -> Read:
    """Read the feed's services (changed ones only after the first sync, unless
    `everything`); FeedError, kept as the feed's last error, when they cannot be read."""
    began_at = now()
    since = None if everything else changed_since(db, feed)
    try:
        fetched = feeds.fetch_services(feed["url"], since, **fetch_options)
    except FeedError as error:
        store.failed(db, feed["name"], str(error))
        raise
    return Read(feed, began_at, since, fetched, feeds.as_file(fetched))


def nothing_changed(db, got: Read) -> None:
    """A sync that read no service (none changed) counts as synced, with no run."""
    store.synced(db, got.feed["name"], began_at=got.began_at, run_id=None)


def waiting_for_confirm(db, got: Read) -> None:
    """A sync read on the page waits for its preview to be confirmed (see `settle`)."""
    store.fetched_for_preview(db, got.feed["name"], sha256=got.sha256, began_at=got.began_at)


def refused(db, got: Read, error: Exception) -> str:
    """The import refused a sync's file: the words, kept as the feed's last error."""
    message = (
        f"the services read from {got.feed['url']} could not be imported: {got.file_name} {error}"
    )
    store.failed(db, got.feed["name"], message)
    return message


def mapping_for(db, name: str, given: dict | None) -> tuple[dict, bool]:
    """The mapping (a mapping file's sections) a sync of this feed uses: the one saved for
    its source, with `given` (from --mapping or --default) over it; and whether it is new,
    to be saved once a sync with it is imported."""
    saved = saved_mappings.newest(db, name)
    data = dict(saved["mapping"]) if saved else {}
    for key, value in (given or {}).items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data, bool(given) and data != (saved["mapping"] if saved else {})


def sync(
    db,
    name: str,
    options: ImportOptions,
    *,
    who: str,
    preview_only: bool = False,
    archive_dir: Path | None = None,
    everything: bool = False,
    mapping: dict | None = None,
    **fetch_options,
) -> Synced:
    """Read a feed and import what it holds as one import run of its source (or only
    preview it), with the source's saved mapping and `mapping` over it (see `mapping_for`).
    FeedError, kept as the feed's last error, when it cannot be read or its file is refused
    by the import; rows the import rejects are in the report, as ever."""
    feed = get_feed(db, name)
    data, new_mapping = mapping_for(db, name, mapping)
    try:
        options = dataclasses.replace(options, source=name, mapping=parse_mapping(data))
    except ImportFileError as error:
        raise FeedError(f"the mapping for {name} {error}") from None
    got = read(db, feed, everything=everything, **fetch_options)
    if not got.fetched.services:  # the pipeline refuses a file without rows, rightly
        if not preview_only:
            nothing_changed(db, got)
        return Synced(got, None)
    with tempfile.TemporaryDirectory(prefix="assetmap-feed-") as folder:
        path = Path(folder) / got.file_name
        path.write_bytes(got.data)
        try:
            report = preview(db, path, options, file_name=got.file_name)
            if preview_only:
                return Synced(got, report)
            if not report.to_write and not report.rejected:
                # Nothing new, changed or wrong (a publisher that ignores modified_after sends
                # everything): no run, so a nightly sync does not fill the imports list.
                nothing_changed(db, got)
                return Synced(got, report)
            report = apply(
                db,
                path,
                options,
                who=who,
                archive_dir=archive_dir,
                file_name=got.file_name,
                expected_sha256=report.sha256,
            )
        except ColumnsRefused as error:
            raise FeedError(
                f"{refused(db, got, error)} Choose them once for this feed: with Sync now on "
                f"the feeds page, or with assetmap feeds sync {name} --default kind=service "
                "--default strand=access_community_resources (kept for every later sync)"
            ) from None
        except ImportFileError as error:
            raise FeedError(refused(db, got, error)) from None
    store.synced(db, name, began_at=got.began_at, run_id=report.run_id)
    if new_mapping:
        saved_mappings.save(db, name, data, saved_by=who)
    return Synced(got, report)
