"""Benchmark nearby search against a full scan and PostGIS, on synthetic assets.

    .venv/bin/python scripts/bench_search.py [--sizes 10000,100000,1000000] [--queries 1000]
        [--db postgresql://postgres@127.0.0.1:5433/postgres]

## What it measures

For each size it builds (once, cached in --work, default /tmp/assetmap-bench) a database of
synthetic assets spread over England: 65% around 41 town and city centres (a normal spread
whose width grows with the town's size) and 35% uniformly over the countryside (inside a rough
outline of England). Every synthetic record has `source` "synthetic-benchmark" and an id
starting "synthetic-", so it can never be mistaken for real data.

The same 1,000 random queries run against every engine: a centre drawn from the same mix of
towns and countryside (people live where assets are), a radius of 1 to 10 km, the nearest 50
with the total count; half with a keyword (a topic word such as "gardening"), half with a
strand filter. The engines take turns query by query after 50 untimed warm-up queries each,
so that whatever else the machine does slows them alike:

- `assetmap full`: `assetmap.search.nearby.search` on the SQLite database (candidates from
  the `assets_nearby` index, or for keywords from the place-keyed `assets_nearby_fts`;
  exact great-circle distance; see assetmap/store/search.py), in process on one open
  connection, fetching the 50 full records and their next sessions as the API does.
- `assetmap ids`: like for like with the baselines, which return ids and the total only:
  `assetmap.search.nearby.search_ids`, the same code path as the API's search without the
  fetch of the page's records. The ratios printed are each engine's time over this one's.
- `pg: assetmap ids` and `pg: assetmap full` (with `--db postgresql://...`): the same two on
  PostgreSQL (assetmap/store/postgres_search.py: one statement per search, `find_page`, as
  the tuned baseline sends; `full` has the records joined in), on a copy of the same assets
  in a database of their own on that server (assetmap_bench_N_sS_vV, built once and kept:
  rows in geohash order, indexes built after them, VACUUM ANALYZE; see `copy_to_postgresql`),
  through the store's pooled connection as the app's workers use it. Their answers are compared with
  SQLite's like the others', and a second table of ratios divides the baselines' times by
  `pg: assetmap ids`'.
- `full scan`: great-circle distance to every asset with numpy, over arrays held in memory
  (positions, strand and the ids matching each keyword, precomputed from the same database;
  no SQL at query time), then the same filters, count and nearest 50. This is the honest
  "no index at all" baseline; building its arrays is not timed.
- `postgis untuned`: the first PostGIS baseline, kept for comparison: the assets in
  PostgreSQL in random order with a `geography(Point)` column and a GiST index; `ST_DWithin`
  ordered by `ST_Distance`, LIMIT 50, plus a `count(*)` with the same conditions (two
  statements), keywords by a `to_tsvector('english', ...)` GIN index with prefix matching
  (`word:*`), Debian's default settings.
- `postgis tuned`: PostGIS as its users tune it (issue 19): the table stored in geohash order
  (`CREATE TABLE ... AS ... ORDER BY ST_GeoHash(geog::geometry, 10)`), partial indexes on
  running assets only (GiST (geog), GiST (strand, geog) through btree_gist, GIN (doc) and
  GiST (geog, doc)), VACUUM ANALYZE; one statement per query (a MATERIALIZED CTE of the
  candidates with their distance, then `count(*)` and the nearest 50 by distance and id), on
  its own connection with `jit = off` and `max_parallel_workers_per_gather = 0`; psycopg
  prepares the statement after its fifth run, as a long-lived worker would.

Both PostGIS engines are asked for sphere distances (`use_spheroid => false`), the model
assetmap uses, so that the answers compare (it is also PostGIS's quicker mode), and read
keywords as assetmap does: any of the words (`tai:* | chi:*`), assets matching more of them
first. They run only when ASSETMAP_BENCH_PG holds a DSN and psycopg is installed
(`pip install -e ".[bench]"`); otherwise a line says why they were skipped.

The answers are compared with assetmap's and the agreement printed: same totals, same ids in
the same order. (The full scan's distances come from numpy and PostGIS's sphere is 0.03 m
larger, so an asset within a rounding error of the edge could in principle differ.)

It prints p50 and p95 latency for each engine and size, for all the queries and for each
half (keywords, strands), the ratios of each engine's p50 and p95 to `assetmap ids`' (above
1: assetmap quicker) for all and for each half, the peak Python memory while searching
(tracemalloc, in a separate pass) and the process's peak resident memory. At 100,000 assets
(or the smallest size asked for) it also times GET /api/v1/search end to end through the
Flask app's test client (`api_end_to_end`).

## PostGIS on loopback (Debian 12)

    apt-get update && apt-get install -y postgresql-15 postgresql-15-postgis-3
    pg_createcluster 15 bench --port 5433 -- --auth-local=trust --auth-host=trust
    pg_ctlcluster 15 bench start            # listens on 127.0.0.1 and ::1 only (the default)
    su postgres -c "psql -p 5433 -c 'CREATE DATABASE bench'"
    su postgres -c "psql -p 5433 -d bench -c 'CREATE EXTENSION postgis'"
    su postgres -c "psql -p 5433 -d bench -c 'CREATE EXTENSION btree_gist'"   # tuned engine
    .venv/bin/pip install -e ".[bench]"
    ASSETMAP_BENCH_PG="host=127.0.0.1 port=5433 user=postgres dbname=bench" \\
        .venv/bin/python scripts/bench_search.py

Stop it afterwards with `pg_ctlcluster 15 bench stop` (`pg_dropcluster 15 bench` removes it).
PostgreSQL runs with Debian's default settings (the tuned engine changes two for its own
session); the script prints the ones that matter most. The PostGIS tables are built once and
kept (bench_assets_N_s1_v1, and ..._tuned beside it).
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import random
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from assetmap.record import taxonomy  # noqa: E402
from assetmap.record.fields import DEFAULTS, FIELD_NAMES  # noqa: E402
from assetmap.search import nearby  # noqa: E402
from assetmap.search.nearby import (  # noqa: E402
    EARTH_RADIUS_M,
    SearchQuery,
    search,
    search_ids,
)
from assetmap.store import assets as store  # noqa: E402
from assetmap.store import connect, initialise  # noqa: E402
from assetmap.store.search import match_query  # noqa: E402

SOURCE = "synthetic-benchmark"
GENERATOR_VERSION = 1  # bump when the generator changes, so cached databases are rebuilt

# (name, lat, lon, weight): weight is roughly the population in millions; Greenwich and
# Margate put towns across the 0° meridian.
TOWNS: tuple[tuple[str, float, float, float], ...] = (
    ("London", 51.5074, -0.1278, 9.0),
    ("Birmingham", 52.4862, -1.8904, 2.5),
    ("Manchester", 53.4808, -2.2426, 2.5),
    ("Leeds", 53.8008, -1.5491, 1.5),
    ("Liverpool", 53.4084, -2.9916, 1.2),
    ("Sheffield", 53.3811, -1.4701, 1.2),
    ("Bristol", 51.4545, -2.5879, 1.0),
    ("Newcastle", 54.9783, -1.6178, 1.0),
    ("Nottingham", 52.9548, -1.1581, 1.0),
    ("Bradford", 53.7960, -1.7594, 1.0),
    ("Leicester", 52.6369, -1.1398, 0.8),
    ("Coventry", 52.4068, -1.5197, 0.7),
    ("Southampton", 50.9097, -1.4044, 0.6),
    ("Brighton", 50.8225, -0.1372, 0.6),
    ("Hull", 53.7676, -0.3274, 0.6),
    ("Stoke-on-Trent", 53.0027, -2.1794, 0.6),
    ("Portsmouth", 50.8198, -1.0880, 0.5),
    ("Plymouth", 50.3755, -4.1427, 0.5),
    ("Derby", 52.9225, -1.4746, 0.5),
    ("Reading", 51.4543, -0.9781, 0.5),
    ("Sunderland", 54.9069, -1.3838, 0.5),
    ("Norwich", 52.6309, 1.2974, 0.4),
    ("Preston", 53.7632, -2.7031, 0.4),
    ("Milton Keynes", 52.0406, -0.7594, 0.4),
    ("Northampton", 52.2405, -0.9027, 0.4),
    ("Middlesbrough", 54.5742, -1.2350, 0.4),
    ("Bolton", 53.5769, -2.4282, 0.4),
    ("Stockport", 53.4106, -2.1575, 0.4),
    ("Cambridge", 52.2053, 0.1218, 0.3),
    ("Oxford", 51.7520, -1.2577, 0.3),
    ("York", 53.9600, -1.0873, 0.3),
    ("Blackpool", 53.8175, -3.0357, 0.3),
    ("Exeter", 50.7184, -3.5339, 0.3),
    ("Ipswich", 52.0567, 1.1482, 0.3),
    ("Peterborough", 52.5695, -0.2405, 0.3),
    ("Wigan", 53.5451, -2.6325, 0.3),
    ("Greenwich", 51.4826, 0.0077, 0.3),
    ("Carlisle", 54.8925, -2.9329, 0.2),
    ("Lincoln", 53.2307, -0.5406, 0.2),
    ("Canterbury", 51.2802, 1.0789, 0.2),
    ("Margate", 51.3813, 1.3862, 0.1),
)
TOWN_SHARE = 0.65
# A rough outline of England (lon, lat), clockwise from Land's End, for the countryside.
ENGLAND = (
    (-5.7, 50.05),
    (-4.2, 50.3),
    (-3.0, 50.6),
    (-1.0, 50.7),
    (0.3, 50.75),
    (1.4, 51.1),
    (1.45, 51.4),
    (0.9, 51.8),
    (1.75, 52.5),
    (1.6, 52.95),
    (0.4, 52.95),
    (0.2, 53.5),
    (-0.6, 54.5),
    (-1.5, 55.3),
    (-2.0, 55.8),
    (-2.7, 55.1),
    (-3.1, 54.95),
    (-3.6, 54.5),
    (-3.2, 54.1),
    (-3.0, 53.4),
    (-3.1, 53.25),
    (-2.7, 52.9),
    (-3.1, 52.5),
    (-2.9, 51.9),
    (-2.65, 51.6),
    (-3.0, 51.2),
    (-4.2, 51.2),
    (-4.7, 51.05),
    (-5.7, 50.05),
)

# Topic words for names, descriptions and keyword queries, with the categories they imply.
TOPICS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("walking", "Walking", ("walking", "physical_activity")),
    ("gardening", "Gardening", ("gardening_nature",)),
    ("singing", "Singing", ("music_singing",)),
    ("choir", "Community Choir", ("music_singing",)),
    ("knitting", "Knit and Natter", ("arts_creativity", "befriending_social")),
    ("painting", "Painting", ("arts_creativity",)),
    ("pottery", "Pottery", ("arts_creativity",)),
    ("dance", "Dance", ("physical_activity", "arts_creativity")),
    ("yoga", "Yoga", ("physical_activity", "mental_wellbeing")),
    ("tai chi", "Tai Chi", ("physical_activity",)),
    ("swimming", "Swimming", ("physical_activity",)),
    ("football", "Walking Football", ("physical_activity",)),
    ("cycling", "Cycling", ("physical_activity",)),
    ("running", "Running", ("physical_activity",)),
    ("lunch", "Lunch Club", ("lunch_clubs_food", "befriending_social")),
    ("cooking", "Cooking", ("lunch_clubs_food", "learning_skills")),
    ("foodbank", "Food Bank", ("food_support",)),
    ("pantry", "Community Pantry", ("food_support",)),
    ("computer", "Computer Help", ("digital_inclusion",)),
    ("reading", "Reading Group", ("learning_skills",)),
    ("english", "English Conversation", ("learning_skills",)),
    ("debt", "Debt Advice", ("money_debt",)),
    ("benefits", "Benefits Advice", ("money_debt",)),
    ("jobs", "Jobs Club", ("employment",)),
    ("housing", "Housing Advice", ("housing",)),
    ("wellbeing", "Wellbeing", ("mental_wellbeing",)),
    ("anxiety", "Anxiety Support", ("mental_wellbeing",)),
    ("carers", "Carers", ("carers",)),
    ("bereavement", "Bereavement Support", ("bereavement",)),
    ("parents", "Parents and Toddlers", ("parenting_families",)),
    ("faith", "Faith Friendship", ("faith", "befriending_social")),
    ("history", "Local History", ("heritage",)),
    ("shed", "Men's Shed", ("mens_sheds",)),
    ("volunteers", "Volunteer Drivers", ("volunteering",)),
    ("befriending", "Befriending", ("befriending_social",)),
    ("coffee", "Coffee Morning", ("befriending_social",)),
    ("bowls", "Bowls", ("physical_activity",)),
    ("allotment", "Allotment", ("gardening_nature",)),
    ("birdwatching", "Birdwatching", ("gardening_nature",)),
    ("chess", "Chess", ("befriending_social",)),
)
NOUNS = ("Group", "Club", "Circle", "Project", "Hub", "Session", "Network", "Café")
ADJECTIVES = ("friendly", "relaxed", "welcoming", "small", "lively", "weekly", "free", "local")
COSTS = ("free", "free", "low_cost", "paid")
STRANDS = tuple(s.slug for s in taxonomy.STRANDS)
STRAND_WEIGHTS = (0.15, 0.15, 0.1, 0.6)  # link workers' strand is the biggest
KINDS = tuple(t.slug for t in taxonomy.KINDS)
AUDIENCES = tuple(t.slug for t in taxonomy.AUDIENCES)
ACCESS = tuple(t.slug for t in taxonomy.ACCESSIBILITY)
FREQUENCIES = ("weekly", "weekly", "weekly", "fortnightly", "first", "last")


def _england_polygon():
    from shapely.geometry import Polygon

    return Polygon(ENGLAND)


def sample_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """n (lat, lon) points: TOWN_SHARE around towns, the rest uniform over England."""
    import shapely

    weights = np.array([t[3] for t in TOWNS])
    towns_n = int(n * TOWN_SHARE)
    which = rng.choice(len(TOWNS), size=towns_n, p=weights / weights.sum())
    sigma_km = 1.5 + 2.0 * np.sqrt(weights[which])
    t_lat = np.array([t[1] for t in TOWNS])[which] + rng.normal(size=towns_n) * sigma_km / 111.2
    t_lon = np.array([t[2] for t in TOWNS])[which] + rng.normal(size=towns_n) * sigma_km / (
        111.2 * np.cos(np.radians(t_lat))
    )
    place = [TOWNS[i][0] for i in which]
    england = _england_polygon()
    min_lon, min_lat, max_lon, max_lat = england.bounds
    needed = n - towns_n
    lats, lons, found = [], [], 0
    while found < needed:
        lon = rng.uniform(min_lon, max_lon, size=2 * needed)
        lat = rng.uniform(min_lat, max_lat, size=2 * needed)
        inside = shapely.contains_xy(england, lon, lat)
        lats.append(lat[inside])
        lons.append(lon[inside])
        found += int(inside.sum())
    r_lat, r_lon = np.concatenate(lats)[:needed], np.concatenate(lons)[:needed]
    place += ["Countryside"] * len(r_lat)
    return np.concatenate([t_lat, r_lat]), np.concatenate([t_lon, r_lon]), place


def synthetic_record(i: int, lat: float, lon: float, place: str, rng: random.Random) -> dict:
    """One synthetic asset, valid by construction (a sample is checked by validate_asset)."""
    word, topic, categories = rng.choice(TOPICS)
    noun = rng.choice(NOUNS)
    strand = rng.choices(STRANDS, STRAND_WEIGHTS)[0]
    approaches = taxonomy.STRANDS_BY_SLUG[strand].approaches
    where = "the village" if place == "Countryside" else place
    audiences = rng.sample(AUDIENCES, rng.choice((1, 1, 2)))
    sessions = [
        {
            "day": rng.choice(taxonomy.DAYS).slug,
            "frequency": rng.choice(FREQUENCIES),
            "start": f"{h:02d}:{rng.choice(('00', '30'))}",
            "end": f"{h + 2:02d}:00",
        }
        for h in rng.sample(range(9, 20), rng.choice((0, 1, 1, 2)))
    ]
    # Every field empty or at its default first, so fields added later need no change here.
    record = {name: copy.deepcopy(DEFAULTS.get(name)) for name in FIELD_NAMES}
    record.update(
        {
            "id": f"synthetic-{i:07d}",
            "name": f"{place if place != 'Countryside' else 'Village'} {topic} {noun}",
            "description": (
                f"A {rng.choice(ADJECTIVES)} {word} {noun.lower()} in {where} for "
                f"{' and '.join(taxonomy.label(taxonomy.AUDIENCES, a).lower() for a in audiences)}."
                " Synthetic record made for the search benchmark."
            ),
            "kind": rng.choice(KINDS),
            "strand": strand,
            "approach": rng.choice(approaches).slug if rng.random() < 0.7 else None,
            "categories": list(categories),
            "audiences": audiences,
            "organisation": f"{where} Community Trust",
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "schedule": {"sessions": sessions, "notes": ""},
            "cost": rng.choice(COSTS),
            "accessibility": sorted(rng.sample(ACCESS, rng.choice((0, 1, 2, 3)))),
            "self_referral": rng.random() < 0.6,
            "link_worker_referral": True,
            "status": "active" if rng.random() < 0.97 else rng.choice(("paused", "closed")),
            "archived": rng.random() < 0.01,
            "last_verified": "2025-01-01",
            "source": SOURCE,
            "source_id": f"{i:07d}",
        }
    )
    return record


def build_database(path: Path, n: int, seed: int) -> None:
    """Write n synthetic assets to a new database at path (through a .building file)."""
    from assetmap.record.validation import validate_asset

    building = path.with_name(path.name + ".building")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    initialise(building)
    db = connect(building)
    rng = random.Random(seed)
    lats, lons, places = sample_points(n, np.random.default_rng(seed))
    order = np.random.default_rng(seed + 1).permutation(n)  # towns interleaved, as real data
    when = store.now()
    batch: list[dict] = []
    started = time.perf_counter()
    with store.transaction(db):
        for count, i in enumerate(order):
            record = synthetic_record(int(i), float(lats[i]), float(lons[i]), places[i], rng)
            if count < 200:  # the generator keeps to the rules every import keeps to
                checked = validate_asset(record, bounds=None)
                assert checked.ok and checked.record == record, (checked.errors, record)
            batch.append({**store.to_row(record), "created_at": when, "updated_at": when})
            if len(batch) == 10_000:
                db["assets"].insert_all(batch)
                batch = []
                print(f"  {count + 1:,} of {n:,}", end="\r", file=sys.stderr, flush=True)
        if batch:
            db["assets"].insert_all(batch)
    # The place-keyed keyword index in one segment, as migration 7 leaves a database it
    # upgrades (a million inserts leave a few dozen, each one more seek for every word).
    db.conn.execute("INSERT INTO assets_nearby_fts (assets_nearby_fts) VALUES ('optimize')")
    db.conn.execute("ANALYZE")
    db.close()
    print(f"  built {n:,} assets in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    building.replace(path)


def database_path(work: Path, n: int, seed: int) -> Path:
    return work / f"synthetic-{n}-seed{seed}-v{GENERATOR_VERSION}.db"


def ensure_database(work: Path, n: int, seed: int) -> Path:
    """The cached database of n synthetic assets, built when absent."""
    path = database_path(work, n, seed)
    if not path.exists():
        print(f"building {path} ...", file=sys.stderr)
        work.mkdir(parents=True, exist_ok=True)
        build_database(path, n, seed)
    initialise(path)  # a cached database is brought up to the current schema
    return path


# ---------------------------------------------------------------------------------------------
# assetmap on PostgreSQL (--db postgresql://...)
# ---------------------------------------------------------------------------------------------


def is_postgresql(target) -> bool:
    """Whether a --db value is a PostgreSQL URL (else it is a SQLite path)."""
    return str(target).startswith(("postgresql://", "postgres://"))


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the server (and with the user) of `server_url`."""
    from urllib.parse import urlsplit

    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


def create_database(server_url: str, name: str, *, replace: bool = False) -> str:
    """Database `name` on the server of `server_url` (created when absent, dropped first with
    `replace`), with the extensions assetmap's schema asks for; its URL."""
    import psycopg

    from assetmap.store import postgres

    url = database_url(server_url, name)
    postgres.close_pool(url)
    with psycopg.connect(server_url, autocommit=True) as conn:
        if replace:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return url


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    from assetmap.store import postgres

    postgres.close_pool(database_url(server_url, name))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_to_postgresql(sqlite_path: Path, url: str, tables: tuple[str, ...] = ("assets",)) -> None:
    """Copy tables of a synthetic SQLite database into the PostgreSQL database at `url`
    (migrated to assetmap's schema first; the tables must be empty there), as `assetmap copy`
    would: every column as stored, the ids kept, in one transaction, assets stored in order of
    place (geohash, as the tuned PostGIS baseline's table), indexes made after the rows, each
    identity sequence moved past the copied ids, then VACUUM ANALYZE. PostgreSQL computes the
    search columns (geog, doc)."""
    import psycopg

    initialise(url)
    source = connect(sqlite_path)
    with psycopg.connect(url, autocommit=True) as pg:
        with pg.transaction():
            for table in tables:
                _copy_table(source, pg, table)
        for table in tables:
            pg.execute(f"VACUUM ANALYZE {table}")
    source.close()


def _copy_table(source, pg, table: str) -> None:
    described = pg.execute(
        "SELECT column_name, is_identity = 'YES' FROM information_schema.columns"
        " WHERE table_name = %s AND is_generated = 'NEVER'",
        [table],
    ).fetchall()
    theirs = {name for name, _ in described}
    columns = [r[1] for r in source.conn.execute(f"PRAGMA table_info({table})") if r[1] in theirs]
    names = ", ".join(f'"{c}"' for c in columns)
    pg.execute(f"CREATE TEMPORARY TABLE copying (LIKE {table}) ON COMMIT DROP")
    rows = source.conn.execute(f"SELECT {names} FROM {table}")
    with pg.cursor() as cur, cur.copy(f"COPY copying ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row))
    order = ""
    if table == "assets":
        order = " ORDER BY ST_GeoHash(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 10), rid"
    # The table's indexes (not its keys) dropped and made again after the rows, in one sorted
    # pass each, as the tuned PostGIS baseline's are: quicker than row by row, and the same
    # kind of index for both (a GiST index built in bulk is laid out better than one grown).
    indexes = pg.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN"
        " (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    ).fetchall()
    for name, _ in indexes:
        pg.execute(f'DROP INDEX "{name}"')
    pg.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM copying{order}")
    for _, definition in indexes:
        pg.execute(definition)
    pg.execute("DROP TABLE copying")
    for name, identity in described:
        if identity:
            pg.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s),"
                f' (SELECT coalesce(max("{name}"), 0) + 1 FROM {table}), false)',
                [table, name],
            )


def ensure_postgresql_database(server_url: str, path: Path, n: int, seed: int) -> str:
    """The PostgreSQL copy of a synthetic database (built when absent or incomplete, and kept:
    assetmap_bench_N_sS_vV on the server of `server_url`), brought up to the current schema."""
    import psycopg

    name = f"assetmap_bench_{n}_s{seed}_v{GENERATOR_VERSION}"
    url = create_database(server_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        has_assets = conn.execute("SELECT to_regclass('assets')").fetchone()[0] is not None
        held = conn.execute("SELECT count(*) FROM assets").fetchone()[0] if has_assets else -1
    if held != n:
        print(f"copying {n:,} assets to PostgreSQL database {name} ...", file=sys.stderr)
        started = time.perf_counter()
        url = create_database(server_url, name, replace=True)
        copy_to_postgresql(path, url)
        print(f"  copied in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    initialise(url)
    return url


# ---------------------------------------------------------------------------------------------
# PostGIS baseline
# ---------------------------------------------------------------------------------------------

PG_DSN_VARIABLE = "ASSETMAP_BENCH_PG"


def postgis_connection():
    """A psycopg connection to ASSETMAP_BENCH_PG, or (None, why not) when unavailable."""
    dsn = os.environ.get(PG_DSN_VARIABLE)
    if not dsn:
        return None, f"{PG_DSN_VARIABLE} is not set (see this script's docstring)"
    try:
        import psycopg
    except ImportError:
        return None, 'psycopg is not installed (pip install -e ".[bench]")'
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
        conn.execute("SELECT postgis_version()")
    except Exception as e:  # any failure means: no baseline, say why
        return None, f"cannot use PostGIS at {dsn!r}: {str(e).strip().splitlines()[0]}"
    return conn, ""


def ensure_postgis_table(conn, sqlite_path: Path, n: int, seed: int) -> str:
    """The PostGIS copy of a synthetic database (built when absent): its table name."""
    table = f"bench_assets_{n}_s{seed}_v{GENERATOR_VERSION}"
    exists = conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0]
    if exists:
        return table
    print(f"copying {n:,} assets to PostGIS table {table} ...", file=sys.stderr)
    started = time.perf_counter()
    conn.execute(f"DROP TABLE IF EXISTS {table}_loading")
    conn.execute(
        f"""CREATE TABLE {table}_loading (
            rid integer PRIMARY KEY, id text NOT NULL, strand text NOT NULL,
            status text NOT NULL, archived boolean NOT NULL, lat double precision NOT NULL,
            lon double precision NOT NULL, name text, description text, categories text,
            organisation text)"""
    )
    db = connect(sqlite_path)
    rows = db.conn.execute(
        "SELECT rid, id, strand, status, archived, lat, lon, name, description, categories, "
        "organisation FROM assets"
    )
    with conn.cursor() as cur, cur.copy(f"COPY {table}_loading FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row[:4], bool(row[4]), *row[5:]))
    db.close()
    conn.execute(
        f"""ALTER TABLE {table}_loading
            ADD COLUMN geog geography(Point, 4326),
            ADD COLUMN doc tsvector"""
    )
    conn.execute(
        f"""UPDATE {table}_loading SET
            geog = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography,
            doc = to_tsvector('english', coalesce(name, '') || ' ' || coalesce(description, '')
                || ' ' || replace(coalesce(categories, ''), '_', ' ') || ' '
                || coalesce(organisation, ''))"""
    )
    conn.execute(f"CREATE INDEX ON {table}_loading USING gist (geog)")
    conn.execute(f"CREATE INDEX ON {table}_loading USING gin (doc)")
    conn.execute(f"VACUUM ANALYZE {table}_loading")
    conn.execute(f"ALTER TABLE {table}_loading RENAME TO {table}")
    print(f"  copied in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return table


# ---------------------------------------------------------------------------------------------
# The workload and the engines
# ---------------------------------------------------------------------------------------------

NEAREST = 50
TODAY = date(2026, 1, 6)  # next sessions are counted from a fixed day, so runs compare


@dataclass(frozen=True)
class BenchQuery:
    lat: float
    lon: float
    radius_km: float
    keywords: str | None  # half the queries
    strand: str | None  # the other half


@dataclass
class Answer:
    total: int
    ids: list[str]


def make_queries(count: int, seed: int) -> list[BenchQuery]:
    """Centres from the same mix as the assets, radius 1-10 km, keywords or a strand."""
    lats, lons, _ = sample_points(count, np.random.default_rng(seed + 100))
    order = np.random.default_rng(seed + 101).permutation(count)  # towns and country mixed
    rng = random.Random(seed + 102)
    queries = []
    for n, i in enumerate(order):
        keyword = rng.choice(TOPICS)[0] if n % 2 == 0 else None
        strand = None if keyword else rng.choices(STRANDS, STRAND_WEIGHTS)[0]
        queries.append(
            BenchQuery(float(lats[i]), float(lons[i]), rng.uniform(1, 10), keyword, strand)
        )
    return queries


class AssetmapEngine:
    """assetmap.search.nearby.search, in process, on one open connection (as a worker keeps),
    fetching the page's full records and their next sessions as the API does."""

    name = "assetmap full"

    def __init__(self, target: Path | str, on_postgresql: bool = False):
        self.db = connect(target)
        if on_postgresql:  # the same search on the PostgreSQL copy (--db postgresql://...)
            self.name = f"{PG_PREFIX}{self.name}"

    def query(self, q: BenchQuery) -> SearchQuery:
        return SearchQuery(
            lat=q.lat,
            lon=q.lon,
            radius_km=q.radius_km,
            q=q.keywords or "",
            strands=(q.strand,) if q.strand else (),
            limit=NEAREST,
        )

    def run(self, q: BenchQuery) -> Answer:
        results = search(self.db, self.query(q), today=TODAY)
        return Answer(results.total, [hit.record["id"] for hit in results.hits])

    def close(self):
        self.db.close()


class AssetmapIdsEngine(AssetmapEngine):
    """Like for like with the other engines, which return ids and the total only: the same
    search code path as the API's (assetmap.search.nearby.search_ids), without fetching the
    records and next sessions of the page."""

    name = "assetmap ids"

    def run(self, q: BenchQuery) -> Answer:
        total, ids = search_ids(self.db, self.query(q), today=TODAY)
        return Answer(total, ids)


class FullScanEngine:
    """Great-circle distance to every asset with numpy, then filter, count and sort.

    Positions, strands, open flags and ids are loaded into arrays first, and so is, for each
    keyword of the workload, which assets FTS5 matches (the same matching as assetmap); that
    preparation is not timed. Each query then computes all n distances.
    """

    name = "full scan"

    def __init__(self, path: Path, queries: list[BenchQuery]):
        db = connect(path)
        rows = db.conn.execute(
            "SELECT rid, id, lat, lon, strand, status = 'active' AND archived = 0 FROM assets"
        ).fetchall()
        self.rids = np.array([r[0] for r in rows], dtype=np.int64)
        self.ids = np.array([r[1] for r in rows], dtype=object)
        self.lat = np.radians(np.array([r[2] for r in rows]))
        self.lon = np.radians(np.array([r[3] for r in rows]))
        self.cos_lat = np.cos(self.lat)
        strands = np.array([r[4] for r in rows], dtype=object)
        self.open = np.array([bool(r[5]) for r in rows])
        self.by_strand = {s: self.open & (strands == s) for s in STRANDS}
        self.by_keywords = {}
        self.words_matched = {}  # for several words: how many each asset matched
        for keywords in {q.keywords for q in queries if q.keywords}:
            counts = np.zeros(len(rows), dtype=np.int64)
            for word in keywords.split():
                matched = [
                    r[0]
                    for r in db.conn.execute(
                        "SELECT rowid FROM assets_fts WHERE assets_fts MATCH ?",
                        [match_query(nearby.keywords(word))],
                    )
                ]
                counts += np.isin(self.rids, matched)
            self.by_keywords[keywords] = self.open & (counts > 0)
            self.words_matched[keywords] = counts
        db.close()

    def run(self, q: BenchQuery) -> Answer:
        lat0, lon0 = math.radians(q.lat), math.radians(q.lon)
        s_lat = np.sin((self.lat - lat0) / 2)
        s_lon = np.sin((self.lon - lon0) / 2)
        h = s_lat * s_lat + math.cos(lat0) * self.cos_lat * s_lon * s_lon
        distance = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, h)))
        wanted = self.by_keywords[q.keywords] if q.keywords else self.by_strand[q.strand]
        inside = np.flatnonzero(wanted & (distance <= q.radius_km * 1000))
        if q.keywords and len(q.keywords.split()) > 1:  # more words matched first, as assetmap
            score = -self.words_matched[q.keywords][inside]
            ranked = sorted(zip(score, distance[inside], self.ids[inside], strict=True))
            return Answer(len(inside), [i for *_, i in ranked[:NEAREST]])
        if len(inside) > NEAREST:
            nearest = np.argpartition(distance[inside], NEAREST)[: NEAREST + 1]
            cut = distance[inside][nearest].max()
            candidates = inside[distance[inside] <= cut]
        else:
            candidates = inside
        ranked = sorted(zip(distance[candidates], self.ids[candidates], strict=True))
        return Answer(len(inside), [i for _, i in ranked[:NEAREST]])

    def close(self):
        pass


def postgis_keywords(keywords: str, params: dict) -> tuple[str, str]:
    """The condition for keywords as assetmap reads them (any of the words, each at the start
    of a word: `word:*`), and, for several words, the ORDER BY term that puts assets matching
    more of them first, as assetmap does (an empty string for one word)."""
    words = keywords.split()
    params["tsquery"] = " | ".join(f"{word}:*" for word in words)
    if len(words) == 1:
        return "doc @@ to_tsquery('english', %(tsquery)s)", ""
    matched = []
    for i, word in enumerate(words):
        params[f"word{i}"] = f"{word}:*"
        matched.append(f"(doc @@ to_tsquery('english', %(word{i})s))::int")
    return "doc @@ to_tsquery('english', %(tsquery)s)", f"{' + '.join(matched)} DESC, "


class PostgisEngine:
    """The first PostGIS baseline, kept for comparison (labelled "postgis untuned"): rows in
    random order, whole-table indexes, two statements per query, Debian's default settings.
    PostGIS: ST_DWithin on a geography column (GiST), ordered by ST_Distance, LIMIT 50,
    and the count with the same conditions; keywords through a tsvector GIN index."""

    name = "postgis untuned"

    def __init__(self, conn, table: str):
        self.conn, self.table = conn, table

    def run(self, q: BenchQuery) -> Answer:
        centre = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"
        where = (
            f"ST_DWithin(geog, {centre}, %(radius)s, false) AND status = 'active' AND NOT archived"
        )
        params = {"lon": q.lon, "lat": q.lat, "radius": q.radius_km * 1000}
        first = ""
        if q.keywords:
            condition, first = postgis_keywords(q.keywords, params)
            where += f" AND {condition}"
        else:
            where += " AND strand = %(strand)s"
            params["strand"] = q.strand
        total = self.conn.execute(f"SELECT count(*) FROM {self.table} WHERE {where}", params)
        total = total.fetchone()[0]
        rows = self.conn.execute(
            f"SELECT id FROM {self.table} WHERE {where}"
            f" ORDER BY {first}ST_Distance(geog, {centre}, false), id LIMIT {NEAREST}",
            params,
        ).fetchall()
        return Answer(total, [r[0] for r in rows])

    def close(self):
        pass


def ensure_tuned_table(conn, table: str) -> str:
    """The tuned copy of a PostGIS table (built when absent): its rows stored in geohash order,
    so that neighbours share pages; partial indexes on running assets only, GiST (geog),
    GiST (strand, geog) through btree_gist, GIN (doc) and GiST (geog, doc); VACUUM ANALYZE."""
    tuned = f"{table}_tuned"
    if conn.execute("SELECT to_regclass(%s)", [tuned]).fetchone()[0]:
        return tuned
    print(f"building the tuned PostGIS table {tuned} ...", file=sys.stderr)
    started = time.perf_counter()
    conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    conn.execute(f"DROP TABLE IF EXISTS {tuned}_loading")
    conn.execute(
        f"""CREATE TABLE {tuned}_loading AS
            SELECT rid, id, strand, status, archived, geog, doc FROM {table}
            ORDER BY ST_GeoHash(geog::geometry, 10)"""
    )
    running = "WHERE status = 'active' AND NOT archived"
    conn.execute(f"ALTER TABLE {tuned}_loading ADD PRIMARY KEY (rid)")
    conn.execute(f"CREATE INDEX ON {tuned}_loading USING gist (geog) {running}")
    conn.execute(f"CREATE INDEX ON {tuned}_loading USING gist (strand, geog) {running}")
    conn.execute(f"CREATE INDEX ON {tuned}_loading USING gin (doc) {running}")
    conn.execute(f"CREATE INDEX ON {tuned}_loading USING gist (geog, doc) {running}")
    conn.execute(f"VACUUM ANALYZE {tuned}_loading")
    conn.execute(f"ALTER TABLE {tuned}_loading RENAME TO {tuned}")
    print(f"  tuned in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return tuned


class TunedPostgisEngine:
    """PostGIS as a PostGIS user would tune it (issue 19): the table in geohash order, partial
    indexes on running assets (see `ensure_tuned_table`), one statement per query (the
    candidates with their sphere distance in a MATERIALIZED CTE, then their count and the
    nearest 50 by distance and id), on its own connection with JIT off and no parallel workers
    (both cost more than they save on a query of a few milliseconds). psycopg prepares the
    statement after its fifth run, as a long-lived worker would."""

    name = "postgis tuned"

    def __init__(self, dsn: str, table: str):
        import psycopg

        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute("SET jit = off")
        self.conn.execute("SET max_parallel_workers_per_gather = 0")
        self.table = table

    def run(self, q: BenchQuery) -> Answer:
        centre = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"
        params = {"lon": q.lon, "lat": q.lat, "radius": q.radius_km * 1000}
        first = matched = ""
        if q.keywords:
            condition, first = postgis_keywords(q.keywords, params)
            if first:  # several words: how many each asset matched, to order by
                matched = f", {first.removesuffix(' DESC, ')} AS matched"
                first = "matched DESC, "
        else:
            condition = "strand = %(strand)s"
            params["strand"] = q.strand
        rows = self.conn.execute(
            f"""WITH near AS MATERIALIZED (
                    SELECT id, ST_Distance(geog, {centre}, false) AS distance{matched}
                    FROM {self.table}
                    WHERE status = 'active' AND NOT archived
                      AND ST_DWithin(geog, {centre}, %(radius)s, false) AND {condition})
                SELECT (SELECT count(*) FROM near), id FROM near
                ORDER BY {first}distance, id LIMIT {NEAREST}""",
            params,
        ).fetchall()
        return Answer(rows[0][0] if rows else 0, [r[1] for r in rows])

    def close(self):
        self.conn.close()


def time_engines(engines: list, queries: list[BenchQuery], warm_up: int = 50) -> dict:
    """Each engine's latency (seconds) and answer for every query, after an untimed warm-up.

    The engines take turns query by query, so that anything else the machine is doing in
    the meantime slows them alike rather than whichever happened to be running.
    """
    for engine in engines:
        for q in queries[:warm_up]:
            engine.run(q)
    results = {engine.name: ([], []) for engine in engines}
    for q in queries:
        for engine in engines:
            started = time.perf_counter()
            answer = engine.run(q)
            results[engine.name][0].append(time.perf_counter() - started)
            results[engine.name][1].append(answer)
    return results


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def api_end_to_end(path: Path, queries: list[BenchQuery]) -> str:
    """HOOK: p50 of GET /api/v1/search through the Flask app (test client, no network), once
    the web half of the search issue has added the endpoint; until then, a line saying so."""
    from assetmap import create_app

    app = create_app({"ASSETMAP_DB": str(path), "SECRET_KEY": "bench-only", "TESTING": True})
    if not any(rule.rule == "/api/v1/search" for rule in app.url_map.iter_rules()):
        return "skipped: /api/v1/search does not exist yet (the web half of the issue adds it)"
    client = app.test_client()
    latencies = []
    for n, q in enumerate(queries):
        args = {"lat": q.lat, "lon": q.lon, "radius_km": q.radius_km, "limit": NEAREST}
        args.update({"q": q.keywords} if q.keywords else {"strand": q.strand})
        started = time.perf_counter()
        response = client.get("/api/v1/search", query_string=args)
        if n >= 20:  # the first few warm the app up
            latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            return f"failed: {response.status_code} {response.get_data(as_text=True)[:200]}"
    return f"p50 {percentile(latencies, 50) * 1000:.2f} ms over {len(latencies)} requests"


def compare(reference: list[Answer], other: list[Answer]) -> str:
    """How far another engine's answers agree with assetmap's."""
    pairs = list(zip(reference, other, strict=True))
    same_total = sum(a.total == b.total for a, b in pairs)
    same_ids = sum(a.ids == b.ids for a, b in pairs)
    line = f"same total {same_total}/{len(pairs)}, same ids in order {same_ids}/{len(pairs)}"
    if same_total < len(pairs):
        worst = max(abs(a.total - b.total) for a, b in pairs)
        line += f"; totals differ by {worst} at most"
    return line


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def search_memory(path: Path, queries: list[BenchQuery]) -> float:
    """Peak Python memory (MB) allocated while searching, by tracemalloc (a separate pass:
    tracing slows the searches, so it is not part of the timings)."""
    engine = AssetmapEngine(path)
    tracemalloc.start()
    for q in queries:
        engine.run(q)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    engine.close()
    return peak / 1e6


PG_PREFIX = "pg: "  # the engines of assetmap on PostgreSQL: "pg: assetmap ids" and "... full"
HALVES = (("all", None), ("keywords", True), ("strand", False))
LIKE_FOR_LIKE = "assetmap ids"  # the ratios' denominator: the engine that returns what others do


def _half(values: list, queries: list[BenchQuery], keywords: bool | None) -> list:
    if keywords is None:
        return values
    return [v for v, q in zip(values, queries, strict=True) if bool(q.keywords) == keywords]


def _ratios(summary: dict, name: str, against: str) -> str:
    """`name`'s p50 and p95 over `against`'s, for each half of the queries, on one line."""
    cells = []
    for half, _ in HALVES:
        (p50, p95), (m50, m95) = summary[name, half], summary[against, half]
        cells.append(f"{half} {p50 / m50:5.2f}x {p95 / m95:5.2f}x")
    return ";  ".join(cells)


def bench_size(n: int, args, queries: list[BenchQuery], pg) -> dict:
    path = ensure_database(args.work, n, args.seed)
    size_mb = path.stat().st_size / 1e6
    print(f"\n== {n:,} synthetic assets ({path.name}, {size_mb:,.0f} MB)")
    engines = [AssetmapIdsEngine(path), AssetmapEngine(path), FullScanEngine(path, queries)]
    pg_url = None
    if args.pg_server:
        pg_url = ensure_postgresql_database(args.pg_server, path, n, args.seed)
        engines += [AssetmapIdsEngine(pg_url, True), AssetmapEngine(pg_url, True)]
    if pg is not None:
        table = ensure_postgis_table(pg, path, n, args.seed)
        engines.append(PostgisEngine(pg, table))
        engines.append(TunedPostgisEngine(args.pg_dsn, ensure_tuned_table(pg, table)))
    results = time_engines(engines, queries)
    for engine in engines:
        engine.close()
    del engines
    reference = results["assetmap full"][1]
    totals = sorted(a.total for a in reference)
    print(
        f"   {len(queries):,} queries: median total {totals[len(totals) // 2]:,}, "
        f"95th percentile total {totals[int(len(totals) * 0.95)]:,}"
    )
    print(f"   {'engine':<18} {'p50 / p95 ms: all':>18} {'keywords':>16} {'strand':>16}")
    summary = {}
    for name, (latencies, _) in results.items():
        cells = []
        for half, wanted in HALVES:
            times = _half(latencies, queries, wanted)
            p50, p95 = percentile(times, 50), percentile(times, 95)
            summary[name, half] = (p50, p95)
            cells.append(f"{p50 * 1000:7.2f} /{p95 * 1000:7.2f}")
        print(f"   {name:<18} {cells[0]:>18} {cells[1]:>16} {cells[2]:>16}")
    print(f"   baseline time / {LIKE_FOR_LIKE} time, p50 and p95 (above 1: assetmap quicker):")
    for name in results:
        if name == LIKE_FOR_LIKE:
            continue
        print(f"   {name:<18} {_ratios(summary, name, LIKE_FOR_LIKE)}")
    pg_ids = f"{PG_PREFIX}{LIKE_FOR_LIKE}"
    if pg_ids in results:
        print(f"   baseline time / {pg_ids} time (assetmap on PostgreSQL), p50 and p95:")
        for name in results:
            if name in (pg_ids, f"{PG_PREFIX}assetmap full") or name.startswith("assetmap"):
                continue
            print(f"   {name:<18} {_ratios(summary, name, pg_ids)}")
    for name, (_, answers) in results.items():
        if name != "assetmap full":
            print(f"   {name} vs assetmap full: {compare(reference, answers)}")
    if pg is None:
        print(f"   postgis: skipped, {args.pg_reason}")
    print(f"   peak Python memory while searching: {search_memory(path, queries[:100]):.1f} MB")
    if n == (100_000 if 100_000 in args.sizes else min(args.sizes)):
        print(f"   GET /api/v1/search end to end: {api_end_to_end(path, queries[:200])}")
        if pg_url:
            on_pg = api_end_to_end(pg_url, queries[:200])
            print(f"   GET /api/v1/search end to end on PostgreSQL: {on_pg}")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        type=lambda text: [int(n) for n in text.split(",")],
        help="comma-separated numbers of assets (default 10000,100000,1000000)",
    )
    parser.add_argument("--queries", type=int, default=1000, help="queries per size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/assetmap-bench"))
    parser.add_argument(
        "--db",
        action="append",
        default=[],
        metavar="PATH_OR_URL",
        help="where assetmap's own search runs, besides the SQLite databases (always built, in "
        "--work, the reference for every answer): a folder (or sqlite:///folder) instead of "
        "--work, or a PostgreSQL URL (postgresql://user@host:port/dbname, PostGIS installed): "
        "a copy of each size's assets in database assetmap_bench_N_sS_vV made on that server "
        "and kept, searched as `pg: assetmap ids` and `pg: assetmap full`. May be given twice.",
    )
    args = parser.parse_args(argv)
    args.pg_server = None
    for target in args.db:
        if is_postgresql(target):
            args.pg_server = target
        else:
            args.work = Path(str(target).removeprefix("sqlite:///"))
    pg, args.pg_reason = postgis_connection()
    args.pg_dsn = os.environ.get(PG_DSN_VARIABLE)
    print(f"bench_search: sizes {args.sizes}, {args.queries} queries, seed {args.seed}")
    if args.pg_server:
        from assetmap.store.postgres import without_password

        print(f"assetmap on PostgreSQL too: databases on {without_password(args.pg_server)}")
    if pg is not None:
        settings = pg.execute(
            "SELECT string_agg(name || '=' || setting, ', ') FROM pg_settings"
            " WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', 'jit',"
            " 'max_parallel_workers_per_gather')"
        ).fetchone()[0]
        print(
            f"PostGIS: {pg.execute('SELECT postgis_full_version()').fetchone()[0][:40]}...; "
            f"{settings}"
        )
    else:
        print(f"PostGIS baseline skipped: {args.pg_reason}")
    queries = make_queries(args.queries, args.seed)
    summaries = {n: bench_size(n, args, queries, pg) for n in args.sizes}
    print("\ntargets (assetmap in process):")
    for n, limit in ((100_000, 0.002), (1_000_000, 0.005)):
        if n in summaries:
            p50, p95 = summaries[n]["assetmap full", "all"]
            verdict = "met" if p50 <= limit else "NOT met"
            print(
                f"   assetmap full p50 at {n:,} <= {limit * 1000:g} ms:"
                f" {p50 * 1000:.2f} ms, {verdict}"
            )
    for n, summary in summaries.items():
        if ("postgis tuned", "all") not in summary:
            continue
        mine_all = (LIKE_FOR_LIKE, "assetmap full")
        mine_all += tuple(
            f"{PG_PREFIX}{m}" for m in mine_all if (f"{PG_PREFIX}{m}", "all") in summary
        )
        for mine in mine_all:
            verdicts = []
            for half, _ in HALVES:
                (p50, p95), (pg50, pg95) = summary[mine, half], summary["postgis tuned", half]
                verdicts.append(f"{half} {'met' if p50 <= pg50 and p95 <= pg95 else 'NOT met'}")
            print(
                f"   {mine} p50 and p95 no slower than tuned PostGIS at {n:,}: "
                f"{', '.join(verdicts)}"
            )
    print(
        f"peak resident memory of this process: {peak_rss_mb():,.0f} MB"
        " (the full-scan arrays included)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
