"""Nearby search: what a link worker asks in an appointment, answered from the local database.

"Near M33 7ZF, within 2 km, something to do with walking, free, step-free, on a Tuesday
morning." The pages, the API and `assetmap search` all call the two functions here:

    query = parse_search(request.args.to_dict(flat=False))  # ParameterError / PostcodeError
    results = search(db, query)                              # PostcodeError if not found

`parse_search` names any bad parameter (a 400), or raises PostcodeError (a ParameterError
subclass, for a 422) with `reason` "invalid" for text that is not a postcode. `search` places
the centre from the local postcode table, raising PostcodeError with reason "not_found" when
nothing in the postcode's district is known, and returns the total and one page of hits.

Rules, documented once here:

- Distance is the great-circle distance on a sphere of radius 6,371,008.8 m (the mean Earth
  radius), by the haversine formula. It decides what is within the radius (the edge counts as
  within) and the order (nearest first, then by id, so the order never changes between pages).
- Walking time is the straight-line distance times 1.3 (streets are not straight lines), at
  4.8 km/h (3 mph, an unhurried pace), rounded up to the next whole minute.
- Paused, closed and archived assets are never found: a search finds running assets only
  (assetmap/store/visibility.py), though the map also shows paused ones.
- Keywords: each word is matched at the start of a word, with stemming ("garden" finds
  "gardening", "walks" finds "walking"), in the name, description, categories or
  organisation. Several words ("walking, singing, gardening": commas and spaces both part
  them) find assets matching ANY of them, and those matching more of the words come first
  (then nearest, or best match); each hit says which of the words it matched. A link worker
  types a client's several interests at once, and an asset need not offer all of them.
  Little words ("and", "or", "the") are left out when other words are typed, or "walking
  and gardening" would find everything. Any text is safe: words are quoted before they
  reach FTS5.
- Several strands, approaches, kinds or categories: any of them. Audience: any of them, and
  assets for everyone or with no audience stated. Accessibility: all of those asked.
  Age: within the asset's age range (an open end is no limit). Day and time: as
  assetmap.record.schedules says, one session must match both; assets without structured sessions
  are left out when a day or time is asked.
- Parameters are declared once, in PARAMETERS below (see assetmap.search.parameters: the API, the
  pages, the CLI's options, links and the OpenAPI document are made from them). An empty one
  is the same as none; a number that is not a plain finite one in its range (NaN, infinity,
  past SQLite's 64 bits) is a 400 naming it; a page size past the largest page is lowered to
  it. The centre is a postcode, or lat and lon: one of the two, not both.
- A page's form carries the point of a search from the map in hidden inputs: a postcode typed
  into it wins over that point (`page_args`).
- Listings not checked for a long time (assetmap.freshness.stale says when a listing is stale
  and defines the distance bands): nearest first means by band of distance first, then fresh
  before stale, then nearest, then id (`_Ranking.fresh_first`). Best match first is left as it is.
  Listings unchecked for longer than the hide setting are not found at all (a SQL condition,
  so the total counts without them).
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import re
from dataclasses import dataclass, field, replace
from datetime import date

from assetmap.freshness.stale import (
    DEFAULT_FRESHNESS,
    DISTANCE_BAND_M,
    Freshness,
    LastChecked,
    distance_band,
    last_checked,
)
from assetmap.record import describe, schedules, taxonomy
from assetmap.record.schedules import NextSession, TimeWindow
from assetmap.record.taxonomy import Term
from assetmap.search import parameters
from assetmap.search.parameters import (
    ACCESSIBLE,
    CATEGORY,
    FREE,
    KIND,
    NUMBER,
    OFFSET,
    ONE_OF,
    STRAND,
    TERMS,
    TEXT,
    TIME_OF_DAY,
    WHOLE_NUMBER,
    YES_NO,
    Args,
    Parameter,
    ParameterError,
)
from assetmap.search.postcodes import (
    PostcodeLocation,
    locate_postcode,
    parse_postcode_query,
)
from assetmap.store.dialect import search_store
from assetmap.store.search import Box, Circle, Conditions, FoundPage, Haversine, PageRule

EARTH_RADIUS_M = 6_371_008.8
WALKING_DETOUR = 1.3
WALKING_METRES_PER_MINUTE = 4800 / 60

DEFAULT_RADIUS_KM = 2.0
MAX_RADIUS_KM = 50.0
RADII_KM = (0.5, 1, 2, 5, 10, 20, 50)  # what the page's form offers
WIDER = 2.5  # a search that found nothing suggests one this many times as wide
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
MAX_OFFSET = 10_000
MAX_AGE = 120
MAX_KEYWORD_CHARS = 200
MAX_KEYWORDS = 12  # each word is one query of the index (see _search_all)
ORDERS = (Term("distance", "Nearest first"), Term("relevance", "Best match first"))

COORDINATES = "coordinates"  # how a centre given as lat and lon was placed

_RAD = math.pi / 180
_HALF_RAD = math.pi / 360
_DIAMETER = 2 * EARTH_RADIUS_M
# Boxes are widened by this many degrees (about a centimetre) so that rounding in the box
# arithmetic can never leave out an asset that the distance puts inside.
_BOX_MARGIN = 1e-7


# ---------------------------------------------------------------------------------------------
# Distances
# ---------------------------------------------------------------------------------------------


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres from point 1 (the centre) to point 2.

    assetmap.store.search computes the same expression in SQL, operation for operation, so
    both give the identical double: keep the two in step.
    """
    return _haversine(lat1, lon1, math.cos(lat1 * _RAD), lat2, lon2)


def _haversine(lat1: float, lon1: float, cos_lat1: float, lat2: float, lon2: float) -> float:
    s_lat = math.sin((lat2 - lat1) * _HALF_RAD)
    s_lon = math.sin((lon2 - lon1) * _HALF_RAD)
    h = s_lat * s_lat + cos_lat1 * math.cos(lat2 * _RAD) * s_lon * s_lon
    return _DIAMETER * math.asin(math.sqrt(min(1.0, h)))


def walking_minutes(distance_m: float) -> int:
    """Minutes on foot: distance x 1.3 for the streets, at 4.8 km/h, rounded up."""
    minutes = distance_m * WALKING_DETOUR / WALKING_METRES_PER_MINUTE
    return math.ceil(minutes - 1e-9)  # 13.000000000000002 is 13 minutes, not 14


def circle_around(lat: float, lon: float, radius_m: float) -> Circle:
    """The boxes that hold every point within radius_m of (lat, lon), and a box inside.

    The latitude reach is radius/R radians; the longitude reach, asin(sin(radius/R) / cos(lat)),
    is where the circle touches its widest meridians (more degrees of longitude the further
    north). A circle over a pole spans every longitude; one over the 180° meridian is two
    boxes. The 0° meridian needs nothing special: longitudes just change sign there.
    """
    lat, lon = float(lat), float(lon)
    delta = radius_m / EARTH_RADIUS_M
    reach_lat = math.degrees(delta) + _BOX_MARGIN
    min_lat, max_lat = max(-90.0, lat - reach_lat), min(90.0, lat + reach_lat)
    spread = math.sin(delta) / math.cos(lat * _RAD) if abs(lat) < 90 else 2.0
    boxes: tuple[Box, ...]
    if delta >= math.pi / 2 or spread >= 1 or max_lat >= 90 or min_lat <= -90:
        boxes = ((-180.0, min_lat, 180.0, max_lat),)
    else:
        reach_lon = math.degrees(math.asin(spread)) + _BOX_MARGIN
        west, east = lon - reach_lon, lon + reach_lon
        if west < -180:
            boxes = ((west + 360, min_lat, 180.0, max_lat), (-180.0, min_lat, east, max_lat))
        elif east > 180:
            boxes = ((west, min_lat, 180.0, max_lat), (-180.0, min_lat, east - 360, max_lat))
        else:
            boxes = ((west, min_lat, east, max_lat),)
    distance = Haversine(lat, lon, math.cos(lat * _RAD), _RAD, _HALF_RAD, _DIAMETER)
    return Circle(radius_m, boxes, _inner_box(lat, lon, radius_m, delta), distance)


def _inner_box(lat: float, lon: float, radius_m: float, delta: float) -> Box | None:
    """A box whose every point is within the radius (the distance grows towards its corners,
    so checking the corners is enough), or None near the poles and the 180° meridian."""
    half = math.degrees(delta / math.sqrt(2)) * 0.999
    towards_equator = lat - half if lat >= 0 else lat + half
    cos_product = math.cos(lat * _RAD) * math.cos(towards_equator * _RAD)
    if cos_product <= 0 or abs(lat) + 2 * half >= 89 or abs(lon) + 4 * half >= 179:
        return None
    hav = (math.sin(delta / 2) ** 2 - math.sin(half * _HALF_RAD) ** 2) / cos_product
    if not 0 < hav < 1:
        return None
    half_lon = math.degrees(2 * math.asin(math.sqrt(hav))) * 0.999
    box = (lon - half_lon, lat - half, lon + half_lon, lat + half)
    corners = ((box[1], box[0]), (box[1], box[2]), (box[3], box[0]), (box[3], box[2]))
    if all(haversine_m(lat, lon, y, x) <= radius_m * (1 - 1e-9) for y, x in corners):
        return box
    return None


# ---------------------------------------------------------------------------------------------
# Keywords
# ---------------------------------------------------------------------------------------------


# Words that join interests rather than name one: left out when other words are typed.
LITTLE_WORDS = frozenset(
    ["a", "an", "and", "at", "for", "in", "of", "on", "or", "the", "to", "with"]
)
_WORD_BREAKS = re.compile(r"[\s,;/+|]+")


@functools.lru_cache(maxsize=1024)  # people search for the same few interests all day
def keywords(text: str) -> tuple[str, ...]:
    """The words of what a person typed, each once, in the order typed: split at spaces,
    commas, semicolons, slashes and plus signs, unprintable characters removed, punctuation
    around a word dropped (inside it stays: "men's", "tai-chi"), words without a letter or
    digit dropped (FTS5 would find nothing for them), and little words (LITTLE_WORDS) left
    out unless nothing else was typed."""
    words: list[str] = []
    seen: set[str] = set()
    for word in _WORD_BREAKS.split(text):
        cleaned = "".join(c for c in word if c.isprintable())
        start = next((i for i, c in enumerate(cleaned) if c.isalnum()), None)
        if start is None:
            continue
        end = max(i for i, c in enumerate(cleaned) if c.isalnum()) + 1
        cleaned = cleaned[start:end]
        if cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            words.append(cleaned)
    meaningful = tuple(w for w in words if w.casefold() not in LITTLE_WORDS)
    return meaningful or tuple(words)


# ---------------------------------------------------------------------------------------------
# The query
# ---------------------------------------------------------------------------------------------

# Where to search from: a postcode, or lat and lon (read first, and checked together).
CENTRE = (
    Parameter(
        "postcode",
        TEXT,
        "A UK postcode, sector (M33 7) or district (M33); a postcode not in the table is placed "
        "at its sector or district. Give a postcode, or lat and lon: one of the two is needed, "
        "and not both.",
        example="M33 7ZF",
    ),
    Parameter(
        "lat",
        NUMBER,
        "Latitude (WGS84) of the centre, instead of postcode; needs lon.",
        low=-90,
        high=90,
        example=53.42,
        decimals=6,
    ),
    Parameter(
        "lon",
        NUMBER,
        "Longitude (WGS84) of the centre, instead of postcode; needs lat.",
        low=-180,
        high=180,
        example=-2.32,
        decimals=6,
    ),
)

# Every search parameter, in the order links, the OpenAPI document and --help list them.
PARAMETERS: tuple[Parameter, ...] = (
    *CENTRE,
    Parameter(
        "radius_km",
        NUMBER,
        f"How far from the centre, in kilometres (at most {MAX_RADIUS_KM:g}).",
        low=0,
        high=MAX_RADIUS_KM,
        above_low=True,
        default=DEFAULT_RADIUS_KM,
        option="radius",
        offered=tuple(Term(f"{r:g}", f"{r:g} km") for r in RADII_KM),
    ),
    Parameter(
        "q",
        TEXT,
        "Keywords: assets matching any of the words (at the start of a word, with stemming: "
        "walking, garden, choir), those matching more of them first; each feature's "
        f"properties.matched lists the words it matched. Spaces or commas part the words; "
        f"at most {MAX_KEYWORDS} of them.",
        default="",
        max_length=MAX_KEYWORD_CHARS,
    ),
    STRAND,
    Parameter(
        "approach",
        TERMS,
        "Only these approaches (within the strands).",
        terms=tuple(a for s in taxonomy.STRANDS for a in s.approaches),
        what="an approach",
        attribute="approaches",
        form=False,
    ),
    CATEGORY,
    Parameter(
        "audience",
        TERMS,
        "Only assets for any of these people (assets for everyone, or with no audience "
        "stated, too).",
        terms=taxonomy.AUDIENCES,
        what="an audience",
        attribute="audiences",
    ),
    KIND,
    ACCESSIBLE,
    Parameter(
        "day",
        TERMS,
        "Only assets with a session on any of these days.",
        terms=taxonomy.DAYS,
        what="a day of the week",
        any_case=True,
        attribute="days",
    ),
    Parameter(
        "age",
        WHOLE_NUMBER,
        "The person's age: only assets whose age range holds it.",
        low=0,
        high=MAX_AGE,
    ),
    Parameter(
        "time",
        TIME_OF_DAY,
        "morning, afternoon or evening (a session starts then), or HH:MM-HH:MM, a range a "
        "session fits in (24-hour clock; the end after the start, 24:00 at the latest).",
        example="14:00-17:00",
        offered=tuple(Term(part, part.capitalize()) for part in schedules.PARTS_OF_DAY),
    ),
    FREE,
    Parameter(
        "self_referral",
        YES_NO,
        "Only assets that residents can ask to join, without a referral.",
        default=False,
    ),
    Parameter(
        "order",
        ONE_OF,
        "Nearest first, or best match first (needs q).",
        terms=ORDERS,
        what="an order",
        default="distance",
        any_case=True,
    ),
    Parameter(
        "limit",
        WHOLE_NUMBER,
        f"Page size; values above {MAX_LIMIT} are lowered to {MAX_LIMIT}.",
        low=1,
        cap=MAX_LIMIT,
        default=DEFAULT_LIMIT,
        form=False,
    ),
    replace(OFFSET, high=MAX_OFFSET, too_high="narrow the search instead"),
)
PARAMETER_NAMES = frozenset(p.name for p in PARAMETERS)


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search. Build one with `parse_search`, or directly in code and tests."""

    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    q: str = ""
    strands: tuple[str, ...] = ()
    approaches: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()
    age: int | None = None
    days: tuple[str, ...] = ()
    time: TimeWindow | None = None
    free: bool = False
    self_referral: bool = False
    order: str = "distance"
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def as_args(self) -> dict[str, list[str]]:
        """The query string that gives this query back (for links: next page, wider radius).

        Defaults are left out, so links stay short.
        """
        return parameters.written(PARAMETERS, self)

    def page(self, offset: int) -> SearchQuery:
        """The same search, from another offset."""
        return replace(self, offset=offset)

    def on_day(self, day: str | None) -> SearchQuery:
        """The same search for one day of the week (None: any day), from its first page."""
        return replace(self, days=(day,) if day else (), offset=0)

    def wider(self) -> SearchQuery | None:
        """The same search 2.5 times as far out (at most the largest radius), from its first
        page; None when it is already at the largest radius."""
        if self.radius_km >= MAX_RADIUS_KM:
            return None
        return replace(self, radius_km=min(self.radius_km * WIDER, MAX_RADIUS_KM), offset=0)

    def unfiltered(self) -> SearchQuery | None:
        """The same place and radius with nothing else asked (no keywords, filters, order or
        page size); None when nothing else was asked."""
        plain = SearchQuery(self.postcode, self.lat, self.lon, self.radius_km)
        return None if plain == self.page(0) else plain


def page_args(args: Args) -> dict[str, list[str]]:
    """The search parameters of a page's query string (others are left out). The page's form
    carries the point of a search from the map in hidden lat and lon inputs: a postcode typed
    into it wins over them, and without one the empty postcode field is left out."""
    args = {name: list(values) for name, values in args.items() if name in PARAMETER_NAMES}
    if any(value.strip() for value in args.get("postcode", [])):
        args.pop("lat", None)
        args.pop("lon", None)
    else:
        args.pop("postcode", None)
    return args


def is_asked(args: Args) -> bool:
    """Whether a page's search parameters (see `page_args`) ask for a search: an empty form,
    as the page first shows it, does not."""
    return bool(args.get("postcode") or args.get("lat"))


def asks_without_a_place(args: Args) -> bool:
    """Whether a page's search parameters ask for something (keywords, a filter) with no
    postcode or point to search around: the page then says a postcode is needed, rather than
    showing the form again as if nothing had been asked."""
    if is_asked(args):
        return False
    settled = {"radius_km", "order", "limit", "offset"}  # a form always sends these
    return any(v.strip() for name, values in args.items() if name not in settled for v in values)


def radius_choices(current: float) -> tuple[Term, ...]:
    """The distances the page's form offers, with the one searched (12.5 km after "Search
    within 12.5 km") among them, so that searching again keeps it."""
    radii = sorted({*RADII_KM, current}) if 0 < current <= MAX_RADIUS_KM else RADII_KM
    return tuple(Term(f"{r:g}", f"{r:g} km") for r in radii)


def _centre(args: Args) -> dict:
    centre = parameters.read(CENTRE, args)
    postcode, lat, lon = centre["postcode"], centre["lat"], centre["lon"]
    if postcode and (lat is not None or lon is not None):
        raise ParameterError("postcode", "give a postcode, or lat and lon, but not both")
    if (lat is None) != (lon is None):
        missing, given = ("lon", "lat") if lon is None else ("lat", "lon")
        raise ParameterError(missing, f"{missing} is needed with {given}")
    if postcode is None and lat is None:
        raise ParameterError("postcode", "give a postcode, such as M33 7ZF, or lat and lon")
    if postcode:
        parse_postcode_query(postcode)  # PostcodeError (422) when it is not a postcode
    return centre


def parse_search(args: Args) -> SearchQuery:
    """Read search parameters, as `request.args.to_dict(flat=False)` gives them.

    Raises ParameterError naming the first bad parameter, or PostcodeError when the postcode
    is not one (see the module docstring). Unknown parameters are ignored.
    """
    centre = _centre(args)
    query = SearchQuery(**centre, **parameters.read(PARAMETERS[len(CENTRE) :], args))
    typed = keywords(query.q)
    if len(typed) > MAX_KEYWORDS:
        raise ParameterError(
            "q",
            f"type at most {MAX_KEYWORDS} words (this has {len(typed)}): the interests that "
            "matter most",
        )
    return query


# ---------------------------------------------------------------------------------------------
# The answer
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Centre:
    """Where a search was placed, and how: `resolved_by` is "postcode" (the postcode's own
    point), "sector" or "district" (the mean of their postcodes, for a postcode missing from
    the table), or "coordinates" (lat and lon as given)."""

    lat: float
    lon: float
    resolved_by: str
    label: str
    words: str

    def as_json(self) -> dict:
        return {
            "lat": self.lat,
            "lon": self.lon,
            "resolved_by": self.resolved_by,
            "label": self.label,
            "description": self.words,
        }


@dataclass(frozen=True)
class Hit:
    """One asset found: the full record (the caller removes professional-only fields for the
    public), its distance, the walking time and the next session."""

    record: dict
    distance_m: float
    walking_minutes: int
    next_session: NextSession | None
    matched: tuple[str, ...] = ()  # the keywords it matched, as typed, in the order typed
    checked: LastChecked | None = None  # when it was last checked, in words

    def extras(self) -> dict:
        """What a search adds to an asset, as the API sends it."""
        upcoming = self.next_session
        return {
            "matched": list(self.matched),
            "last_checked_words": self.checked.words if self.checked else None,
            "stale": self.checked.stale if self.checked else None,
            "distance_m": round(self.distance_m, 1),
            "walking_minutes": self.walking_minutes,
            "next_session": None
            if upcoming is None
            else {"date": upcoming.iso, "words": upcoming.words, "certain": upcoming.certain},
        }


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    centre: Centre
    total: int
    hits: list[Hit] = field(default_factory=list)
    freshness: Freshness = DEFAULT_FRESHNESS

    @property
    def ranking_notice(self) -> str | None:
        """What the results say about stale listings' place in them (nearest first only)."""
        return None if self.query.order == "relevance" else self.freshness.ranking_notice()

    @property
    def radius_m(self) -> float:
        return self.query.radius_km * 1000

    @property
    def next_offset(self) -> int | None:
        """The offset of the next page, or None on the last page."""
        following = self.query.offset + self.query.limit
        return following if following < self.total else None

    @property
    def previous_offset(self) -> int | None:
        """The offset of the previous page, or None on the first page."""
        return max(self.query.offset - self.query.limit, 0) if self.query.offset else None


def locate(db, query: SearchQuery) -> Centre:
    """The centre of a search; PostcodeError (not_found) when its postcode cannot be placed."""
    if query.postcode is None:
        label = f"{query.lat:.5f}, {query.lon:.5f}"
        return Centre(query.lat, query.lon, COORDINATES, label, label)  # type: ignore[arg-type]
    place: PostcodeLocation = locate_postcode(db, query.postcode)
    return Centre(place.lat, place.lon, place.match, place.area, place.words)


def conditions_for(query: SearchQuery, hidden_before: date | None = None) -> Conditions:
    return Conditions(
        strands=query.strands,
        approaches=query.approaches,
        kinds=query.kinds,
        categories=query.categories,
        audiences=query.audiences,
        accessibility=query.accessibility,
        age=query.age,
        free=query.free,
        self_referral=query.self_referral,
        words=keywords(query.q),
        checked_since=hidden_before.isoformat() if hidden_before else None,
    )


def search(
    db, query: SearchQuery, *, today: date | None = None, freshness: Freshness = DEFAULT_FRESHNESS
) -> SearchResults:
    """The total found and one page of hits, nearest first (or most relevant first).

    `today` is the date next sessions and last checks are counted from (default: today in
    the UK); `freshness` the rules for stale and hidden listings (the settings'). The total
    and the page are read from one snapshot of the database, so they always agree.
    """
    today = today or describe.today()
    ranked = _Ranking(freshness, today)
    centre, found = _find(db, query, ranked, with_records=True)
    records = found.records or {}
    hits = []
    for _, distance, rid in found.hits:
        if rid in records:  # deleted since the count: the page is one shorter
            record = records[rid]
            upcoming = schedules.next_session(record["schedule"], today)
            words = found.matched.get(rid, ())
            checked = ranked.last_checked(record["last_verified"])
            hits.append(Hit(record, distance, walking_minutes(distance), upcoming, words, checked))
    return SearchResults(query, centre, found.total, hits, freshness)


def search_ids(
    db, query: SearchQuery, *, today: date | None = None, freshness: Freshness = DEFAULT_FRESHNESS
) -> tuple[int, list[str]]:
    """The total and the ids of one page, in the order `search` gives its hits, without
    fetching the records: what scripts/bench_search.py sets against engines that return ids."""
    ranked = _Ranking(freshness, today or describe.today())
    _, found = _find(db, query, ranked, with_records=False)
    return found.total, [hit[0] for hit in found.hits]


def _find(db, query: SearchQuery, ranked: _Ranking, *, with_records: bool):
    """The centre, and the total and one page of hits (id, distance, rid) with the words each
    hit matched by rid (and the page's records, when asked): everything of a search.

    The store answers in one statement where that is quicker (`find_page`: PostgreSQL, where
    each statement is a round trip); otherwise, and for days and times (Python checks the
    schedules), it is asked step by step here, inside one snapshot so the total and the page
    agree."""
    store = search_store(db)
    centre = locate(db, query)
    conditions = conditions_for(query, ranked.freshness.hidden_before(ranked.today))
    circle = circle_around(centre.lat, centre.lon, query.radius_km * 1000)
    by_relevance = query.order == "relevance" and bool(conditions.words)
    timed = bool(query.days or query.time)
    if not timed:
        rule = PageRule(
            offset=query.offset,
            limit=query.limit,
            stale_before=ranked.freshness.stale_before(ranked.today).isoformat(),
            band_m=DISTANCE_BAND_M,
            by_relevance=by_relevance,
        )
        found = store.find_page(db, circle, conditions, rule, with_records=with_records)
        if found is not None:
            return centre, found
    matched: dict[int, tuple[str, ...]] = {}
    with store.snapshot(db):
        if timed or conditions.words:
            total, page, matched = _search_all(db, query, circle, conditions, by_relevance, ranked)
        else:
            total, page = _search_nearest(db, query, centre, circle, conditions, ranked)
        records = store.records(db, [hit[2] for hit in page]) if with_records else None
    return centre, FoundPage(total, page, matched, records)


# A page's listings share few dates of last check (an import checks them all on one day), and
# working one out in words is calendar arithmetic: a quarter of a search's time uncached.
_last_checked = functools.lru_cache(maxsize=1024)(last_checked)


@dataclass(frozen=True)
class _Ranking:
    """The freshness rules on the day of a search."""

    freshness: Freshness
    today: date

    def last_checked(self, last_verified: str | None) -> LastChecked:
        return _last_checked(last_verified, self.today, self.freshness.stale_after_months)

    def fresh_first(
        self, db, hits: list[tuple], wanted: int | None = None, dates: dict | None = None
    ) -> list[tuple]:
        """Hits (id, distance, rid, ...), nearest first and then by id, in the order of the
        module's rule: by band of distance, fresh before stale, then nearest, then id.

        With `wanted`, only the first `wanted` need be in that order (the rest stay nearest
        first): only the hits up to the end of the wanted-th one's band are reordered, since
        no hit beyond it can move before it. A keyword common in a town finds thousands.
        `dates`: each hit's last_verified by rid, when the caller has them already."""
        if wanted is not None and wanted < len(hits):
            band_end = (distance_band(hits[wanted - 1][1]) + 1) * DISTANCE_BAND_M
            cut = bisect.bisect_left(hits, band_end, key=lambda hit: hit[1])
            return self.fresh_first(db, hits[:cut], dates=dates) + hits[cut:]
        if dates is None:
            dates = search_store(db).checked_dates(db, [hit[2] for hit in hits])
        # The stale rule (freshness.stale.over_months) as one comparison of ISO dates.
        stale_before = self.freshness.stale_before(self.today).isoformat()
        get = dates.get
        stale = [not (checked := get(hit[2])) or checked < stale_before for hit in hits]
        if all(stale) or not any(stale):
            # All fresh or all stale (an import checks its listings on one day): the hits
            # are nearest first, then by id, and so already in this order.
            return list(hits)
        keys = [
            (distance_band(hit[1]), late, hit[1], hit[0])
            for hit, late in zip(hits, stale, strict=True)
        ]
        return [hit for _, hit in sorted(zip(keys, hits, strict=True), key=_first)]


def _first(pair: tuple) -> tuple:
    return pair[0]


def _search_nearest(db, query: SearchQuery, centre: Centre, circle: Circle, conditions, ranked):
    """The total (counted in SQL, without fetching a row), then the page: the nearest, and
    then every other asset in the last one's band of distance, so that a fresh listing in
    that band can come before a stale one (see `_Ranking.fresh_first`)."""
    total = search_store(db).count_within(db, circle, conditions)
    wanted = min(query.offset + query.limit, total)
    if not wanted:
        return total, []
    ring, found = _nearest(db, centre, circle, conditions, wanted, total)
    if len(found) < total:
        band_end = (distance_band(found[wanted - 1][1]) + 1) * DISTANCE_BAND_M
        if band_end <= ring:  # the ring holds the whole band: nothing more to read
            found = found[: bisect.bisect_right(found, band_end, key=lambda hit: hit[1])]
        elif band_end < circle.radius_m:
            band = circle_around(centre.lat, centre.lon, band_end)
            found = search_store(db).all_within(db, band, conditions, checked=True)
        else:
            found = search_store(db).all_within(db, circle, conditions, checked=True)
    dates = {hit[2]: hit[3] for hit in found}
    found = ranked.fresh_first(db, [hit[:3] for hit in found], dates=dates)[:wanted]
    return total, found[query.offset :]


def _nearest(db, centre: Centre, circle: Circle, conditions: Conditions, wanted: int, total: int):
    """Every hit (with its last check, see store.all_within) within a ring around the centre
    holding at least the `wanted` nearest, nearest first, and the ring's radius: first a
    smaller circle that should hold about twice that many (if the total were spread evenly),
    its radius rounded up to the end of a band of distance where that at most doubles its
    area (so that the wanted-th hit's band is usually read with it, not by a second query),
    doubled until it holds enough; at most the whole circle.

    When a smaller circle holds `wanted` assets, they are the nearest of all: anything
    outside it is further away than each of them.
    """
    radius = circle.radius_m
    ring = radius * math.sqrt(2 * wanted / total) if total > 4 * wanted else radius
    band_end = math.ceil(ring / DISTANCE_BAND_M) * DISTANCE_BAND_M
    ring = band_end if band_end <= ring * math.sqrt(2) else ring  # at most twice the area
    while ring < radius:
        around = circle_around(centre.lat, centre.lon, ring)
        found = search_store(db).all_within(db, around, conditions, checked=True)
        if len(found) >= wanted:
            return ring, found
        ring *= 2
    return radius, search_store(db).all_within(db, circle, conditions, checked=True)


def _search_all(db, query: SearchQuery, circle, conditions, by_relevance: bool, ranked):
    """Every match within the circle at once, for keywords (see store.search.all_within) and
    for days and times, which Python checks by the rules in assetmap.record.schedules.

    Keywords are asked one word at a time, so each hit knows which words it matched (an
    FTS5 OR would find the same assets but not say which word found each); an asset matching
    any word is a hit, and those matching more words come first. Returns the total, the page
    and the words each hit (by rid) matched."""
    timed = bool(query.days or query.time)
    rows: dict[int, tuple] = {}
    matched: dict[int, list[str]] = {}
    checked = bool(conditions.words)  # each hit's last check, read with it (store.all_within)
    for words in [(word,) for word in conditions.words] or [()]:
        for row in search_store(db).all_within(
            db, circle, replace(conditions, words=words), schedules=timed, checked=checked
        ):
            rows.setdefault(row[2], row)
            matched.setdefault(row[2], []).extend(words)
    dates = {rid: row[-1] for rid, row in rows.items()} if checked else None
    found = [
        row[:3]
        for row in sorted(rows.values(), key=lambda row: (row[1], row[0]))
        if not timed
        or schedules.matches(json.loads(row[3]) if row[3] else None, query.days, query.time)
    ]
    if by_relevance and found:
        keep = {hit[2] for hit in found}
        best = search_store(db).ranked_within(db, circle, conditions, len(rows))
        found = [hit for hit in best if hit[2] in keep]
    elif found:
        # Several words: those matching more come first, so every hit's place matters.
        wanted = None if len(conditions.words) > 1 else query.offset + query.limit
        found = ranked.fresh_first(db, found, wanted, dates)
    if len(conditions.words) > 1:
        found.sort(key=lambda hit: -len(matched[hit[2]]))  # stable: the order within stays
    page = found[query.offset : query.offset + query.limit]
    return len(found), page, {hit[2]: tuple(matched[hit[2]]) for hit in page}
