"""The indexed search finds exactly what a brute-force scan of every asset finds.

For random assets and random searches (near the edges of the UK's bounding box, across the
0° meridian, with assets exactly at the radius and several at the same spot), the search
through the index returns the same total and the same ids, with the same distances, in the
same order, as computing the great-circle distance to every asset and applying every filter
in plain Python, written here independently of the search's SQL.
"""

from __future__ import annotations

import math
import random
from contextlib import contextmanager
from datetime import date

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from assetmap.record import taxonomy
from assetmap.record.schedules import parse_time_window
from assetmap.record.validation import validate_asset
from assetmap.search.nearby import SearchQuery, haversine_m, keywords, search
from assetmap.store import assets as store
from assetmap.store import connect, dialect, initialise, schema
from tests.engines import new_target, on_postgresql

TODAY = date(2026, 11, 26)
# Stale (assetmap/freshness/stale.py): checked before this day, 12 months before TODAY, or never.
STALE_BEFORE = "2025-11-26"
# Last checks: never, recently, a day either side of the 12 months, long ago.
CHECKED = [None, "2026-10-01", "2025-11-26", "2025-11-25", "2019-01-01"]
# Nearest first is by band of 500 m, then fresh listings before stale ones, then nearest.
BAND_M = 500
UK_CORNERS = [(49.8, -8.75), (49.8, 1.8), (60.95, -8.75), (60.95, 1.8)]
WORDS = ["walking", "garden", "choir", "lunch", "tea", "teapot", "knit"]
TIMES = ["morning", "afternoon", "evening", "10:00-12:00", "13:30-17:00"]

STRANDS = [s.slug for s in taxonomy.STRANDS]
KINDS = [t.slug for t in taxonomy.KINDS]
CATEGORIES = ["walking", "gardening_nature", "music_singing", "lunch_clubs_food"]
AUDIENCES = ["everyone", "older_people", "young_people", "carers"]
ACCESS = ["step_free", "accessible_toilet", "hearing_loop"]
DAYS = ["monday", "tuesday", "saturday"]

centres = st.one_of(
    st.tuples(st.floats(49.8, 60.95), st.floats(-8.75, 1.8)),  # anywhere in the UK box
    st.sampled_from(UK_CORNERS),  # its corners: the far north and south, west and east
    st.tuples(st.floats(51.3, 51.7), st.floats(-0.05, 0.05)),  # on the Greenwich meridian
)

sessions = st.fixed_dictionaries(
    {
        "day": st.sampled_from(DAYS),
        "frequency": st.sampled_from(["weekly", "fortnightly", "first", "last"]),
        "start": st.sampled_from(["09:00", "10:00", "11:30", "12:00", "14:00", "18:00", None]),
    }
)

assets = st.fixed_dictionaries(
    {
        "dlat": st.floats(-0.12, 0.12) | st.floats(-0.02, 0.02),  # within 13 km, or 2 km
        "dlon": st.floats(-0.2, 0.2) | st.floats(-0.03, 0.03),
        "same_place_as": st.none() | st.integers(0, 59),  # ties, broken by id
        "name": st.sampled_from(WORDS),
        "description": st.lists(st.sampled_from(WORDS), max_size=2),  # more words to match
        "strand": st.sampled_from(STRANDS),
        "kind": st.sampled_from(KINDS),
        "cost": st.sampled_from(["free", "low_cost", "paid", None]),
        "self_referral": st.booleans(),
        "categories": st.lists(st.sampled_from(CATEGORIES), max_size=2, unique=True),
        "audiences": st.lists(st.sampled_from(AUDIENCES), max_size=2, unique=True),
        "accessibility": st.lists(st.sampled_from(ACCESS), max_size=3, unique=True),
        "ages": st.sampled_from([(None, None), (None, 18), (60, None), (11, 25)]),
        "sessions": st.lists(sessions, max_size=2),
        "status": st.sampled_from(["active"] * 5 + ["paused", "closed"]),
        "archived": st.sampled_from([False] * 6 + [True]),
        "last_verified": st.sampled_from(CHECKED),
    }
)

FILTERS = {
    "q": st.sampled_from(WORDS)
    | st.sampled_from(["walking tea", "te", "gard", "lunch's", "tea, knit choir", "walking and"]),
    "strands": st.lists(st.sampled_from(STRANDS), min_size=1, max_size=2, unique=True),
    "kinds": st.lists(st.sampled_from(KINDS), min_size=1, max_size=2, unique=True),
    "categories": st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2, unique=True),
    "audiences": st.lists(st.sampled_from(AUDIENCES), min_size=1, max_size=1),
    "accessibility": st.lists(st.sampled_from(ACCESS), min_size=1, max_size=2, unique=True),
    "age": st.sampled_from([5, 15, 30, 70]),
    "days": st.lists(st.sampled_from(DAYS), min_size=1, max_size=2, unique=True),
    "time": st.sampled_from(TIMES),
    "free": st.just(True),
    "self_referral": st.just(True),
}


@st.composite
def searches(draw) -> dict:
    """A radius, a page, and up to three filters (more would nearly always find nothing)."""
    radius = st.sampled_from([0.5, 2.0, 5.0, 10.0, 50.0]) | st.floats(0.05, 50) | st.none()
    asked = {
        "radius_km": draw(radius),  # None: exactly at an asset's distance
        "edge_asset": draw(st.integers(0, 59)),
        "limit": draw(st.integers(1, 8)),
        "offset": draw(st.integers(0, 6)),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(FILTERS)), max_size=3, unique=True))
    for name in chosen:
        asked[name] = draw(FILTERS[name])
    return asked


def build(centre, specs) -> list[dict]:
    records = []
    for number, spec in enumerate(specs):
        if spec["same_place_as"] is not None and spec["same_place_as"] < len(records):
            lat = records[spec["same_place_as"]]["lat"]
            lon = records[spec["same_place_as"]]["lon"]
        else:
            # To 6 places, as coordinates are stored (store.assets.with_position).
            lat = round(max(-90.0, min(90.0, centre[0] + spec["dlat"])), 6)
            lon = round(centre[1] + spec["dlon"], 6)
        min_age, max_age = spec["ages"]
        raw = {
            "id": f"asset-{number:02d}",
            "name": f"{spec['name'].title()} group {number}",
            "description": " and ".join(spec["description"]),
            "kind": spec["kind"],
            "strand": spec["strand"],
            "categories": spec["categories"],
            "audiences": spec["audiences"],
            "accessibility": spec["accessibility"],
            "min_age": min_age,
            "max_age": max_age,
            "cost": spec["cost"],
            "self_referral": spec["self_referral"],
            "schedule": {"sessions": spec["sessions"], "notes": ""},
            "status": spec["status"],
            "archived": spec["archived"],
            "last_verified": spec["last_verified"],
            "lat": lat,
            "lon": lon,
        }
        result = validate_asset(raw, bounds=None)
        assert result.ok, result.errors
        records.append(result.record)
    return records


def brute_force(db, records, centre, query: SearchQuery) -> tuple[int, list[tuple[str, float]]]:
    """Every asset's distance, and every filter, in plain Python. Keywords: each word is
    asked of the whole-text index on its own; an asset matching any word is found, and those
    matching more words come first, then by band of distance (500 m), fresh before stale
    (not checked for over 12 months, or never), then nearest."""
    words = keywords(query.q)
    matched_by: dict[str, int] = {}
    for word in words:
        # Each word asked of the whole-text index (SQLite's assets_fts, PostgreSQL's doc), not
        # of the index keyed by place that the search reads.
        condition, params = dialect.search_store(db).words_condition((word,))
        rows = db.conn.execute(f"SELECT id FROM assets WHERE {condition}", params)
        for (asset_id,) in rows:
            matched_by[asset_id] = matched_by.get(asset_id, 0) + 1
    window = parse_time_window(query.time.name) if query.time else None
    hits = []
    for r in records:
        distance = haversine_m(centre[0], centre[1], r["lat"], r["lon"])
        if r["status"] != "active" or r["archived"] or distance > query.radius_km * 1000:
            continue
        if query.strands and r["strand"] not in query.strands:
            continue
        if query.kinds and r["kind"] not in query.kinds:
            continue
        if query.categories and not set(query.categories) & set(r["categories"]):
            continue
        welcome = set(query.audiences) | {"everyone"}
        if query.audiences and r["audiences"] and not welcome & set(r["audiences"]):
            continue
        if not set(query.accessibility) <= set(r["accessibility"]):
            continue
        if query.age is not None and not (
            (r["min_age"] is None or r["min_age"] <= query.age)
            and (r["max_age"] is None or r["max_age"] >= query.age)
        ):
            continue
        if query.free and r["cost"] != "free":
            continue
        if query.self_referral and r["self_referral"] is not True:
            continue
        if words and r["id"] not in matched_by:
            continue
        if (query.days or window) and not any(
            (not query.days or s["day"] in query.days)
            and (
                window is None
                or (
                    s["start"] is not None
                    and window.start <= s["start"] < window.end
                    and (not window.fit or s["end"] is None or s["end"] <= window.end)
                )
            )
            for s in r["schedule"]["sessions"]
        ):
            continue
        checked = r["last_verified"]
        stale = checked is None or str(checked) < STALE_BEFORE
        band = math.floor(distance / BAND_M)
        hits.append((-matched_by.get(r["id"], 0), band, stale, distance, r["id"]))
    hits.sort()
    page = hits[query.offset : query.offset + query.limit]
    return len(hits), [(asset_id, distance) for *_, distance, asset_id in page]


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """Where each example's database is: on SQLite a new one in memory every time; on
    PostgreSQL (`--engine postgresql`) one database for the module, emptied before each example
    (making a database takes longer than the example)."""
    if not on_postgresql():
        return ":memory:"
    url = new_target(tmp_path_factory.mktemp("property"), keep=True)
    initialise(url)
    return url


@contextmanager
def fresh_database(target):
    """A database holding no assets, at the current schema, on the engine chosen."""
    db = connect(target)
    try:
        if target == ":memory:":
            schema.migrate(db.conn)
        else:
            tables = [
                row[0]
                for row in db.conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename NOT IN ('assetmap_schema', 'spatial_ref_sys')"
                )
            ]
            db.conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        yield db
    finally:
        db.close()


def searched_and_scanned(target, records: list[dict], centre, query: SearchQuery):
    """The search's results, and the brute-force scan's total and page, on one fresh database
    holding `records`."""
    with fresh_database(target) as db:
        store.save_assets(db, records, who="tests")
        return (search(db, query, today=TODAY), *brute_force(db, records, centre, query))


def asked_query(centre, records, asked: dict) -> SearchQuery:
    """The search `asked` (from `searches()`) around `centre`, over `records`; a radius left
    None passes exactly through one asset (`edge_asset`). Also tests/test_postgres_search.py's."""
    if asked["radius_km"] is None:
        edge = records[asked["edge_asset"] % len(records)]
        radius_km = haversine_m(centre[0], centre[1], edge["lat"], edge["lon"]) / 1000
        asked = {**asked, "radius_km": min(50.0, max(radius_km, 1e-6))}
    return SearchQuery(
        lat=centre[0],
        lon=centre[1],
        radius_km=asked["radius_km"],
        q=asked.get("q", ""),
        strands=tuple(asked.get("strands", ())),
        kinds=tuple(asked.get("kinds", ())),
        categories=tuple(asked.get("categories", ())),
        audiences=tuple(asked.get("audiences", ())),
        accessibility=tuple(asked.get("accessibility", ())),
        age=asked.get("age"),
        days=tuple(asked.get("days", ())),
        time=parse_time_window(asked["time"]) if "time" in asked else None,
        free=asked.get("free", False),
        self_referral=asked.get("self_referral", False),
        limit=asked["limit"],
        offset=asked["offset"],
        order=asked.get("order", "distance"),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    centre=centres,
    specs=st.lists(assets, min_size=5, max_size=60),
    asked=searches(),
)
def test_indexed_search_returns_exactly_what_a_brute_force_scan_returns(
    target, centre, specs, asked
):
    records = build(centre, specs)
    query = asked_query(centre, records, asked)
    results, total, page = searched_and_scanned(target, records, centre, query)
    event(f"total {'0' if not total else '1-4' if total < 5 else '5-19' if total < 20 else '20+'}")
    event("keywords" if query.q else "days or times" if query.days or query.time else "count")
    assert results.total == total
    assert [(hit.record["id"], hit.distance_m) for hit in results.hits] == page


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    centre=centres,
    specs=st.lists(assets, min_size=5, max_size=40),
    typed=st.lists(st.sampled_from(WORDS), min_size=2, max_size=4, unique=True),
    limit=st.integers(1, 8),
    offset=st.integers(0, 6),
)
def test_several_words_find_and_rank_what_a_brute_force_scan_does(
    target, centre, specs, typed, limit, offset
):
    """Several interests at once: any word matches, more words matched first, then nearest."""
    records = build(centre, specs)
    query = SearchQuery(
        lat=centre[0], lon=centre[1], radius_km=20, q=", ".join(typed), limit=limit, offset=offset
    )
    results, total, page = searched_and_scanned(target, records, centre, query)
    event(f"best match {max((len(h.matched) for h in results.hits), default=0)} words")
    assert results.total == total
    assert [(hit.record["id"], hit.distance_m) for hit in results.hits] == page


@settings(max_examples=100, deadline=None)  # a loaded machine is not a slow search
@given(
    centre=st.tuples(st.floats(49.8, 60.95), st.floats(-8.75, 1.8)),
    offset=st.tuples(st.floats(-0.5, 0.5), st.floats(-0.8, 0.8)),
)
def test_sql_and_python_compute_the_very_same_distance(target, centre, offset):
    point = (round(centre[0] + offset[0], 6), round(centre[1] + offset[1], 6))  # as stored
    with fresh_database(target) as db:
        raw = {"id": "x", "name": "X", "kind": "group", "strand": STRANDS[0]}
        record = validate_asset({**raw, "lat": point[0], "lon": point[1]}, bounds=None).record
        store.save_assets(db, [record], who="tests")
        hits = search(db, SearchQuery(lat=centre[0], lon=centre[1], radius_km=50), today=TODAY)
    expected = haversine_m(centre[0], centre[1], point[0], point[1])
    assert [hit.distance_m for hit in hits.hits] == ([expected] if expected <= 50_000 else [])


def destination(lat: float, lon: float, bearing: float, metres: float) -> tuple[float, float]:
    """The point `metres` along a great circle from (lat, lon) at `bearing` radians."""
    delta = metres / 6_371_008.8
    phi, lam = math.radians(lat), math.radians(lon)
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(bearing)
    )
    lam2 = lam + math.atan2(
        math.sin(bearing) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lam2)


@settings(max_examples=30, deadline=None)
@given(
    centre=centres,
    radius_km=st.sampled_from([0.3, 1.0, 3.0, 10.0, 50.0]),
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(20, 250),
    limit=st.integers(1, 12),
    offset=st.integers(0, 30),
)
def test_many_assets_in_and_around_the_circle_and_on_its_edge(
    target, centre, radius_km, seed, count, limit, offset
):
    """Dense places (where the search counts, then looks in smaller circles first), with a
    quarter of the assets on the circle itself and some just outside it."""
    rng = random.Random(seed)
    template = validate_asset(
        {"id": "x", "name": "Group", "kind": "group", "strand": STRANDS[0], "lat": 0, "lon": 0},
        bounds=None,
    ).record
    records = []
    for number in range(count):
        place = rng.random()
        if place < 0.25:
            share = 1.0  # on the circle
        elif place < 0.4:
            share = 1 + rng.uniform(0, 0.05)  # just outside it
        else:
            share = rng.uniform(0, 1.3) ** 0.5  # spread evenly over a slightly larger disc
        lat, lon = destination(*centre, rng.uniform(0, 2 * math.pi), share * radius_km * 1000)
        lat, lon = round(lat, 6), round(lon, 6)  # as stored: within 0.1 m of the circle
        checked = rng.choice(CHECKED)
        records.append(
            {**template, "id": f"a{number:03d}", "lat": lat, "lon": lon, "last_verified": checked}
        )
    query = SearchQuery(
        lat=centre[0], lon=centre[1], radius_km=radius_km, limit=limit, offset=offset
    )
    results, total, page = searched_and_scanned(target, records, centre, query)
    assert results.total == total
    assert [(hit.record["id"], hit.distance_m) for hit in results.hits] == page
