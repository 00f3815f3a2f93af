"""All search SQL: open assets within a circle, counted and ordered by great-circle distance.

Candidates come from the `assets_nearby` index (migration 3), a B-tree over (latitude band,
longitude, latitude, strand, kind, cost, self-referral) holding only open assets (active, not
archived). A circle's bounding box is one short run of that index per 0.01° band of latitude
(about 1.1 km), and each run already holds every column the common filters and the distance
need, so counting thousands of candidates reads a few index pages in order. The R*Tree
(`assets_rtree`) answers "what is in this box" just as well, but then every candidate costs a
random seek into the wide `assets` table to learn its strand and status: in a busy town centre
among a million assets (25,000 candidates in the box) that took 30 to 65 ms just to count the
box, against 6 ms here for the exact count, distances included.

Hits come back as plain tuples (id, distance_m, rid), nearest first and then by id; the rid
fetches the page's full records without a second index lookup.

The distance is computed here in SQL with the very same operations, in the same order, as
`assetmap.search.haversine_m`, from the same IEEE doubles, so SQL and Python agree to the last
bit: SQLite's sin, cos, asin and sqrt are the C library's, as Python's are. Where SQLite was
built without its math functions, Python's own are registered under the same names.
"""

from __future__ import annotations

import json
import math
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, replace

import sqlite_utils

from assetmap.fields import FIELD_NAMES
from assetmap.store.assets import from_row

Box = tuple[float, float, float, float]  # (min_lon, min_lat, max_lon, max_lat), as GeoJSON

# The index expression of assets_nearby, written exactly as in the migration (SQLite uses an
# index on an expression only when the query repeats the expression).
BANDS_PER_DEGREE = 100
_BAND = "CAST((a.lat + 90) * 100 AS INTEGER)"
_COLUMNS = ", ".join(FIELD_NAMES)
_OPEN = "a.status = 'active' AND a.archived = 0"  # the partial index's WHERE, repeated

# Haversine, as assetmap.search.haversine_m computes it (see there for the parameters).
_DISTANCE = (
    "(:diameter * asin(sqrt(min(1.0,"
    " sin((a.lat - :lat) * :half_rad) * sin((a.lat - :lat) * :half_rad)"
    " + :cos_lat * cos(a.lat * :rad)"
    " * sin((a.lon - :lon) * :half_rad) * sin((a.lon - :lon) * :half_rad)))))"
)


@dataclass(frozen=True)
class Circle:
    """Where to search, worked out by assetmap.search.

    `boxes` cover the circle (one box, or two across the 180° meridian); `inner` is a box
    wholly inside it, whose assets need no distance computed to be counted. `distance` holds
    the parameters of the distance expression.
    """

    radius_m: float
    boxes: tuple[Box, ...]
    inner: Box | None
    distance: dict[str, float]


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
    match: str | None = None  # an FTS5 query, built by assetmap.search from safe tokens


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
    """SQL for the conditions (ANDed, after the place and open-asset terms)."""
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
    if c.match:
        params["match"] = c.match
        # The unary + keeps SQLite from driving the search from the keyword's matches (one
        # table seek for each, anywhere in the country): the place narrows far better, and
        # the matches are read once into a list that each asset near by is looked up in.
        clauses.append("+a.rid IN (SELECT rowid FROM assets_fts WHERE assets_fts MATCH :match)")
    return "".join(f" AND {clause}" for clause in clauses)


def _in_box(box: Box, params: dict) -> str:
    """FROM and WHERE for the open assets in a box: one run of the index per band.

    The bands are an IN list, not a join: SQLite 3.40 plans a join to the expression index
    with a Bloom filter that both scans the whole table and loses rows.
    """
    min_lon, min_lat, max_lon, max_lat = box
    # One band more on each side than the arithmetic says, so rounding never loses one; the
    # latitude test is exact.
    first = int((min_lat + 90) * BANDS_PER_DEGREE) - 1
    last = int((max_lat + 90) * BANDS_PER_DEGREE) + 1
    params.update(
        bands=json.dumps(list(range(first, last + 1))),
        min_lon=min_lon,
        max_lon=max_lon,
        min_lat=min_lat,
        max_lat=max_lat,
    )
    return (
        f" FROM assets AS a WHERE {_BAND} IN (SELECT value FROM json_each(:bands))"
        " AND a.lon BETWEEN :min_lon AND :max_lon AND a.lat BETWEEN :min_lat AND :max_lat"
        f" AND {_OPEN}"
    )


def _parameters(circle: Circle, **more) -> dict:
    return {**circle.distance, "radius": circle.radius_m, **more}


def _by_distance(hit: tuple) -> tuple:
    return hit[1], hit[0]


def count_within(db: sqlite_utils.Database, circle: Circle, conditions: Conditions) -> int:
    """How many open assets meeting the conditions lie within the circle (edge included)."""
    cursor = _cursor(db)
    total = 0
    for box in circle.boxes:
        params = _parameters(circle)
        sql = f"SELECT count(*){_in_box(box, params)}{_where(conditions, params)}"
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


def nearest_within(
    db: sqlite_utils.Database, circle: Circle, conditions: Conditions, count: int
) -> list[tuple[str, float, int]]:
    """The `count` nearest hits within the circle."""
    cursor = _cursor(db)
    found: list[tuple[str, float, int]] = []
    for box in circle.boxes:
        params = _parameters(circle, count=count)
        sql = (
            f"SELECT a.id, {_DISTANCE} AS distance, a.rid{_in_box(box, params)}"
            f"{_where(conditions, params)} AND {_DISTANCE} <= :radius"
            " ORDER BY distance, a.id LIMIT :count"
        )
        found.extend(cursor.execute(sql, params))
    return sorted(found, key=_by_distance)[:count]


def all_within(
    db: sqlite_utils.Database, circle: Circle, conditions: Conditions, *, schedules: bool = False
) -> list[tuple]:
    """Every hit within the circle, with the schedule's JSON as a fourth item when `schedules`
    is true (for the day and time filters, which Python applies: assetmap.schedules).

    For keyword searches this one pass is quicker than a count and then the nearest: the
    slow part is reading the keyword's matches from the FTS index, and this reads them once.
    """
    cursor = _cursor(db)
    extra = ", a.schedule" if schedules else ""
    found: list[tuple] = []
    for box in circle.boxes:
        params = _parameters(circle)
        sql = (
            f"SELECT a.id, {_DISTANCE} AS distance, a.rid{extra}{_in_box(box, params)}"
            f"{_where(conditions, params)} AND {_DISTANCE} <= :radius"
        )
        found.extend(cursor.execute(sql, params))
    return sorted(found, key=_by_distance)


def ranked_within(
    db: sqlite_utils.Database, circle: Circle, conditions: Conditions, count: int
) -> list[tuple[str, float, int]]:
    """The first `count` hits within the circle by keyword relevance (FTS5's bm25, a match in
    the name weighing most), then distance, then id. Needs `conditions.match`."""
    cursor = _cursor(db)
    without_match = replace(conditions, match=None)
    found: list[tuple[str, float, int, float]] = []
    for box in circle.boxes:
        params = _parameters(circle, count=count, match=conditions.match)
        # The assets near by are found first, then the keyword's matches are read once from
        # the FTS index and looked up among them (bm25 is only known to the FTS query).
        sql = (
            "WITH near AS MATERIALIZED (SELECT a.rid AS rid, a.id AS id,"
            f" {_DISTANCE} AS distance{_in_box(box, params)}{_where(without_match, params)}"
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
