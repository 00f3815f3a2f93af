"""A search on PostgreSQL is one statement (issue 20, item 2: "one statement per query").

store/postgres_search.py's `find_page` answers the common searches (near a place, with or
without keywords and filters, nearest or best match first) with the total, the page in
order and the page's records in one statement, which is also one snapshot without a
transaction. tests/test_postgres_search.py compares its answers with SQLite's (the demo and
the property test); this module counts the statements a search sends and checks the one
piece of arithmetic the order adds, the band of distance.
"""

from __future__ import annotations

import math
import random

import pytest

from assetmap.freshness.stale import DISTANCE_BAND_M, distance_band
from assetmap.record.schedules import parse_time_window
from assetmap.search import nearby
from assetmap.search.nearby import SearchQuery
from assetmap.store import postgres_search
from tests import test_postgres_search as demo
from tests.test_postgres_search import TODAY, PostgresDatabase

# The demo directory in both engines (tests/test_postgres_search.py's fixtures, built once
# for this module too).
server, pg, both = demo.server, demo.pg, demo.both

pytestmark = pytest.mark.postgresql_only("counts the statements a search sends to PostgreSQL")


class CountingCursor:
    def __init__(self, cursor, sent: list[str]):
        self._cursor, self._sent = cursor, sent

    def execute(self, sql, params=None, **kwargs):
        self._sent.append(str(sql))
        self._cursor.execute(sql, params, **kwargs)
        return self

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def __iter__(self):
        return iter(self._cursor)


class CountingConnection:
    """A psycopg connection that notes every statement sent through it."""

    def __init__(self, conn):
        self._conn = conn
        self.sent: list[str] = []

    def cursor(self, *args, **kwargs):
        return CountingCursor(self._conn.cursor(*args, **kwargs), self.sent)

    def execute(self, sql, params=None, **kwargs):
        self.sent.append(str(sql))
        return self._conn.execute(sql, params, **kwargs)

    def __getattr__(self, name):
        return getattr(self._conn, name)


COMMON = [
    {"radius_km": 2},
    {"radius_km": 5, "strands": ("access_community_resources",), "offset": 20},
    {"radius_km": 10, "q": "walking, singing, gardening"},
    {"radius_km": 10, "q": "walk", "order": "relevance", "limit": 200},  # all: ranks differ
    {"radius_km": 3, "accessibility": ("step_free",), "age": 70, "free": True},
    {"radius_km": 0.01},  # nothing found: the total still comes back
]


@pytest.mark.parametrize("args", COMMON)
def test_a_link_workers_search_near_a_place_is_one_statement(both, args):
    """Near a point, with or without keywords and filters, any page: one statement, the same
    total and hits as SQLite (and no BEGIN or COMMIT around it)."""
    lite, pg = both
    query = SearchQuery(lat=53.4263, lon=-2.3034, **args)
    counting = CountingConnection(pg.conn)
    postgres_search.configure(counting)  # this connection's settings, sent once before
    counting.sent.clear()
    found = nearby.search(PostgresDatabase(counting), query, today=TODAY)
    expected = nearby.search(lite, query, today=TODAY)
    assert len(counting.sent) == 1, counting.sent
    assert found.total == expected.total
    assert sorted(h.record["id"] for h in found.hits) == sorted(
        h.record["id"] for h in expected.hits
    )
    if query.order != "relevance":
        assert [(h.record, h.distance_m, h.matched) for h in found.hits] == [
            (h.record, h.distance_m, h.matched) for h in expected.hits
        ]


def test_a_search_by_day_and_time_still_finds_what_sqlite_finds(both):
    """Days and times are checked in Python (assetmap.record.schedules), so such a search
    reads its candidates and then the page's records, in one snapshot."""
    lite, pg = both
    query = SearchQuery(
        lat=53.4263, lon=-2.3034, radius_km=20, days=("tuesday",), time=parse_time_window("morning")
    )
    counting = CountingConnection(pg.conn)
    postgres_search.configure(counting)
    counting.sent.clear()
    found = nearby.search(PostgresDatabase(counting), query, today=TODAY)
    expected = nearby.search(lite, query, today=TODAY)
    assert counting.sent[0].startswith("BEGIN") and counting.sent[-1] == "COMMIT"
    assert found.total == expected.total > 0
    assert [h.record for h in found.hits] == [h.record for h in expected.hits]


def test_the_band_of_a_distance_is_pythons_to_the_last_bit(pg):
    """BAND_OF in SQL against assetmap.freshness.stale.distance_band, at every band's edge
    (the doubles either side of each multiple of 500 m) and at random distances."""
    rng = random.Random(7)
    # The smallest distance above 0 the haversine gives is about 2.8e-155 m (the diameter
    # times asin(sqrt()) of the smallest double); the largest is half the Earth's girth.
    distances = [0.0, 2.8e-155, 1e-9, 20_015_086.796]
    for k in range(1, 4100):
        edge = float(k * DISTANCE_BAND_M)
        distances += [math.nextafter(edge, 0), edge, math.nextafter(edge, math.inf)]
    distances += [rng.uniform(0, 2_050_000) for _ in range(5000)]
    sql = (
        f"SELECT {postgres_search.BAND_OF}::bigint"
        " FROM unnest(%(distances)s::float8[]) WITH ORDINALITY AS d(distance, n) ORDER BY n"
    )
    rows = pg.conn.execute(sql, {"distances": distances, "band": DISTANCE_BAND_M}).fetchall()
    assert [band for (band,) in rows] == [distance_band(d) for d in distances]


@pytest.mark.parametrize(
    "typed", ["walking, singing, gardening", "men's tai-chi café", "O'Brien's \\ 'quoted'"]
)
def test_a_word_typed_again_is_sent_as_the_tsquery_it_made(both, typed):
    """The tsquery of each typed word is made once (about 0.3 ms a word) and then sent as a
    literal: the second search gives the same answer without making it again, whatever the
    word holds (quotes, backslashes, letters with accents)."""
    lite, pg = both
    query = SearchQuery(lat=53.4263, lon=-2.3034, radius_km=50, q=typed, limit=200)
    for word in nearby.keywords(typed):
        postgres_search._TSQUERY_OF.pop(word, None)
    answers = []
    for _ in range(2):
        counting = CountingConnection(pg.conn)
        postgres_search.configure(counting)
        counting.sent.clear()
        found = nearby.search(PostgresDatabase(counting), query, today=TODAY)
        answers.append((found.total, [(h.record["id"], h.matched) for h in found.hits]))
        made = "assetmap_word_query" in counting.sent[0]
        assert made == (len(answers) == 1)
    expected = nearby.search(lite, query, today=TODAY)
    assert answers[0] == answers[1]
    assert answers[0] == (expected.total, [(h.record["id"], h.matched) for h in expected.hits])
