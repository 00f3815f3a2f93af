"""Nearby search, as a link worker uses it in an appointment: place, keywords, filters, order."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from assetmap.record.loading import load_file
from assetmap.record.validation import validate_asset
from assetmap.search.nearby import (
    COORDINATES,
    SearchQuery,
    haversine_m,
    parse_search,
    search,
    search_ids,
    walking_minutes,
)
from assetmap.search.parameters import ParameterError
from assetmap.search.postcodes import PostcodeError
from assetmap.store import assets as store
from assetmap.store import connect, initialise
from assetmap.store import postcodes as postcode_store
from assetmap.store.visibility import RUNNING
from tests.conftest import HOSTILE_DESCRIPTION, HOSTILE_NAME, make_asset
from tests.engines import new_target, on_postgresql

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 26)  # a Thursday
M33_7ZF = (53.425111, -2.32)


def asset(asset_id: str, name: str, lat: float, lon: float, **overrides) -> dict:
    """An asset that says only what a test gives it (no walk, no Tuesday session)."""
    fields = {
        "description": "",
        "categories": [],
        "audiences": ["adults"],
        "schedule": None,
        "postcode": None,
        "address": None,
        **overrides,
    }
    return make_asset(id=asset_id, name=name, lat=lat, lon=lon, **fields)


ASSETS = [
    make_asset(),  # Sale Walking Group: free, walking, Tuesdays 10:00 to 12:00
    asset(
        "altrincham-library",
        "Altrincham Library",
        53.3871,
        -2.3522,
        kind="place",
        approach="community_hubs",
        categories=["learning_skills"],
    ),
    asset(
        "stretford-peer-support",
        "Stretford Peer Support",
        53.4466,
        -2.3098,
        strand="volunteer_peer_roles",
        approach="peer_support",
        categories=["mental_wellbeing"],
    ),
    asset(
        "partington-community-garden",
        "Partington Community Garden",
        53.4189,
        -2.4262,
        strand="strengthening_communities",
        approach="asset_based_methods",
        categories=["gardening_nature"],
    ),
    asset("hostile-example", HOSTILE_NAME, 53.4300, -2.3200, description=HOSTILE_DESCRIPTION),
    asset("closed-lunch-club", "Closed Lunch Club", 53.4250, -2.3100, status="closed"),
    asset("paid-walking-club", "Sale Harriers Walking Club", 53.4255, -2.3180, cost="paid"),
    asset("paused-choir", "Sale Choir", 53.4252, -2.3190, status="paused"),
    asset("archived-cafe", "Walking Cafe", 53.4253, -2.3195, archived=True),
    asset(
        "sale-volunteer-drivers",
        "Sale Volunteer Drivers",
        53.4240,
        -2.3220,
        description="Drive neighbours to appointments.",
        kind="volunteering",
        strand="volunteer_peer_roles",
        approach="volunteer_health_roles",
        categories=["volunteering"],
        self_referral=False,
    ),
    asset(
        "step-free-lunch-club",
        "Brooklands Lunch Club",
        53.4190,
        -2.3150,
        description="A hot two-course lunch and a chat.",
        categories=["lunch_clubs_food", "befriending_social"],
        audiences=["older_people"],
        min_age=60,
        accessibility=["step_free", "accessible_toilet"],
        cost="low_cost",
        schedule={"sessions": [{"day": "wednesday", "start": "12:00", "end": "13:30"}]},
    ),
    asset(
        "youth-football",
        "Sale Youth Football",
        53.4300,
        -2.3300,
        categories=["physical_activity"],
        audiences=["young_people"],
        min_age=11,
        max_age=18,
        accessibility=["step_free"],
        schedule={"sessions": [{"day": "saturday", "start": "10:00", "end": "11:30"}]},
    ),
    asset(
        "evening-choir",
        "Sale Community Choir",
        53.4220,
        -2.3250,
        description="Sing together; no auditions. Walking distance from the station.",
        categories=["music_singing"],
        audiences=["everyone"],
        cost="low_cost",
        schedule={"sessions": [{"day": "thursday", "start": "19:00", "end": "21:00"}]},
    ),
    asset(
        "no-audience-stated",
        "Sale Drop-in",
        53.4270,
        -2.3220,
        audiences=[],
        schedule={"sessions": [], "notes": "Ring first"},
    ),
]
POSTCODES = [
    ("M33 7ZF", *M33_7ZF),
    ("M33 7ZG", 53.4260, -2.3150),
    ("M33 6AA", 53.4300, -2.3400),
    ("WA14 1AH", 53.3871, -2.3522),
    ("SE10 9NF", 51.4826, 0.0077),
]


def save(db, raws) -> None:
    records = []
    for raw in raws:
        result = validate_asset(raw)
        assert result.ok, result.errors
        records.append(result.record)
    store.save_assets(db, records, who="tests")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = new_target(tmp_path_factory.mktemp("search"), keep=True)
    initialise(path)
    database = connect(path)
    save(database, ASSETS)
    with store.transaction(database):
        postcode_store.save_postcodes(database, POSTCODES)
    yield database
    database.close()


def find(db, **args):
    """Search with query-string parameters, as the API and the pages will."""
    query = parse_search({name: [str(value)] for name, value in args.items()})
    return search(db, query, today=TODAY)


def ids(results) -> list[str]:
    return [hit.record["id"] for hit in results.hits]


def test_link_worker_finds_free_walking_group_within_2km(db):
    results = find(db, postcode="m33 7zf", q="walking", free="true")
    assert ids(results) == ["sale-walking-group"]
    assert results.total == 1
    hit = results.hits[0]
    assert hit.distance_m == pytest.approx(haversine_m(*M33_7ZF, 53.4263, -2.3034))
    assert hit.walking_minutes == walking_minutes(hit.distance_m) == 19
    assert hit.next_session.words == "Tuesday 1 December, 10:00 to 12:00"
    assert hit.next_session.iso == "2026-12-01"
    assert results.centre.resolved_by == "postcode" and results.centre.label == "M33 7ZF"


def test_results_come_nearest_first_and_ties_go_by_id(db):
    results = find(db, postcode="M33 7ZF", limit=50)
    distances = [(hit.distance_m, hit.record["id"]) for hit in results.hits]
    assert distances == sorted(distances)
    assert results.total == len(results.hits) > 5


def test_paused_closed_and_archived_assets_are_never_found(db):
    found = set(ids(find(db, postcode="M33 7ZF", radius_km=50, limit=200)))
    assert not found & {"paused-choir", "archived-cafe", "closed-lunch-club"}
    assert "sale-walking-group" in found


def test_a_paused_asset_stays_on_the_map_though_a_search_does_not_find_it(db):
    """Open (on the map and in listings) is not closed and not archived; a search finds only
    the running ones, open and not paused (assetmap/store/visibility.py)."""
    listed, _ = store.list_assets(db, store.AssetFilter(), limit=1000)
    on_the_map = {record["id"] for record in listed}
    assert "paused-choir" in on_the_map
    assert not on_the_map & {"archived-cafe", "closed-lunch-club"}
    assert "paused-choir" not in ids(find(db, postcode="M33 7ZF", radius_km=50, limit=200))


@pytest.mark.sqlite_only("SQLite's plan for its partial index (test_postgres_search.py: PostGIS)")
def test_the_nearby_index_holds_the_running_assets_a_search_asks_for(db):
    """SQLite uses a partial index only when the query repeats the index's WHERE."""
    (sql,) = db.conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'assets_nearby'"
    ).fetchone()
    assert " ".join(sql.split()).endswith(f"WHERE {RUNNING}")
    plan = db.conn.execute(
        "EXPLAIN QUERY PLAN SELECT count(*) FROM assets AS a"
        f" WHERE CAST((a.lat + 90) * 100 AS INTEGER) = 14342 AND {RUNNING}"
    ).fetchall()
    assert "assets_nearby" in plan[0][3]


@pytest.mark.sqlite_only("SQLite's covering index (test_postgres_search.py checks PostGIS's)")
def test_a_strand_search_reads_the_nearby_index_alone(db):
    """Counting a circle and reading its nearest with their last checks need no seek into the
    assets table: the index holds status and archived too (SQLite 3.40 does not count a
    partial index's WHERE columns as held by it)."""
    plan = db.conn.execute(
        "EXPLAIN QUERY PLAN SELECT a.id, a.rid, a.last_verified FROM assets AS a"
        " WHERE CAST((a.lat + 90) * 100 AS INTEGER) = 14342 AND a.lon BETWEEN -2.4 AND -2.3"
        f" AND a.lat BETWEEN 53.4 AND 53.45 AND {RUNNING} AND a.strand IN ('connect')"
    ).fetchall()
    assert "COVERING INDEX assets_nearby" in plan[0][3]


def test_nothing_beyond_the_radius_is_found(db):
    near = find(db, postcode="M33 7ZF", radius_km=1)
    assert all(hit.distance_m <= 1000 for hit in near.hits)
    assert "altrincham-library" not in ids(near)  # about 4.6 km away
    assert "altrincham-library" in ids(find(db, postcode="M33 7ZF", radius_km=5))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("walk", {"sale-walking-group", "paid-walking-club", "evening-choir"}),  # word start
        ("walks", {"sale-walking-group", "paid-walking-club", "evening-choir"}),  # stemming
        ("WALKING", {"sale-walking-group", "paid-walking-club", "evening-choir"}),  # any case
        ("gard", {"partington-community-garden"}),
        ("knitting", set()),
    ],
)
def test_keywords_match_the_start_of_words_with_stemming(db, typed, expected):
    assert set(ids(find(db, postcode="M33 7ZF", radius_km=20, q=typed))) == expected


WALKERS = {"sale-walking-group", "paid-walking-club", "evening-choir"}


@pytest.mark.parametrize(
    "typed",
    ["walking choir", "walking, choir", "choir,walking", "walking and choir", "Walking; CHOIR."],
)
def test_several_interests_find_any_of_them_those_matching_more_first(db, typed):
    """A link worker types a client's interests together: an asset matching any of them is
    found, the one matching both comes first, and each hit says which words it matched."""
    results = find(db, postcode="M33 7ZF", radius_km=20, q=typed)
    assert set(ids(results)) == WALKERS  # the choir is also a walking group
    first, *rest = results.hits
    assert first.record["id"] == "evening-choir"
    assert {w.lower() for w in first.matched} == {"walking", "choir"}
    assert all([w.lower() for w in hit.matched] == ["walking"] for hit in rest)
    assert [h.distance_m for h in rest] == sorted(h.distance_m for h in rest)  # then nearest


def test_several_interests_find_what_matches_only_one_of_them(db):
    """Typing "walking gardening" found nothing while every word had to match."""
    results = find(db, postcode="M33 7ZF", radius_km=20, q="walking gardening")
    assert set(ids(results)) == WALKERS | {"partington-community-garden"}
    garden = next(h for h in results.hits if h.record["id"] == "partington-community-garden")
    assert garden.matched == ("gardening",)
    assert results.total == len(results.hits) == 4


def test_best_match_order_puts_assets_matching_more_words_first(db):
    results = find(db, postcode="M33 7ZF", radius_km=20, q="garden choir", order="relevance")
    assert {ids(results)[0], ids(results)[1]} == {"evening-choir", "partington-community-garden"}
    assert all(len(h.matched) == 1 for h in results.hits)
    both = find(db, postcode="M33 7ZF", radius_km=20, q="walk choir", order="relevance")
    assert ids(both)[0] == "evening-choir"


def test_a_page_of_several_words_counts_every_asset_once(db):
    whole = find(db, postcode="M33 7ZF", radius_km=20, q="walking choir walks")
    pages = [
        find(db, postcode="M33 7ZF", radius_km=20, q="walking choir walks", limit=1, offset=i)
        for i in range(whole.total)
    ]
    assert [ids(p)[0] for p in pages] == ids(whole)
    assert whole.total == 3


@pytest.mark.parametrize(
    "typed",
    [
        '"',
        'walk"ing',
        "AND",
        "OR NOT",
        "NEAR(walk group)",
        "name:walk",
        "*",
        "walk*",
        "^walk",
        "(",
        ")",
        "-walk",
        "+",
        "''",
        "' OR 1=1 --",
        "\x00",
        "{name}:x",
        "café",
        "Men's shed",
        "tai-chi",
    ],
)
def test_any_text_typed_as_keywords_is_safe(db, typed):
    find(db, postcode="M33 7ZF", q=typed)  # no FTS syntax error, no exception


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=st.text(max_size=60))
def test_no_keyword_text_whatever_breaks_the_search(db, typed):
    try:
        query = parse_search({"postcode": ["M33 7ZF"], "q": [typed]})
    except ParameterError:
        return  # not text a form can send (for instance only spaces around a NUL): a 400
    search(db, query, today=TODAY)


def test_volunteering_opportunities_only(db):
    assert ids(find(db, postcode="M33 7ZF", kind="volunteering")) == ["sale-volunteer-drivers"]


def test_strand_and_approach_narrow_the_search(db):
    peer = find(db, postcode="M33 7ZF", radius_km=10, strand="volunteer_peer_roles")
    assert set(ids(peer)) == {"sale-volunteer-drivers", "stretford-peer-support"}
    approach = find(db, postcode="M33 7ZF", radius_km=10, approach="peer_support")
    assert ids(approach) == ["stretford-peer-support"]


def test_several_categories_mean_any_of_them(db):
    found = ids(find(db, postcode="M33 7ZF", category="music_singing,lunch_clubs_food"))
    assert set(found) == {"evening-choir", "step-free-lunch-club"}


def test_audience_includes_assets_for_everyone_and_those_not_saying(db):
    found = set(ids(find(db, postcode="M33 7ZF", audience="older_people", limit=100)))
    assert {"step-free-lunch-club", "evening-choir", "no-audience-stated"} <= found
    assert "sale-walking-group" in found  # adults and older people
    assert "youth-football" not in found


def test_age_keeps_assets_whose_age_range_fits(db):
    for_a_teenager = set(ids(find(db, postcode="M33 7ZF", age=14, limit=100)))
    assert "youth-football" in for_a_teenager and "step-free-lunch-club" not in for_a_teenager
    for_a_pensioner = set(ids(find(db, postcode="M33 7ZF", age=70, limit=100)))
    assert "youth-football" not in for_a_pensioner and "step-free-lunch-club" in for_a_pensioner


def test_every_accessibility_need_asked_must_be_met(db):
    step_free = set(ids(find(db, postcode="M33 7ZF", accessible="step_free")))
    assert step_free == {"step-free-lunch-club", "youth-football"}
    both = ids(find(db, postcode="M33 7ZF", accessible="step_free,accessible_toilet"))
    assert both == ["step-free-lunch-club"]


def test_client_free_on_tuesday_mornings(db):
    found = set(ids(find(db, postcode="M33 7ZF", day="Tuesday", time="morning", limit=100)))
    assert "sale-walking-group" in found
    assert not found & {"evening-choir", "step-free-lunch-club", "no-audience-stated"}


def test_client_free_on_wednesday_afternoons_between_twelve_and_two(db):
    found = ids(find(db, postcode="M33 7ZF", day="wednesday", time="12:00-14:00"))
    assert found == ["step-free-lunch-club"]
    assert ids(find(db, postcode="M33 7ZF", day="wednesday", time="12:30-14:00")) == []


def test_evening_activities_on_any_day(db):
    assert ids(find(db, postcode="M33 7ZF", time="evening")) == ["evening-choir"]


def test_only_assets_residents_can_ask_to_join(db):
    found = ids(find(db, postcode="M33 7ZF", self_referral="yes", limit=100))
    assert "sale-volunteer-drivers" not in found and "sale-walking-group" in found


def test_relevance_order_puts_a_match_in_the_name_first(db):
    by_distance = ids(find(db, postcode="M33 7ZF", q="walking"))
    by_relevance = ids(find(db, postcode="M33 7ZF", q="walking", order="relevance"))
    assert set(by_distance) == set(by_relevance)
    assert by_relevance[-1] == "evening-choir"  # "walking" only in its description
    assert by_distance != by_relevance


def test_relevance_without_keywords_is_by_distance(db):
    assert ids(find(db, postcode="M33 7ZF", order="relevance")) == ids(find(db, postcode="M33 7ZF"))


def test_pages_follow_on_and_the_total_stays_the_same(db):
    everything = find(db, postcode="M33 7ZF", radius_km=10, limit=100)
    first = find(db, postcode="M33 7ZF", radius_km=10, limit=3)
    second = find(db, postcode="M33 7ZF", radius_km=10, limit=3, offset=first.next_offset)
    assert first.total == second.total == everything.total
    assert ids(first) + ids(second) == ids(everything)[:6]
    last = find(db, postcode="M33 7ZF", radius_km=10, limit=3, offset=everything.total - 1)
    assert len(last.hits) == 1 and last.next_offset is None
    assert find(db, postcode="M33 7ZF", offset=1000).hits == []


def test_a_filtered_search_pages_the_same_way(db):
    everything = ids(find(db, postcode="M33 7ZF", radius_km=10, day="tuesday", limit=100))
    paged = [
        *ids(find(db, postcode="M33 7ZF", radius_km=10, day="tuesday", limit=2)),
        *ids(find(db, postcode="M33 7ZF", radius_km=10, day="tuesday", limit=2, offset=2)),
    ]
    assert paged == everything[:4]


def test_a_new_postcode_is_searched_from_its_sector_and_the_answer_says_so(db):
    """Only where a loaded file holds the area in full: elsewhere the centre would be a guess."""
    with pytest.raises(PostcodeError, match="not known to hold every postcode of district M33"):
        find(db, postcode="M33 7XX")
    with store.transaction(db):
        postcode_store.record_file(
            db, file_name="m.csv", layout="", postcodes=1, complete_areas=["M"], loaded_at=""
        )
    try:
        results = find(db, postcode="M33 7XX")
    finally:
        with store.transaction(db):
            db.conn.execute("DELETE FROM postcode_files")
    assert results.centre.resolved_by == "sector" and results.centre.label == "M33 7"
    assert "M33 7XX itself is not in our postcode list" in results.centre.words


def test_a_resident_can_search_by_district_alone(db):
    results = find(db, postcode="M33")
    assert results.centre.resolved_by == "district" and results.total > 0


def test_a_search_from_a_point(db):
    results = find(db, lat=53.4263, lon=-2.3034, radius_km=0.5)
    assert results.centre.resolved_by == COORDINATES
    assert results.centre.label == "53.42630, -2.30340"
    assert ids(results)[0] == "sale-walking-group" and results.hits[0].distance_m == 0


def test_a_postcode_nobody_knows_is_an_error_saying_why(db):
    query = parse_search({"postcode": ["SW1A 1AA"]})  # well formed: parsing accepts it
    with pytest.raises(PostcodeError) as caught:
        search(db, query)
    assert caught.value.reason == PostcodeError.NOT_FOUND
    assert caught.value.parameter == "postcode"


def test_text_that_is_not_a_postcode_is_refused_before_searching():
    with pytest.raises(PostcodeError) as caught:
        parse_search({"postcode": ["not a postcode"]})
    assert caught.value.reason == PostcodeError.INVALID


@pytest.mark.parametrize(
    ("args", "parameter", "words"),
    [
        ({}, "postcode", "give a postcode"),
        ({"lat": ["53.4"]}, "lon", "lon is needed with lat"),
        ({"lon": ["-2.3"]}, "lat", "lat is needed with lon"),
        ({"postcode": ["M33 7ZF"], "lat": ["53.4"], "lon": ["-2"]}, "postcode", "not both"),
        ({"lat": ["north"], "lon": ["-2"]}, "lat", "not a number"),
        ({"lat": ["91"], "lon": ["-2"]}, "lat", "from -90 to 90"),
        ({"lat": ["nan"], "lon": ["-2"]}, "lat", "from -90 to 90"),
        ({"postcode": ["M33 7ZF"], "radius_km": ["51"]}, "radius_km", "from 0 to 50"),
        ({"postcode": ["M33 7ZF"], "radius_km": ["0"]}, "radius_km", "more than 0"),
        ({"postcode": ["M33 7ZF"], "radius_km": ["-1"]}, "radius_km", "from 0 to 50"),
        ({"postcode": ["M33 7ZF"], "q": ["x" * 201]}, "q", "at most 200"),
        ({"postcode": ["M33 7ZF"], "strand": ["walking"]}, "strand", "not a strand"),
        ({"postcode": ["M33 7ZF"], "approach": ["nope"]}, "approach", "not an approach"),
        ({"postcode": ["M33 7ZF"], "category": ["darts"]}, "category", "not a category"),
        ({"postcode": ["M33 7ZF"], "audience": ["cats"]}, "audience", "not an audience"),
        ({"postcode": ["M33 7ZF"], "kind": ["club"]}, "kind", "not a kind"),
        ({"postcode": ["M33 7ZF"], "accessible": ["lift"]}, "accessible", "accessibility need"),
        ({"postcode": ["M33 7ZF"], "day": ["tues"]}, "day", "day of the week"),
        ({"postcode": ["M33 7ZF"], "time": ["lunchtime"]}, "time", "morning, afternoon"),
        ({"postcode": ["M33 7ZF"], "age": ["old"]}, "age", "whole number"),
        ({"postcode": ["M33 7ZF"], "free": ["maybe"]}, "free", "true or false"),
        ({"postcode": ["M33 7ZF"], "self_referral": ["2"]}, "self_referral", "true or false"),
        ({"postcode": ["M33 7ZF"], "order": ["name"]}, "order", "distance or relevance"),
        ({"postcode": ["M33 7ZF"], "limit": ["0"]}, "limit", "at least 1"),
        ({"postcode": ["M33 7ZF"], "offset": ["-1"]}, "offset", "at least 0"),
        ({"postcode": ["M33 7ZF"], "offset": ["10001"]}, "offset", "at most 10000"),
    ],
)
def test_a_bad_parameter_is_named_with_what_to_use_instead(args, parameter, words):
    with pytest.raises(ParameterError) as caught:
        parse_search(args)
    assert caught.value.parameter == parameter
    assert words in caught.value.message


def test_limits_above_the_maximum_are_capped():
    assert parse_search({"postcode": ["M33 7ZF"], "limit": ["5000"]}).limit == 200


def test_a_query_gives_back_the_link_that_made_it():
    args = {
        "postcode": ["M33 7ZF"],
        "radius_km": ["3.5"],
        "q": ["walk"],
        "strand": ["access_community_resources,volunteer_peer_roles"],
        "accessible": ["step_free"],
        "day": ["tuesday"],
        "time": ["14:00-17:00"],
        "age": ["70"],
        "free": ["true"],
        "order": ["relevance"],
        "limit": ["10"],
        "offset": ["10"],
    }
    query = parse_search(args)
    assert query.as_args() == args
    assert parse_search(query.as_args()) == query
    point = SearchQuery(lat=53.4, lon=-2.3)
    assert parse_search(point.as_args()) == point


def test_a_hit_and_a_centre_as_the_api_sends_them(db):
    results = find(db, postcode="M33 7ZF", q="walking", free="true")
    assert results.hits[0].extras() == {
        "matched": ["walking"],
        "last_checked_words": "Last checked over a year ago",
        "stale": True,
        "distance_m": round(results.hits[0].distance_m, 1),
        "walking_minutes": 19,
        "next_session": {
            "date": "2026-12-01",
            "words": "Tuesday 1 December, 10:00 to 12:00",
            "certain": True,
        },
    }
    assert results.centre.as_json() == {
        "lat": M33_7ZF[0],
        "lon": M33_7ZF[1],
        "resolved_by": "postcode",
        "label": "M33 7ZF",
        "description": "M33 7ZF",
    }


def test_searching_inside_a_transaction_reads_that_transaction(db):
    with store.transaction(db):
        assert find(db, postcode="M33 7ZF", q="walking", free="true").total == 1


# ---------------------------------------------------------------------------------------------
# Distances and walking times
# ---------------------------------------------------------------------------------------------


def test_walking_time_is_distance_times_1_3_at_4_8_kmh_rounded_up():
    assert walking_minutes(0) == 0
    assert walking_minutes(80) == 2  # 104 m of streets: 1.3 minutes
    assert walking_minutes(800) == 13  # exactly 13: not rounded up to 14
    assert walking_minutes(2000) == 33


def test_a_degree_of_latitude_is_111_195_metres_on_the_mean_earth():
    assert haversine_m(53.0, -2.0, 54.0, -2.0) == pytest.approx(6371008.8 * math.pi / 180)


def test_known_trafford_distances_agree_with_the_ellipsoid_within_half_a_percent():
    # Two real Trafford postcodes (ONS Postcode Directory), and two across Greenwich; the
    # reference is the WGS84 ellipsoid (pyproj's Geod), independent of our formula.
    geod = Geod(ellps="WGS84")
    pairs = [
        ((53.425111, -2.32), (53.387046, -2.350212)),  # M33 7ZF (Sale) to WA14 1AH (Altrincham)
        ((53.465578, -2.26046), (53.419, -2.4262)),  # M15 4AB (Old Trafford) to Partington
        ((51.4826, -0.0100), (51.4826, 0.0300)),  # either side of the 0° meridian
    ]
    for (lat1, lon1), (lat2, lon2) in pairs:
        _, _, reference = geod.inv(lon1, lat1, lon2, lat2)
        assert haversine_m(lat1, lon1, lat2, lon2) == pytest.approx(reference, rel=0.005)


def test_link_worker_in_greenwich_finds_groups_either_side_of_the_meridian(db_path):
    initialise(db_path)
    database = connect(db_path)
    save(
        database,
        [
            make_asset(id="west", name="West Group", lat=51.4826, lon=-0.0100, postcode=None),
            make_asset(id="east", name="East Group", lat=51.4826, lon=0.0120, postcode=None),
            make_asset(id="far-east", name="Far Group", lat=51.4826, lon=0.0500, postcode=None),
        ],
    )
    results = search(database, SearchQuery(lat=51.4826, lon=0.0, radius_km=1.0), today=TODAY)
    assert ids(results) == ["west", "east"]
    database.close()


# ---------------------------------------------------------------------------------------------
# The demo data, against a brute-force scan
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = new_target(tmp_path_factory.mktemp("demo"), keep=True)
    initialise(path)
    database = connect(path)
    report = load_file(database, ROOT / "data/assets.geojson", who="tests", bounds=None)
    assert not report.rejected
    from tests.test_imports_support import load_trafford_postcodes

    load_trafford_postcodes(path)
    yield database
    database.close()


@pytest.mark.parametrize(
    ("postcode", "radius_km", "strand"),
    [
        ("M33 7ZF", 2, None),
        ("WA14 1AH", 3, None),
        ("M41 0TJ", 5, "access_community_resources"),
        ("M15 4AB", 10, "strengthening_communities"),
        ("M31 4FA", 50, None),
    ],
)
def test_demo_data_answers_agree_with_a_brute_force_scan(demo_db, postcode, radius_km, strand):
    args = {"postcode": [postcode], "radius_km": [str(radius_km)], "limit": ["200"]}
    if strand:
        args["strand"] = [strand]
    results = search(demo_db, parse_search(args), today=TODAY)
    centre = results.centre
    expected = sorted(
        (haversine_m(centre.lat, centre.lon, a["lat"], a["lon"]), a["id"])
        for a in store.iter_assets(demo_db)
        if a["status"] == "active"
        and not a["archived"]
        and (strand is None or a["strand"] == strand)
        and haversine_m(centre.lat, centre.lon, a["lat"], a["lon"]) <= radius_km * 1000
    )
    assert results.total == len(expected) > 0
    assert ids(results) == [asset_id for _, asset_id in expected][:200]


# ---------------------------------------------------------------------------------------------
# The keyword index keyed by place (migration 7)
# ---------------------------------------------------------------------------------------------


def keyword_ids(db, lat: float, lon: float, q: str, radius_km: float = 2) -> list[str]:
    query = SearchQuery(lat=lat, lon=lon, radius_km=radius_km, q=q, limit=50)
    return ids(search(db, query, today=TODAY))


def check_keyword_index(db) -> None:
    """SQLite's FTS5 keyword index checks itself (an error if unsound); on PostgreSQL the
    keywords are a generated column of the assets table, which nothing can leave behind."""
    if not on_postgresql():
        db.conn.execute(
            "INSERT INTO assets_nearby_fts (assets_nearby_fts) VALUES ('integrity-check')"
        )


def test_keyword_search_follows_an_asset_moved_renamed_archived_and_deleted(db_path):
    initialise(db_path)
    db = connect(db_path)
    sale, altrincham = (53.4263, -2.3034), (53.3871, -2.3522)  # about 5.6 km apart
    save(db, [make_asset()])
    assert keyword_ids(db, *sale, "walking") == ["sale-walking-group"]
    save(db, [make_asset(lat=altrincham[0], lon=altrincham[1])])
    assert keyword_ids(db, *sale, "walking") == []
    assert keyword_ids(db, *altrincham, "walking") == ["sale-walking-group"]
    save(db, [make_asset(lat=altrincham[0], lon=altrincham[1], name="Knit and Natter")])
    assert keyword_ids(db, *altrincham, "knit") == ["sale-walking-group"]
    assert keyword_ids(db, *altrincham, "natter knitting") == ["sale-walking-group"]
    save(db, [make_asset(lat=altrincham[0], lon=altrincham[1], archived=True)])
    assert keyword_ids(db, *altrincham, "walking") == []
    store.delete_asset(db, "sale-walking-group", who="tests")
    assert keyword_ids(db, *altrincham, "walk") == []
    check_keyword_index(db)
    db.close()


def test_a_word_that_begins_another_still_finds_both(db_path):
    """The word "pot" is asked as a prefix (pottery starts with it); "pottery" and "gardening"
    are the only terms starting with themselves, so they are asked whole, and find the same."""
    initialise(db_path)
    db = connect(db_path)
    here = (53.4263, -2.3034)
    save(
        db,
        [
            asset("pottery", "Pottery Club", *here),
            asset("pot-luck", "Pot Luck Lunch", 53.4264, -2.3035),
            asset("garden", "Community Gardening", 53.4265, -2.3036, description="Gardens"),
        ],
    )
    assert keyword_ids(db, *here, "pot") == ["pottery", "pot-luck"]
    assert keyword_ids(db, *here, "Pottery") == ["pottery"]
    assert keyword_ids(db, *here, "potter") == ["pottery"]
    assert keyword_ids(db, *here, "gardening") == ["garden"]
    # Either word: the gardening group matches "garden", the pot-luck lunch "lunch".
    assert sorted(keyword_ids(db, *here, "garden lunch")) == ["garden", "pot-luck"]
    assert keyword_ids(db, *here, "Café") == []
    db.close()


@pytest.mark.sqlite_only("migration 7 builds SQLite's FTS5 keyword index from old rows")
def test_a_database_from_before_the_keyword_index_is_brought_forward(tmp_path):
    """Assets saved at schema version 6 are found by keyword once migration 7 has run."""
    from assetmap.store import schema

    path = tmp_path / "old.db"
    db = connect(path)
    for _, statements in schema.MIGRATIONS[:6]:
        for statement in statements:
            db.conn.execute(statement)
    db.conn.execute("PRAGMA user_version = 6")
    # Written as an assetmap of version 6 would: without the columns added since.
    record = store.with_position(validate_asset(make_asset()).record, None)
    columns = {column.name for column in db["assets"].columns}
    row = {k: v for k, v in store.to_row(record).items() if k in columns}
    stamp = {"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
    db["assets"].insert({**row, **stamp})
    db.close()
    assert initialise(path) == [description for description, _ in schema.MIGRATIONS[6:]]
    db = connect(path)
    assert keyword_ids(db, 53.4263, -2.3034, "walks") == ["sale-walking-group"]
    check_keyword_index(db)
    db.close()


def test_more_words_than_the_search_asks_of_the_index_are_refused_by_name(db):
    """Each word is one query of the index: a box of single letters is not 100 queries."""
    find(db, postcode="M33 7ZF", q=" ".join(["walk"] * 40))  # the same word, once
    find(db, postcode="M33 7ZF", q=" ".join(f"w{i}" for i in range(12)))
    with pytest.raises(ParameterError) as refused:
        find(db, postcode="M33 7ZF", q=" ".join("bcdefghijklmnopqrstuvwxyz"))
    assert refused.value.parameter == "q" and "at most 12 words (this has 25)" in str(refused.value)


@pytest.mark.parametrize(
    "args",
    [
        {"postcode": "M33 7ZF", "limit": 3},
        {"postcode": "M33 7ZF", "limit": 2, "offset": 2},
        {"postcode": "M33 7ZF", "q": "walking, singing, gardening", "limit": 50},
        {"postcode": "M33 7ZF", "q": "walking", "order": "relevance"},
        {"postcode": "M33 7ZF", "strand": "volunteer_peer_roles", "radius_km": 10},
        {"postcode": "M33 7ZF", "day": "tuesday", "time": "morning"},
        {"postcode": "M33 7ZF", "q": "nothing-matches-this"},
    ],
)
def test_ids_only_search_gives_the_same_total_and_order_as_the_full_search(db, args):
    """search_ids (what the benchmark sets against PostGIS) is the full search without the
    records: the same total and ids in the same order, whatever is asked."""
    query = parse_search({name: [str(value)] for name, value in args.items()})
    results = search(db, query, today=TODAY)
    assert search_ids(db, query, today=TODAY) == (results.total, ids(results))
