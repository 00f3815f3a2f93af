"""The published assets an Open Referral UK request asks for (assetmap.openreferral.query
reads the request), a page at a time, in the standard's envelope.

How each filter reads, where the standard's one line leaves room:

- search: the app's keyword search (assetmap.search.nearby.keywords): any of the words, at
  the start of a word, with stemming, in the name, description, categories or organiser.
- taxonomy_term_id: services carrying that term (assetmap.openreferral.taxonomy);
  taxonomy_id: services carrying any term of that taxonomy. An id that is a UUID but no
  term's or taxonomy's finds nothing (a 200 with an empty page), as an unknown word would.
- organization_id: services whose organiser is that organization (mapping.organization_id).
- modified_after: services whose asset last changed at or after that time (ISO 8601; a time
  without an offset is UTC).
- minimum_age: services whose minimum age is at least that (no stated minimum counts as 0);
  maximum_age: services whose maximum age is at most that (no stated maximum is no limit,
  so such a service is left out).
- day, start_time, end_time: one session meets all that are given: on that day (Monday or
  MO, any case), starting at or after start_time, ending at or before end_time (HH:MM).
  Services without sessions, or without times when a time is asked, are left out.
- postcode, proximity: the services within `proximity` metres of the postcode (within the
  search's default radius when only a postcode is given), nearest first, found by the same
  code as /api/v1/search (assetmap.search.nearby), so only running services are found.
  Without a postcode the order is by name.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assetmap.openreferral import mapping
from assetmap.openreferral import taxonomy as oruk_taxonomy
from assetmap.openreferral.query import OrukQuery, Paging
from assetmap.record import schedules
from assetmap.search import nearby
from assetmap.store import assets as asset_store
from assetmap.store import published as store

if TYPE_CHECKING:
    import sqlite_utils

# Every match is read before paging when Python must check sessions or a place is searched.
_ALL = 10**9


@dataclass(frozen=True)
class Found:
    """A page of published assets (full records: the mapping keeps only public fields), when
    each last changed, and each one's distance from the postcode when one was given."""

    total: int
    records: list[dict]
    modified: dict[str, str]
    distances: dict[str, float]


def _filter(db: sqlite_utils.Database, query: OrukQuery) -> store.PublishedFilter:
    groups = []
    if query.taxonomy_term_id is not None:
        term = oruk_taxonomy.TERMS_BY_ID.get(query.taxonomy_term_id)
        groups.append(((term.field, _term_value(term)),) if term else ())
    if query.taxonomy_id is not None:
        found = oruk_taxonomy.TAXONOMIES_BY_ID.get(query.taxonomy_id)
        groups.append(tuple((t.field, _term_value(t)) for t in found.terms) if found else ())
    organisations = None
    if query.organization_id is not None:
        organisations = tuple(
            name
            for name in store.organisations(db)
            if name.strip() and mapping.organization_id(name.strip()) == query.organization_id
        )
    return store.PublishedFilter(
        term_groups=tuple(groups),
        organisations=organisations,
        modified_after=query.modified_after,
        minimum_age=query.minimum_age,
        maximum_age=query.maximum_age,
        words=nearby.keywords(query.search) if query.postcode is None else (),
    )


def _asks_sessions(query: OrukQuery) -> bool:
    return bool(query.day or query.start_time or query.end_time)


def session_fits(schedule: dict | None, query: OrukQuery) -> bool:
    """Whether one session meets the day, start_time and end_time asked (see the module)."""
    for session in schedules.sessions(schedule):
        start, end = session.get("start"), session.get("end")
        if query.day and session.get("day") != query.day:
            continue
        if query.start_time and (not start or start < query.start_time):
            continue
        if query.end_time and (not end or end > query.end_time):
            continue
        return True
    return False


def find(db: sqlite_utils.Database, query: OrukQuery) -> Found:
    """The page of published assets the request asks for, and how many there are in all.

    PostcodeError (a 422) when the postcode cannot be placed."""
    f = _filter(db, query)
    paging = query.paging
    distances: dict[str, float] = {}
    if query.postcode is not None:
        radius_km = (query.proximity or nearby.DEFAULT_RADIUS_KM * 1000) / 1000
        near = nearby.search(
            db,
            nearby.SearchQuery(postcode=query.postcode, radius_km=radius_km, q=query.search,
                               limit=_ALL),
        )  # fmt: skip
        distances = {hit.record["id"]: hit.distance_m for hit in near.hits}
        f = store.PublishedFilter(**{**vars(f), "ids": tuple(distances)})
        schedule_of = {hit.record["id"]: hit.record["schedule"] for hit in near.hits}
        kept = {asset_id for asset_id, _ in store.every(db, f)}
        ids = [
            asset_id
            for asset_id in distances  # nearest first, as the search ordered them
            if asset_id in kept
            and (not _asks_sessions(query) or session_fits(schedule_of[asset_id], query))
        ]
        total, ids = len(ids), ids[paging.offset : paging.offset + paging.per_page]
    elif _asks_sessions(query):
        ids = [
            asset_id
            for asset_id, schedule in store.every(db, f)
            if session_fits(json.loads(schedule) if schedule else None, query)
        ]
        total, ids = len(ids), ids[paging.offset : paging.offset + paging.per_page]
    else:
        ids, total = store.page(db, f, limit=paging.per_page, offset=paging.offset)
    found = asset_store.get_assets(db, ids)
    records = [found[asset_id] for asset_id in ids if asset_id in found]
    return Found(total, records, store.modified_times(db, ids), distances)


def envelope(items: list[dict], total: int, paging: Paging) -> dict:
    """A page in the standard's envelope (total_items, total_pages, page_number, ...)."""
    total_pages = math.ceil(total / paging.per_page)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": paging.page,
        "size": len(items),
        "first_page": paging.page == 1,
        "last_page": paging.page >= total_pages,
        "empty": not items,
        "contents": items,
    }


def _term_value(term) -> str | bool:
    """What the asset field holds for a term: its slug, or for a yes-or-no term, yes or no."""
    if term.field in oruk_taxonomy.YES_NO_FIELDS:
        return term.slug in oruk_taxonomy.YES_SLUGS
    return term.slug
