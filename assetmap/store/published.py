"""SQL for the Open Referral UK API: which published assets match a request, and when each
last changed.

Published means not archived (closed assets are published, as "defunct"; see
assetmap.openreferral.publish). A request that asks what changed since a time
(`modified_after`, as a sync does) also gets the assets archived since then, as "defunct", so
that a directory copying ours learns that they were withdrawn. The rules of each filter are
the standard's, as assetmap.openreferral.query reads them; this module only states them in
SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assetmap.store import dialect

if TYPE_CHECKING:
    import sqlite_utils

_LIST_FIELDS = frozenset({"categories", "audiences"})
_SCALAR_FIELDS = frozenset({"strand", "approach", "kind"})
# Yes-or-no fields, whose terms the filter is given as True or False.
_YES_NO_FIELDS = frozenset({"self_referral", "link_worker_referral"})
PUBLISHED = "archived = 0"


@dataclass(frozen=True)
class PublishedFilter:
    """What an ORUK request asks for; every part optional.

    `term_groups`: each group is (field, slug) pairs of which the asset must carry any; every
    group must be met (an empty group matches nothing: an unknown term or taxonomy).
    `organisations`: the organiser names that count (None: any). `words`: an FTS5 query for
    assets_fts. `ids`: only these assets (None: any).
    """

    term_groups: tuple[tuple[tuple[str, str], ...], ...] = ()
    organisations: tuple[str, ...] | None = None
    modified_after: str | None = None  # ISO 8601 UTC, as updated_at is stored
    minimum_age: int | None = None
    maximum_age: int | None = None
    words: tuple[str, ...] = ()  # any of them (assetmap.search.nearby.keywords)
    ids: tuple[str, ...] | None = None


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def _term_group(db, group: tuple[tuple[str, str], ...], params: list) -> str:
    parts = []
    for field in sorted({f for f, _ in group}):
        slugs = [slug for f, slug in group if f == field]
        if field in _LIST_FIELDS:
            parts.append(
                f"EXISTS (SELECT 1 FROM {dialect.json_text_values(db, field)}"
                f" WHERE value IN ({_marks(slugs)}))"
            )
        elif field in _SCALAR_FIELDS:
            parts.append(f"{field} IN ({_marks(slugs)})")
        elif field in _YES_NO_FIELDS:
            slugs = [int(bool(value)) for value in slugs]
            parts.append(f"{field} IN ({_marks(slugs)})")
        else:
            raise ValueError(f"{field} is not a field a term is published from")
        params.extend(slugs)
    return "(" + " OR ".join(parts) + ")" if parts else "1 = 0"  # (PostgreSQL takes no bare 0)


def _where(db, f: PublishedFilter) -> tuple[str, list]:
    clauses, params = ([PUBLISHED] if f.modified_after is None else []), []
    for group in f.term_groups:
        clauses.append(_term_group(db, group, params))
    if f.organisations is not None:  # none known: nothing matches (PostgreSQL takes no `IN ()`)
        clauses.append(
            f"organisation IN ({_marks(f.organisations)})" if f.organisations else "1 = 0"
        )
        params.extend(f.organisations)
    if f.modified_after is not None:
        clauses.append("updated_at >= ?")
        params.append(f.modified_after)
    if f.minimum_age is not None:  # no stated minimum is a minimum of 0
        clauses.append("coalesce(min_age, 0) >= ?")
        params.append(f.minimum_age)
    if f.maximum_age is not None:  # no stated maximum is no limit
        clauses.append("max_age IS NOT NULL AND max_age <= ?")
        params.append(f.maximum_age)
    if f.words:
        condition, words = dialect.search_store(db).words_condition(f.words)
        clauses.append(condition)
        params.extend(words)
    if f.ids is not None:
        clauses.append(f"id IN (SELECT value FROM {dialect.json_text_values(db, '?')})")
        params.append(_json_list(f.ids))
    return " WHERE " + (" AND ".join(clauses) or "1 = 1"), params


def _order(db) -> str:
    return f" ORDER BY {dialect.by_name(db)}, id"


def _json_list(values: Iterable[str]) -> str:
    return json.dumps(list(values))


def page(
    db: sqlite_utils.Database, f: PublishedFilter, *, limit: int, offset: int
) -> tuple[list[str], int]:
    """One page of matching asset ids, by name then id, and how many match in all."""
    where, params = _where(db, f)
    total = db.conn.execute(f"SELECT count(*) FROM assets{where}", params).fetchone()[0]
    rows = db.conn.execute(
        f"SELECT id FROM assets{where}{_order(db)} LIMIT ? OFFSET ?", [*params, limit, offset]
    )
    return [row[0] for row in rows], total


def every(db: sqlite_utils.Database, f: PublishedFilter) -> list[tuple[str, str | None]]:
    """Every matching asset as (id, schedule JSON), by name then id, for filters that Python
    applies to the sessions (days and times)."""
    where, params = _where(db, f)
    rows = db.conn.execute(f"SELECT id, schedule FROM assets{where}{_order(db)}", params)
    return [(row[0], row[1]) for row in rows]


def modified_times(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, str]:
    """When each asset last changed (updated_at: ISO 8601 UTC), by id."""
    rows = db.conn.execute(
        "SELECT id, updated_at FROM assets WHERE id IN "
        f"(SELECT value FROM {dialect.json_text_values(db, '?')})",
        [_json_list(ids)],
    )
    return {row[0]: row[1] for row in rows if row[1]}


def organisations(db: sqlite_utils.Database) -> list[str]:
    """Every organiser name among published assets, as typed."""
    sql = f"SELECT DISTINCT organisation FROM assets WHERE {PUBLISHED} AND organisation != ''"
    return [row[0] for row in db.conn.execute(sql)]


def published_ids(db: sqlite_utils.Database) -> Iterator[str]:
    """The id of every published asset (only the id column is read)."""
    for (asset_id,) in db.conn.execute(f"SELECT id FROM assets WHERE {PUBLISHED}"):
        yield asset_id
