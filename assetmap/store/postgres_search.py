"""All search SQL on PostgreSQL + PostGIS: the functions of assetmap/store/search.py, same answers.

assetmap/store/search.py is the SQLite store's search; this module has the same functions with
the same arguments and results (find_page, count_within, all_within, ranked_within, records,
checked_dates, snapshot), for a database whose `db.conn` is a psycopg 3 connection (or the
store's PostgreSQL facade, whose `.raw` is one: see `_raw`). assetmap/search/nearby.py calls
either; nothing above the store knows which. Here `find_page` answers a search near a place
(keywords, filters and the page's records included) in one statement; SQLite's returns None,
and nearby.py asks it step by step (as it does both stores for a search by day or time).

What the tuned PostGIS baseline of scripts/bench_search.py does (issue 19), and why:

- `SEARCH_DDL` adds two generated columns to `assets`, so that every writer keeps them in step
  without triggers: `geog`, the point as a geography, and `doc`, the indexed words (below).
  Partial indexes hold the running assets only (assetmap/store/visibility.py RUNNING, word for
  word, so the planner can prove a query's WHERE implies it): GiST (geog) for a place alone,
  GiST (strand, geog) through btree_gist for a strand near a place, GIN (doc) for a rare word
  anywhere, GiST (geog, doc) for a common word near a place.
- One statement per query (`find_page`): a MATERIALIZED CTE of the candidates with their
  distance, then their count and the page in the search's order with its records, with no
  BEGIN or COMMIT around it (one statement reads one snapshot). On its connection JIT is off
  and no parallel workers start (`SESSION_SETTINGS`): compiling or forking costs more than a
  query of a few milliseconds takes.
- The distance is assetmap.search.nearby.haversine_m, computed in SQL operation for operation
  from the very numbers of `Haversine` (PostgreSQL's sin, cos, asin and sqrt on float8 are the C
  library's, as Python's are), so PostgreSQL and Python agree to the last bit.
  The GiST index only finds candidates: the assets in the box around the circle (a metre wider
  than the radius, since PostGIS's sphere differs from ours in the ninth digit) that
  ST_DWithin's index condition reads, `geog && _ST_Expand(centre, reach)`, without the exact
  ST_DWithin test that follows it there (a sphere distance for every candidate, a third of a
  strand search's time): the haversine decides.
  Ties go by id in code-point order (COLLATE "C"), as Python sorts strings.
- The baseline also stores its rows in geohash order. A live table cannot keep an order (and
  CLUSTER refuses a partial index), so this does not; copying a directory in (`assetmap copy`)
  can insert its rows in order of place.

Words. SQLite's FTS5 index uses `porter unicode61 remove_diacritics 2`: runs of letters and
digits are words, everything else separates them; each word is lowercased, diacritics come off
Latin letters, and Martin Porter's stemmer runs on words of 3 to 64 bytes. PostgreSQL's own
parser cuts text differently (an e-mail address or a URL is one token, "tai-chi" three), so
`assetmap_terms` does it as unicode61 does: lower(), NFD, combining marks after a Latin letter
removed, NFC, split at every run of characters that are not [:alnum:], and each word of 3 to
64 bytes stemmed by the snowball `porter` dictionary (Porter's published algorithm; FTS5 has
two changes from his C version, which `_TERM` makes too).
That needs a UTF-8 database whose LC_CTYPE is a UTF-8 locale (C.UTF-8, en_GB.UTF-8: lower() and
[:alnum:] then know every script); tests/test_postgres_search.py lists where the two engines
still make different terms of a word.

The extensions need a role allowed to create them (a superuser, or a managed service's admin
role: PostGIS and btree_gist are on every major one's list). Functions set their search_path
to the one they were created with, so pg_dump and pg_restore (which empty it) still work.

`doc` holds each term at its position, with the columns' weights (name A, categories B,
organisation C, description D: ts_rank's default 1.0, 0.4, 0.2, 0.1 are bm25's 10, 4, 2, 1 in
the SQLite store) and a gap of one position between columns, so a phrase never runs from one
column into the next (FTS5 phrases stay within a column). A typed word is asked as
`assetmap_word_query`: its terms as a phrase, the last one as a prefix ("gardening" ->
'garden':*, "men's" -> 'men' <-> 's':*), exactly FTS5's `"men's"*`. Several words: any of them.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager

from assetmap.record.fields import FIELD_NAMES
from assetmap.store.assets import from_row
from assetmap.store.search import Circle, Conditions, FoundPage, PageRule
from assetmap.store.visibility import RUNNING

__all__ = [
    "SEARCH_DDL",
    "SESSION_SETTINGS",
    "all_within",
    "checked_dates",
    "configure",
    "count_within",
    "find_page",
    "ranked_within",
    "records",
    "snapshot",
    "words_condition",
]

# FTS5's porter tokenizer leaves words shorter or longer than this (in UTF-8 bytes) unstemmed.
STEMMED_BYTES = (3, 64)
# PostgreSQL refuses a lexeme of 2 KB or more; such a "word" is left out of `doc`.
_MAX_TERM_BYTES = 2046
# The last position a tsvector holds (later words are counted at it).
_MAX_POSITION = 16383
# ts_rank's weights for D, C, B, A: description, organisation, categories, name.
RANK_WEIGHTS = "'{0.1, 0.2, 0.4, 1.0}'::real[]"

# The search's columns: (column, weight), in FTS5's column order.
DOC_COLUMNS = (("name", "A"), ("description", "D"), ("categories", "B"), ("organisation", "C"))

# Porter's m > 0: somewhere a vowel is followed by a consonant (y after a consonant is a vowel).
_MEASURE_ABOVE_0 = "([aeiou]|[^aeiou]y)[^aeiou]"

# The words of `words` (a text), each with its place n, as FTS5's unicode61 cuts them.
_SPLIT = (
    "regexp_split_to_table(normalize(regexp_replace(normalize(lower(words), NFD),"
    " '([a-z])[\\u0300-\\u036f]+', '\\1', 'g'), NFC), '[^[:alnum:]]+')"
    " WITH ORDINALITY AS split(word, n)"
)
_WORD = f"word <> '' AND octet_length(word) <= {_MAX_TERM_BYTES}"
# The term of `word` as FTS5's porter tokenizer makes it: unstemmed outside 3 to 64 bytes. And
# snowball's porter is the published algorithm, FTS5's follows Porter's own C version, whose
# step 2 turns "bli" into "ble" (not only "abli" into "able") and "logi" into "log" (m > 0
# before them): such stems are finished here ("flexibli" is stemmed again as "flexible",
# "ecologi" becomes "ecolog").
_TERM = (
    f"CASE WHEN octet_length(word) NOT BETWEEN {STEMMED_BYTES[0]} AND {STEMMED_BYTES[1]}"
    " THEN word ELSE (SELECT CASE"
    f" WHEN stem ~ '[^a]bli$' AND left(stem, -3) ~ '{_MEASURE_ABOVE_0}'"
    " THEN coalesce((ts_lexize('assetmap_porter', left(stem, -3) || 'ble'))[1], stem)"
    f" WHEN stem ~ 'logi$' AND left(stem, -4) ~ '{_MEASURE_ABOVE_0}' THEN left(stem, -1)"
    " ELSE stem END"
    " FROM coalesce((ts_lexize('assetmap_porter', word))[1], word) AS stem) END"
)
# A term as a tsvector or tsquery lexeme, quoted (terms hold letters and digits only, but a
# quote or backslash would be doubled or escaped all the same).
_LEXEME = "'''' || replace(replace(term, '\\', '\\\\'), '''', '''''') || ''''"
_COLUMN_ROWS = ", ".join(f"({k}, {c}, '{w}')" for k, (c, w) in enumerate(DOC_COLUMNS, 1))

SEARCH_DDL: tuple[str, ...] = (
    "CREATE EXTENSION IF NOT EXISTS postgis",
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    # The original Porter algorithm, as FTS5's porter tokenizer; no stop words (FTS5 has none).
    "CREATE TEXT SEARCH DICTIONARY assetmap_porter (TEMPLATE = snowball, LANGUAGE = porter)",
    # The terms FTS5 makes of a text, in order (see the module docstring). IMMUTABLE, though
    # ts_lexize is only STABLE: the dictionary is created here and never altered. The
    # search_path is the one at creation, so a restore (pg_dump empties it) still finds it.
    f"""CREATE FUNCTION assetmap_terms(words text) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
        SELECT coalesce(array_agg(term ORDER BY n), '{{}}')
        FROM (SELECT n, {_TERM} AS term FROM {_SPLIT} WHERE {_WORD}) AS terms
        $$""",
    # The indexed words of an asset: each column's terms at their positions (counted on across
    # the columns, one left empty after each), with its weight. One query for the four
    # columns, without calling assetmap_terms: this runs for every row written.
    f"""CREATE FUNCTION assetmap_doc(name text, description text, categories text,
            organisation text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
        SELECT coalesce(string_agg(
            {_LEXEME} || ':' || least(position, {_MAX_POSITION}) || weight, ' '), '')::tsvector
        FROM (SELECT weight, row_number() OVER (ORDER BY k, n) + k - 1 AS position,
                     {_TERM} AS term
              FROM (VALUES {_COLUMN_ROWS}) AS c(k, words, weight), {_SPLIT}
              WHERE {_WORD}) AS terms
        $$""",
    # A typed word as FTS5 reads `"word"*`: its terms as a phrase, the last one a prefix. A
    # word without terms is an empty query, which matches nothing.
    f"""CREATE FUNCTION assetmap_word_query(word text) RETURNS tsquery
        LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
        SELECT coalesce(string_agg(
            {_LEXEME} || CASE WHEN n = cardinality(terms) THEN ':*' ELSE '' END,
            ' <-> ' ORDER BY n), '')::tsquery
        FROM assetmap_terms(word) AS terms, unnest(terms) WITH ORDINALITY AS t(term, n)
        $$""",
    # a * b, but 0 where PostgreSQL would raise "underflow" (C rounds such a product to 0.0).
    """CREATE FUNCTION assetmap_times(a float8, b float8) RETURNS float8
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
        BEGIN
            RETURN a * b;
        EXCEPTION WHEN numeric_value_out_of_range THEN
            RETURN 0.0;
        END $$""",
    """ALTER TABLE assets ADD COLUMN geog geography(Point, 4326)
        GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED""",
    f"""ALTER TABLE assets ADD COLUMN doc tsvector
        GENERATED ALWAYS AS (assetmap_doc({", ".join(c for c, _ in DOC_COLUMNS)})) STORED""",
    f"CREATE INDEX assets_running_geog ON assets USING gist (geog) WHERE {RUNNING}",
    f"CREATE INDEX assets_running_strand_geog ON assets USING gist (strand, geog) WHERE {RUNNING}",
    f"CREATE INDEX assets_running_doc ON assets USING gin (doc) WHERE {RUNNING}",
    f"CREATE INDEX assets_running_geog_doc ON assets USING gist (geog, doc) WHERE {RUNNING}",
)

# Per connection (a pool's `configure` callback can apply them too): a search takes a few
# milliseconds, less than JIT compiling it or starting parallel workers would cost.
SESSION_SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": "0"}

_configured: weakref.WeakSet = weakref.WeakSet()

# Haversine, as assetmap.search.nearby.haversine_m computes it (and store/search.py's
# _DISTANCE), its numbers named as in `Haversine`; 1.0 as float8, not numeric. PostgreSQL's
# `*` raises "underflow" where C (and Python) round a product to 0.0, which only a difference
# of latitude or longitude below about 1e-150 degrees can cause (a centre typed as
# lon=1e-300 and an asset on the meridian): such rows multiply with assetmap_times, which
# gives C's 0.0 instead; every other row takes the plain operator.
_HAVERSINE = (
    "(%(diameter)s * asin(sqrt(least(1.0::float8,"
    " sin((a.lat - %(lat)s) * %(half_rad)s) * sin((a.lat - %(lat)s) * %(half_rad)s)"
    " + %(cos_lat)s * cos(a.lat * %(rad)s)"
    " * sin((a.lon - %(lon)s) * %(half_rad)s) * sin((a.lon - %(lon)s) * %(half_rad)s)))))"
)
# The same, each `x * y` as assetmap_times(x, y), grouped as `*` groups (left to right).
_S_LAT = "sin(assetmap_times(a.lat - %(lat)s, %(half_rad)s))"
_S_LON = "sin(assetmap_times(a.lon - %(lon)s, %(half_rad)s))"
_COS = "assetmap_times(%(cos_lat)s, cos(assetmap_times(a.lat, %(rad)s)))"
_HAVERSINE_TIMES = (
    "assetmap_times(%(diameter)s, asin(sqrt(least(1.0::float8,"
    f" assetmap_times({_S_LAT}, {_S_LAT})"
    f" + assetmap_times(assetmap_times({_COS}, {_S_LON}), {_S_LON})))))"
)
_ORDINARY = (
    "(a.lat = %(lat)s OR abs(a.lat - %(lat)s) > 1e-100)"
    " AND (a.lon = %(lon)s OR abs(a.lon - %(lon)s) > 1e-100)"
)
_DISTANCE = f"(CASE WHEN {_ORDINARY} THEN {_HAVERSINE} ELSE {_HAVERSINE_TIMES} END)"
_CENTRE = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"
# The candidates: the box holding every point within `reach` of the centre on PostGIS's sphere
# (radius 6,371,008.77 m; its formula differs from the haversine's in the ninth digit), so
# reach is a little further out than the radius, and the haversine decides.
_REACH_FACTOR = 1.000001
_REACH_EXTRA_M = 1.0
_COLUMNS = ", ".join(FIELD_NAMES)
_BY_ID = 'a.id COLLATE "C"'
# Which band of %(band)s metres a distance is in, as assetmap.freshness.stale.distance_band
# (Python's `distance // band`, the floor of the exact quotient). The same for a whole number
# of metres: distance / band never rounds up to a whole number k from below, since the
# doubles below band * k lie further from it than half a unit in the last place of k.
BAND_OF = "floor(distance / %(band)s)"


def _raw(db):
    """The psycopg connection: `db.conn` itself, or the one under the store's facade."""
    return getattr(db.conn, "raw", db.conn)


def configure(conn) -> None:
    """Apply SESSION_SETTINGS to a psycopg connection (once; see `_cursor`)."""
    from psycopg.pq import TransactionStatus

    idle = conn.info.transaction_status == TransactionStatus.IDLE
    for name, value in SESSION_SETTINGS.items():
        conn.execute("SELECT set_config(%s, %s, false)", [name, value])
    if idle and not conn.autocommit:
        conn.commit()  # the transaction psycopg opened for these alone
    _configured.add(conn)


def _cursor(db):
    """A cursor giving plain tuples, on a connection with SESSION_SETTINGS applied."""
    from psycopg.rows import tuple_row

    conn = _raw(db)
    if conn not in _configured:
        configure(conn)
    return conn.cursor(row_factory=tuple_row)


@contextmanager
def snapshot(db):
    """Read the block's queries from one state of the database (a REPEATABLE READ
    transaction), so a count and the page that follows it agree even while someone saves an
    asset."""
    from psycopg.pq import TransactionStatus

    conn = _raw(db)
    if conn.info.transaction_status != TransactionStatus.IDLE:
        yield db  # already inside the caller's transaction
        return
    if conn not in _configured:  # outside the transaction, so that a rollback keeps them
        configure(conn)
    if not conn.autocommit:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield db
        return
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    try:
        yield db
    finally:
        conn.execute("COMMIT")  # after an error, PostgreSQL rolls back instead


def records(db, rids: list[int]) -> dict[int, dict]:
    """The full records of a page of hits, by rid."""
    if not rids:
        return {}
    rows = _cursor(db).execute(
        f"SELECT rid, {_COLUMNS} FROM assets WHERE rid = ANY(%(rids)s::bigint[])",
        {"rids": list(rids)},
    )
    return {row[0]: from_row(dict(zip(FIELD_NAMES, row[1:], strict=True))) for row in rows}


def checked_dates(db, rids: list[int]) -> dict[int, str | None]:
    """Each asset's last_verified by rid, for ranking stale listings after fresh ones
    (assetmap.freshness.stale)."""
    if not rids:
        return {}
    rows = _cursor(db).execute(
        "SELECT rid, last_verified FROM assets WHERE rid = ANY(%(rids)s::bigint[])",
        {"rids": list(rids)},
    )
    return dict(rows.fetchall())


def _words_query(words: tuple[str, ...], params: dict) -> str:
    """SQL for the tsquery matching any of the words (each as `assetmap_word_query`)."""
    parts = []
    for i, word in enumerate(words):
        params[f"word{i}"] = word
        parts.append(f"assetmap_word_query(%(word{i})s)")
    # A scalar subquery, so that the tsquery is made once per statement (an InitPlan) even
    # in a prepared statement's generic plan, not once per candidate row.
    return "(SELECT " + " || ".join(parts) + ")"


def _where(conditions: Conditions, params: dict, words_sql: str | None = None) -> str:
    """SQL for the conditions (ANDed, after the place and running-asset terms), as
    store/search.py's `_where`: JSON arrays are TEXT holding JSON, read as jsonb."""
    c = conditions
    clauses = []
    for column, values in (("strand", c.strands), ("approach", c.approaches), ("kind", c.kinds)):
        if values:
            params[column] = list(values)
            clauses.append(f"a.{column} = ANY(%({column})s::text[])")
    if c.free:
        clauses.append("a.cost = 'free'")
    if c.self_referral:
        clauses.append("a.self_referral = 1")
    if c.categories:
        params["categories"] = list(c.categories)
        clauses.append("jsonb_exists_any(a.categories::jsonb, %(categories)s::text[])")
    if c.audiences:
        params["audiences"] = [*c.audiences, "everyone"]
        clauses.append(
            "(a.audiences = '[]' OR jsonb_exists_any(a.audiences::jsonb, %(audiences)s::text[]))"
        )
    if c.accessibility:
        params["accessibility"] = list(c.accessibility)
        clauses.append("jsonb_exists_all(a.accessibility::jsonb, %(accessibility)s::text[])")
    if c.age is not None:
        params["age"] = c.age
        clauses.append("(a.min_age IS NULL OR a.min_age <= %(age)s)")
        clauses.append("(a.max_age IS NULL OR a.max_age >= %(age)s)")
    if c.checked_since is not None:
        params["checked_since"] = c.checked_since
        clauses.append('a.last_verified >= %(checked_since)s COLLATE "C"')
    if c.words:
        clauses.append(f"a.doc @@ {words_sql or _words_query(c.words, params)}")
    return "".join(f" AND {clause}" for clause in clauses)


def _near(
    circle: Circle,
    conditions: Conditions,
    params: dict,
    columns: str = "",
    *,
    words_sql: str | None = None,
) -> str:
    """The MATERIALIZED CTE `near`: the running assets meeting the conditions within reach of
    the circle, with their haversine distance (and `columns`); `near.distance <= %(radius)s`
    says which are within it. `words_sql`: the tsquery of the words, when the statement has
    made it already."""
    params.update(vars(circle.distance))
    params["radius"] = circle.radius_m
    params["reach"] = circle.radius_m * _REACH_FACTOR + _REACH_EXTRA_M
    where = _where(conditions, params, words_sql)
    return (
        f"WITH near AS MATERIALIZED (SELECT a.id, {_DISTANCE} AS distance, a.rid{columns}"
        f" FROM assets AS a WHERE {RUNNING}"
        f" AND a.geog && _ST_Expand({_CENTRE}, %(reach)s){where})"
    )


def count_within(db, circle: Circle, conditions: Conditions) -> int:
    """How many running assets meeting the conditions lie within the circle (edge included)."""
    params: dict = {}
    near = _near(circle, conditions, params)
    sql = f"{near} SELECT count(*) FROM near WHERE distance <= %(radius)s"
    return _cursor(db).execute(sql, params).fetchone()[0]


def all_within(
    db,
    circle: Circle,
    conditions: Conditions,
    *,
    schedules: bool = False,
    checked: bool = False,
) -> list[tuple]:
    """Every hit (id, distance, rid) within the circle, nearest first and then by id, with the
    schedule's JSON as a fourth item when `schedules` is true and last_verified as the last
    item when `checked` is true (as store/search.py's all_within)."""
    extra = (", a.schedule" if schedules else "") + (", a.last_verified" if checked else "")
    selected = (", schedule" if schedules else "") + (", last_verified" if checked else "")
    params: dict = {}
    sql = (
        f"{_near(circle, conditions, params, extra)} SELECT id, distance, rid{selected}"
        ' FROM near WHERE distance <= %(radius)s ORDER BY distance, id COLLATE "C"'
    )
    return _cursor(db).execute(sql, params).fetchall()


def ranked_within(
    db, circle: Circle, conditions: Conditions, count: int
) -> list[tuple[str, float, int]]:
    """The first `count` hits within the circle by keyword relevance, then distance, then id.
    Needs `conditions.words`.

    Relevance is ts_rank with the columns' weights (a match in the name weighing most), where
    SQLite ranks by FTS5's bm25 with the same weights. The two agree on what is found and
    that a name match comes first, not on every place: bm25 also weighs how rare a word is in
    the whole index and how long each column is, ts_rank neither, so assets matching in the
    same columns may come in another order (then nearest first, here).
    """
    params: dict = {"count": count}
    query = _words_query(conditions.words, params)
    score = f", ts_rank({RANK_WEIGHTS}, a.doc, {query}) AS score"
    sql = (
        f"{_near(circle, conditions, params, score)}"
        " SELECT id, distance, rid FROM near WHERE distance <= %(radius)s"
        ' ORDER BY score DESC, distance, id COLLATE "C" LIMIT %(count)s'
    )
    return _cursor(db).execute(sql, params).fetchall()


# The tsquery each typed word makes (assetmap_word_query's result as text), by word: it never
# changes (the function is IMMUTABLE and its dictionary never altered), and making it costs
# about 0.3 ms, more than many a search. `find_page` reads it back with each search and sends
# it as a literal the next time the word is typed. Bounded: emptied when full.
_TSQUERY_OF: dict[str, str] = {}
_TSQUERIES_KEPT = 4096


def find_page(
    db, circle: Circle, conditions: Conditions, rule: PageRule, *, with_records: bool = True
) -> FoundPage:
    """A search's total and one page (with the page's records) in one statement: one round
    trip, and one snapshot without a transaction. The typed words' tsqueries are made once, in
    the CTE `typed` (or sent as known, see _TSQUERY_OF); the candidates with their distance
    (and, for several words, which of them each matched) are the MATERIALIZED CTE `near`; the
    total is their count within the radius; the page is ordered in SQL by `rule`, which is
    assetmap.search.nearby's order (see PageRule), and each hit's record is joined to it.
    Searches by day or time are not asked here: Python checks their schedules.

    Each ORDER BY term is the very value Python sorts by: the band is `BAND_OF` (Python's
    `distance // band_m`), stale a comparison of ISO dates in code-point order, the id
    compared in code-point order (COLLATE "C")."""
    words = conditions.words
    by_relevance = rule.by_relevance and bool(words)
    params: dict = {"limit": rule.limit, "offset": rule.offset}
    typed = any_word = ""
    if words:
        made = []
        for i, word in enumerate(words):
            known = _TSQUERY_OF.get(word)
            params[f"word{i}"] = word if known is None else known
            made.append(
                f"assetmap_word_query(%(word{i})s)" if known is None else f"%(word{i})s::tsquery"
            )
        # OFFSET 0 keeps the inner query apart, so each word's tsquery is made once.
        each = ", ".join(f"{expression} AS q{i}" for i, expression in enumerate(made))
        every = " || ".join(f"q{i}" for i in range(len(words)))
        typed = (
            f"typed AS MATERIALIZED (SELECT *, {every} AS q"
            f" FROM (SELECT {each} OFFSET 0) AS made), "
        )
        any_word = "(SELECT q FROM typed)"
    extra = ", a.last_verified"
    several = len(words) > 1  # one word: every hit matched it
    if several:
        extra += "".join(f", a.doc @@ (SELECT q{i} FROM typed) AS w{i}" for i in range(len(words)))
    if by_relevance:
        extra += f", ts_rank({RANK_WEIGHTS}, a.doc, {any_word}) AS score"
        keys = ["score DESC", "distance", 'id COLLATE "C"']
        computed = ", score"
    else:
        if rule.band_m != int(rule.band_m):
            raise ValueError(f"bands of whole metres only (BAND_OF), not {rule.band_m}")
        params.update(band=rule.band_m, stale_before=rule.stale_before)
        computed = (
            f", {BAND_OF} AS band,"
            " (last_verified IS NULL OR last_verified = ''"
            ' OR last_verified < %(stale_before)s COLLATE "C") AS stale'
        )
        keys = ["band", "stale", "distance", 'id COLLATE "C"']
    flags = "".join(f", w{i}" for i in range(len(words))) if several else ""
    if several:
        computed += ", " + " + ".join(f"w{i}::int" for i in range(len(words))) + " AS matched"
        keys.insert(0, "matched DESC")
    near = _near(circle, conditions, params, extra, words_sql=any_word or None)
    made_now = "".join(f", (SELECT q{i}::text FROM typed)" for i in range(len(words)))
    fields = "".join(f", a.{name}" for name in FIELD_NAMES) if with_records else ""
    joined = " LEFT JOIN assets AS a ON a.rid = p.rid" if with_records else ""
    sql = (
        near.replace("WITH ", f"WITH {typed}", 1)
        + f", page AS (SELECT id, distance, rid{flags}{computed} FROM near"
        f" WHERE distance <= %(radius)s ORDER BY {', '.join(keys)}"
        " LIMIT %(limit)s OFFSET %(offset)s)"
        f" SELECT t.total{made_now}, p.id, p.distance, p.rid{flags.replace(', w', ', p.w')}"
        f"{fields} FROM (SELECT count(*) AS total FROM near WHERE distance <= %(radius)s) AS t"
        f" LEFT JOIN page AS p ON true{joined} ORDER BY {', '.join(f'p.{k}' for k in keys)}"
    )
    rows = _cursor(db).execute(sql, params).fetchall()
    first = rows[0]
    if len(_TSQUERY_OF) + len(words) > _TSQUERIES_KEPT:
        _TSQUERY_OF.clear()
    _TSQUERY_OF.update(zip(words, first[1 : 1 + len(words)], strict=True))
    total, at = first[0], 1 + len(words)  # each row: total, tsqueries, id, distance, rid, ...
    if first[at] is None:  # nothing on this page
        return FoundPage(total, [], {}, {} if with_records else None)
    hits, matched, records = [], {}, {}
    first_field = at + 3 + (len(words) if several else 0)
    for row in rows:
        rid = row[at + 2]
        hits.append((row[at], row[at + 1], rid))
        if several:
            found = row[at + 3 : first_field]
            matched[rid] = tuple(w for w, hit in zip(words, found, strict=True) if hit)
        elif words:
            matched[rid] = words
        if with_records:
            values = row[first_field:]
            records[rid] = from_row(dict(zip(FIELD_NAMES, values, strict=True)))
    return FoundPage(total, hits, matched, records if with_records else None)


def words_condition(words: tuple[str, ...]) -> tuple[str, list[str]]:
    """For other store functions on PostgreSQL, in the store's SQLite-style SQL (`?`): that an
    asset matches any of the words as a search matches them, and the parameters. It stands
    where SQLite asks `rid IN (SELECT rowid FROM assets_fts WHERE assets_fts MATCH ?)` with
    store/search.py's match_query(words) (the listing API's text filter, for one)."""
    if not words:
        return "false", []
    return f"doc @@ (SELECT {' || '.join('assetmap_word_query(?)' for _ in words)})", list(words)
