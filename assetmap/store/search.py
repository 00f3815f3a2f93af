"""All search SQL: running assets within a circle, counted and ordered by great-circle distance.

Candidates come from the `assets_nearby` index (migration 3, widened by a later one), a B-tree
over (latitude band, longitude, latitude, strand, kind, cost, self-referral, id, last check,
status, archived) holding only running assets (active, not archived: see
assetmap/store/visibility.py). A circle's bounding box is one short run of that index per 0.01°
band of latitude (about 1.1 km), and each run already holds every column the common filters,
the distance and the ranking of stale listings need, so counting thousands of candidates reads
a few index pages in order. (Status and archived are in it because SQLite 3.40 does not count a
partial index's WHERE columns as held by it: without them every candidate was a seek into the
table.) The R*Tree (`assets_rtree`) answers "what is in this box" just as well,
but then every candidate costs a random seek into the wide `assets` table to learn its strand
and status: in a busy town centre among a million assets (25,000 candidates in the box) that
took 30 to 65 ms just to count the box, against 6 ms here for the exact count, distances
included.

Keywords turn this around. An FTS5 prefix query (`"garden"*`, as every word typed is asked)
reads every match in the country before it can be set against the circle: a common word
among a million assets is 25,000 to 150,000 matches, 2 to 8 ms before anything else. So a
keyword search asks `assets_nearby_fts` instead (migration 7: the same words, indexed under a
rowid that puts the asset's 0.01° band of latitude and 0.01° step of longitude above its rid;
see assetmap/store/schema.py). One range of those rowids, from the circle's first band to its
last, holds every asset in the circle's bands; FTS5 reads only the matches in that range (it
seeks within each word's list of rowids), the step of longitude leaves out those east or west
of the box, and each match left is one lookup of its row by rid. A whole band of latitude is
read even where the box is narrow, but that is a few hundred matches, not the country's.

Every word is asked as a prefix, and FTS5 (3.40) answers a prefix by merging the lists of
every term that starts with it, for the whole country, before any range applies. Most words
people type are the only term with their prefix ("gardening" is indexed as "garden", and no
other term starts "garden"), and then the word without the star finds exactly the same
assets and lets FTS5 seek straight into the range. So each word is tokenized as the index
does (an FTS5 table in memory with the same tokenizer), and `assets_nearby_terms` (fts5vocab,
one row per occurrence, so its first row costs one occurrence, not a count of them all) is asked
whether any other term starts with it: 0.02 to 0.1 ms. The star stays whenever one does, or
when the word makes several terms ("men's", "tai-chi").

Hits come back as plain tuples (id, distance_m, rid), nearest first and then by id; the rid
fetches the page's full records without a second index lookup.

The distance is computed here in SQL with the very same operations, in the same order, as
`assetmap.search.nearby.haversine_m`, from the same IEEE doubles, so SQL and Python agree to
the last bit: SQLite's sin, cos, asin and sqrt are the C library's, as Python's are. Where
SQLite was built without its math functions, Python's own are registered under the same names.
"""

from __future__ import annotations

import functools
import json
import math
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assetmap.record.fields import FIELD_NAMES
from assetmap.store.assets import from_row
from assetmap.store.schema import FTS_TOKENIZER, NEARBY_CELLS, NEARBY_MAX_RID, NEARBY_RID_BITS
from assetmap.store.visibility import RUNNING

if TYPE_CHECKING:
    import sqlite_utils

Box = tuple[float, float, float, float]  # (min_lon, min_lat, max_lon, max_lat), as GeoJSON

# The index expression of assets_nearby, written exactly as in the migration (SQLite uses an
# index on an expression only when the query repeats the expression).
BANDS_PER_DEGREE = 100
_BAND = "CAST((a.lat + 90) * 100 AS INTEGER)"
_COLUMNS = ", ".join(FIELD_NAMES)
_RID_MASK = NEARBY_MAX_RID
_MAX_BAND = 180 * BANDS_PER_DEGREE
_MAX_CELL = NEARBY_CELLS - 1

# Haversine, as assetmap.search.nearby.haversine_m computes it, its numbers named as in `Haversine`.
_DISTANCE = (
    "(:diameter * asin(sqrt(min(1.0,"
    " sin((a.lat - :lat) * :half_rad) * sin((a.lat - :lat) * :half_rad)"
    " + :cos_lat * cos(a.lat * :rad)"
    " * sin((a.lon - :lon) * :half_rad) * sin((a.lon - :lon) * :half_rad)))))"
)


@dataclass(frozen=True)
class Haversine:
    """The numbers of the distance from a centre, as assetmap.search.nearby.haversine_m has them:
    the centre, the cosine of its latitude, degrees to radians (and half that) and the
    Earth's diameter. Given as numbers, not computed in SQL, so that SQL and Python use the
    very same doubles."""

    lat: float
    lon: float
    cos_lat: float
    rad: float
    half_rad: float
    diameter: float


@dataclass(frozen=True)
class Circle:
    """Where to search, worked out by assetmap.search.nearby.

    `boxes` cover the circle (one box, or two across the 180° meridian); `inner` is a box
    wholly inside it, whose assets need no distance computed to be counted.
    """

    radius_m: float
    boxes: tuple[Box, ...]
    inner: Box | None
    distance: Haversine


@dataclass(frozen=True)
class Conditions:
    """The filters that SQL applies. Empty tuples and None mean "any"."""

    strands: tuple[str, ...] = ()
    approaches: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # any of them
    audiences: tuple[str, ...] = ()  # any of them, "everyone", or none stated
    accessibility: tuple[str, ...] = ()  # all of them
    age: int | None = None
    free: bool = False
    self_referral: bool = False
    # Keywords (see assetmap.search.nearby.keywords): any of them found. The nearby search
    # asks one word at a time, to know which words each asset matched.
    words: tuple[str, ...] = ()
    # Only assets checked on or after this ISO date (never checked ones are left out too):
    # ASSETMAP_HIDE_UNCHECKED_AFTER_MONTHS (assetmap.freshness.stale). None: any.
    checked_since: str | None = None


@dataclass(frozen=True)
class PageRule:
    """Which page of a search, in which order, as assetmap.search.nearby orders hits (its
    `_Ranking.fresh_first` and `_search_all`): nearest first is by band of `band_m` metres,
    fresh before stale (checked before `stale_before`, an ISO date, or never), then nearest,
    then id; several words put those matching more of them first; best match first is by
    relevance, then nearest, then id."""

    offset: int
    limit: int
    stale_before: str
    band_m: float
    by_relevance: bool = False


@dataclass(frozen=True)
class FoundPage:
    """A search's total and one page: hits (id, distance, rid) in order, the words each hit
    matched (by rid, as typed, in the order typed), and the page's records by rid (None when
    they were not asked for)."""

    total: int
    hits: list[tuple[str, float, int]]
    matched: dict[int, tuple[str, ...]]
    records: dict[int, dict] | None


def find_page(
    db: sqlite_utils.Database,
    circle: Circle,
    conditions: Conditions,
    rule: PageRule,
    *,
    with_records: bool = True,
) -> FoundPage | None:
    """None: on SQLite a search is answered step by step (assetmap.search.nearby: the count,
    then rings of the nearest until they hold the page, then the records), because statements
    run in process and cost microseconds, and each step reads only the index pages it needs.
    store/postgres_search.py's `find_page` answers in one statement instead, since there
    every statement is a round trip to the server."""
    return None


def fts_phrase(word: str) -> str:
    """A word as an FTS5 string ("men's" -> "\"men's\""): quotes doubled, so that FTS5 reads
    it as text, never as syntax."""
    return '"' + word.replace('"', '""') + '"'


def match_query(words: tuple[str, ...]) -> str | None:
    """The FTS5 query for keywords, matching any of them, or None when there are none.

    Each word becomes a quoted string with a prefix star ("men's"*, "tai-chi"*), so FTS5 reads
    it as text, never as syntax: quotes are doubled, and AND, OR, NOT, NEAR, brackets, colons
    and stars are just characters inside a string; the OR between them is the only syntax.
    """
    return " OR ".join(fts_phrase(word) + "*" for word in words) or None


def words_condition(words: tuple[str, ...]) -> tuple[str, list[str]]:
    """For other store functions (the listing API's text filter): SQL that an asset matches any
    of the words as a search matches them, and its parameters (postgres_search has the same)."""
    if not words:
        return "0", []
    return "rid IN (SELECT rowid FROM assets_fts WHERE assets_fts MATCH ?)", [match_query(words)]


@contextmanager
def snapshot(db: sqlite_utils.Database):
    """Read the block's queries from one state of the database (a read transaction), so a
    count and the page that follows it agree even while someone saves an asset."""
    if db.conn.in_transaction:  # already inside the caller's transaction
        yield db
        return
    db.conn.execute("BEGIN")
    try:
        yield db
    finally:
        db.conn.execute("COMMIT")


_math_built_in: bool | None = None


def _cursor(db: sqlite_utils.Database) -> sqlite3.Cursor:
    """A cursor giving plain tuples (a sqlite3.Row looks every column up by name, which
    costs more than the search itself for a page of wide records), with sin, cos, asin and
    sqrt available to SQL."""
    global _math_built_in
    conn = db.conn
    if _math_built_in is None:
        try:
            conn.execute("SELECT asin(sqrt(sin(0.5) * cos(0.5)))")
            _math_built_in = True
        except sqlite3.OperationalError:
            _math_built_in = False
    if not _math_built_in:
        for name in ("sin", "cos", "asin", "sqrt"):
            conn.create_function(name, 1, getattr(math, name), deterministic=True)
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor


_tokenizer_lock = threading.Lock()
_tokenizer: sqlite3.Connection | None = None


@functools.lru_cache(maxsize=4096)
def index_terms(word: str) -> tuple[str, ...]:
    """The terms the full-text indexes make of a word, in order ("Gardening" -> ("garden",),
    "men's" -> ("men", "s")): FTS5 tokenizes it in a scratch table in memory with the same
    tokenizer, so nothing here reimplements stemming."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            conn.execute(f"CREATE VIRTUAL TABLE words USING fts5(word, tokenize='{FTS_TOKENIZER}')")
            conn.execute("CREATE VIRTUAL TABLE word_terms USING fts5vocab(words, instance)")
            _tokenizer = conn
        _tokenizer.execute("INSERT INTO words (rowid, word) VALUES (1, ?)", [word])
        try:
            rows = _tokenizer.execute("SELECT term FROM word_terms ORDER BY offset")
            return tuple(term for (term,) in rows)
        finally:
            _tokenizer.execute("DELETE FROM words")


def _nearby_match(cursor: sqlite3.Cursor, conditions: Conditions) -> str | None:
    """The query for assets_nearby_fts: `match_query`, without the star on each word that is
    the only term starting with itself (see the module docstring), which finds the same assets."""
    if not conditions.words:
        return None
    phrases = []
    for word in conditions.words:
        terms = index_terms(word)
        alone = len(terms) == 1 and not _longer_term_exists(cursor, terms[0])
        phrases.append(fts_phrase(word) + ("" if alone else "*"))
    return " OR ".join(phrases)


def _longer_term_exists(cursor: sqlite3.Cursor, term: str) -> bool:
    """Whether the index holds a term that starts with `term` and is longer.

    The bounds are the byte strings just after `term` and after every term starting with it
    (no term holds a control character or U+10FFFF), so that fts5vocab starts at the first
    longer term and stops at the first other one without reading `term`'s own occurrences.
    """
    found = cursor.execute(
        "SELECT 1 FROM assets_nearby_terms WHERE term >= ? AND term <= ? LIMIT 1",
        [term + "\x01", term + "\U0010ffff"],
    )
    return found.fetchone() is not None


def records(db: sqlite_utils.Database, rids: list[int]) -> dict[int, dict]:
    """The full records of a page of hits, by rid."""
    if not rids:
        return {}
    marks = ", ".join("?" for _ in rids)
    rows = _cursor(db).execute(f"SELECT rid, {_COLUMNS} FROM assets WHERE rid IN ({marks})", rids)
    return {row[0]: from_row(dict(zip(FIELD_NAMES, row[1:], strict=True))) for row in rows}


def _in(column: str, name: str, values: tuple[str, ...], params: dict) -> str:
    marks = []
    for i, value in enumerate(values):
        params[f"{name}{i}"] = value
        marks.append(f":{name}{i}")
    return f"{column} IN ({', '.join(marks)})"


def _where(conditions: Conditions, params: dict) -> str:
    """SQL for the conditions (ANDed, after the place and running-asset terms)."""
    c = conditions
    clauses = []
    if c.strands:
        clauses.append(_in("a.strand", "strand", c.strands, params))
    if c.approaches:
        clauses.append(_in("a.approach", "approach", c.approaches, params))
    if c.kinds:
        clauses.append(_in("a.kind", "kind", c.kinds, params))
    if c.free:
        clauses.append("a.cost = 'free'")
    if c.self_referral:
        clauses.append("a.self_referral = 1")
    if c.categories:
        inside = _in("value", "category", c.categories, params)
        clauses.append(f"EXISTS (SELECT 1 FROM json_each(a.categories) WHERE {inside})")
    if c.audiences:
        inside = _in("value", "audience", (*c.audiences, "everyone"), params)
        clauses.append(
            f"(a.audiences = '[]' OR EXISTS (SELECT 1 FROM json_each(a.audiences) WHERE {inside}))"
        )
    for i, need in enumerate(c.accessibility):
        params[f"access{i}"] = need
        clauses.append(
            f"EXISTS (SELECT 1 FROM json_each(a.accessibility) WHERE value = :access{i})"
        )
    if c.age is not None:
        params["age"] = c.age
        clauses.append("(a.min_age IS NULL OR a.min_age <= :age)")
        clauses.append("(a.max_age IS NULL OR a.max_age >= :age)")
    if c.checked_since is not None:
        params["checked_since"] = c.checked_since
        clauses.append("a.last_verified >= :checked_since")
    return "".join(f" AND {clause}" for clause in clauses)


def checked_dates(db: sqlite_utils.Database, rids: list[int]) -> dict[int, str | None]:
    """Each asset's last_verified by rid, for ranking stale listings after fresh ones
    (assetmap.freshness.stale)."""
    found: dict[int, str | None] = {}
    cursor = _cursor(db)
    for start in range(0, len(rids), 500):  # within SQLite's limit on parameters
        chunk = rids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = cursor.execute(
            f"SELECT rid, last_verified FROM assets WHERE rid IN ({marks})", chunk
        )
        found.update(rows)
    return found


def _in_box(box: Box, conditions: Conditions, params: dict, match: str | None = None) -> str:
    """FROM and WHERE for the running assets in a box that meet the conditions: by keyword
    first when there is a `match` for assets_nearby_fts, otherwise one run of the place index
    per band."""
    min_lon, min_lat, max_lon, max_lat = box
    params.update(min_lon=min_lon, max_lon=max_lon, min_lat=min_lat, max_lat=max_lat)
    # One band (and step of longitude) more on each side than the arithmetic says, so that
    # rounding never loses one; the tests of latitude and longitude that follow are exact.
    first = int((min_lat + 90) * BANDS_PER_DEGREE) - 1
    last = int((max_lat + 90) * BANDS_PER_DEGREE) + 1
    exact = (
        " AND a.lon BETWEEN :min_lon AND :max_lon AND a.lat BETWEEN :min_lat AND :max_lat"
        f" AND {RUNNING}{_where(conditions, params)}"
    )
    if match:
        return _matches_in_bands(first, last, box, match, params) + exact
    # The bands are an IN list, not a join: SQLite 3.40 plans a join to the expression index
    # with a Bloom filter that both scans the whole table and loses rows.
    params["bands"] = json.dumps(list(range(first, last + 1)))
    return f" FROM assets AS a WHERE {_BAND} IN (SELECT value FROM json_each(:bands)){exact}"


def _matches_in_bands(first: int, last: int, box: Box, match: str, params: dict) -> str:
    """FROM and the start of WHERE for the keyword's matches in bands first to last and
    within the box's steps of longitude, each joined to its row (see the module docstring)."""
    first_cell = max(0, int((box[0] + 180) * BANDS_PER_DEGREE) - 1)
    last_cell = min(_MAX_CELL, int((box[2] + 180) * BANDS_PER_DEGREE) + 1)
    first, last = max(0, first), min(_MAX_BAND, last)
    params.update(
        match=match,
        first_key=(first * NEARBY_CELLS + first_cell) << NEARBY_RID_BITS,
        last_key=((last * NEARBY_CELLS + last_cell) << NEARBY_RID_BITS) | _RID_MASK,
        first_cell=first_cell,
        last_cell=last_cell,
    )
    return (
        f" FROM (SELECT rowid & {_RID_MASK} AS rid FROM assets_nearby_fts"
        " WHERE assets_nearby_fts MATCH :match AND rowid BETWEEN :first_key AND :last_key"
        f" AND (rowid >> {NEARBY_RID_BITS}) % {NEARBY_CELLS} BETWEEN :first_cell AND :last_cell)"
        " AS hit CROSS JOIN assets AS a ON a.rid = hit.rid WHERE 1"
    )


def _parameters(circle: Circle, **more) -> dict:
    return {**vars(circle.distance), "radius": circle.radius_m, **more}


def _by_distance(hit: tuple) -> tuple:
    return hit[1], hit[0]


def count_within(db: sqlite_utils.Database, circle: Circle, conditions: Conditions) -> int:
    """How many running assets meeting the conditions lie within the circle (edge included)."""
    cursor = _cursor(db)
    match = _nearby_match(cursor, conditions)
    total = 0
    for box in circle.boxes:
        params = _parameters(circle)
        sql = f"SELECT count(*){_in_box(box, conditions, params, match)}"
        if circle.inner is not None:
            # Inside the inner box the answer is known; only the rest needs the distance.
            ix0, iy0, ix1, iy1 = circle.inner
            params.update(in_min_lon=ix0, in_min_lat=iy0, in_max_lon=ix1, in_max_lat=iy1)
            sql += (
                " AND ((a.lat BETWEEN :in_min_lat AND :in_max_lat"
                f" AND a.lon BETWEEN :in_min_lon AND :in_max_lon) OR {_DISTANCE} <= :radius)"
            )
        else:
            sql += f" AND {_DISTANCE} <= :radius"
        total += cursor.execute(sql, params).fetchone()[0]
    return total


def all_within(
    db: sqlite_utils.Database,
    circle: Circle,
    conditions: Conditions,
    *,
    schedules: bool = False,
    checked: bool = False,
) -> list[tuple]:
    """Every hit within the circle, with the schedule's JSON as a fourth item when `schedules`
    is true (for the day and time filters, which Python applies: assetmap.record.schedules),
    and last_verified as the last item when `checked` is true (for ranking stale listings,
    one query fewer than `checked_dates`: the nearby index holds it; for keywords the row is
    looked up anyway).

    For keyword searches this one pass is quicker than a count and then the nearest: the
    slow part is reading the keyword's matches from the FTS index, and this reads them once.
    """
    cursor = _cursor(db)
    match = _nearby_match(cursor, conditions)
    extra = (", a.schedule" if schedules else "") + (", a.last_verified" if checked else "")
    found: list[tuple] = []
    for box in circle.boxes:
        params = _parameters(circle)
        sql = (
            f"SELECT a.id, {_DISTANCE} AS distance, a.rid{extra}"
            f"{_in_box(box, conditions, params, match)} AND {_DISTANCE} <= :radius"
        )
        found.extend(cursor.execute(sql, params))
    return sorted(found, key=_by_distance)


def ranked_within(
    db: sqlite_utils.Database, circle: Circle, conditions: Conditions, count: int
) -> list[tuple[str, float, int]]:
    """The first `count` hits within the circle by keyword relevance (FTS5's bm25, a match in
    the name weighing most), then distance, then id. Needs `conditions.words`."""
    cursor = _cursor(db)
    match = match_query(conditions.words)
    found: list[tuple[str, float, int, float]] = []
    for box in circle.boxes:
        params = _parameters(circle, count=count, match=match)
        # The assets near by are found first, then the keyword's matches are read once from
        # the FTS index and looked up among them (bm25 is only known to the FTS query).
        sql = (
            "WITH near AS MATERIALIZED (SELECT a.rid AS rid, a.id AS id,"
            f" {_DISTANCE} AS distance{_in_box(box, conditions, params)}"
            f" AND {_DISTANCE} <= :radius)"
            " SELECT near.id, near.distance, near.rid,"
            " bm25(assets_fts, 10.0, 1.0, 4.0, 2.0) AS score"
            " FROM assets_fts CROSS JOIN near ON near.rid = assets_fts.rowid"
            " WHERE assets_fts MATCH :match ORDER BY score, near.distance, near.id LIMIT :count"
        )
        found.extend(cursor.execute(sql, params))
    # bm25 weighs each match against the whole index, so scores from two boxes compare.
    found.sort(key=lambda hit: (hit[3], hit[1], hit[0]))
    return [hit[:3] for hit in found[:count]]
