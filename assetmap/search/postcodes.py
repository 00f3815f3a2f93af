"""UK postcodes: one canonical spelling, so that lookups, duplicates and search agree.

People type postcodes every way there is ("m337zf", "M33  7ZF", a fixed-width "M1  1AD" from a
spreadsheet, a non-breaking space pasted from a web page). Everything else in the app stores and
compares the canonical form "M33 7ZF", so normalisation happens once, here.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from assetmap.search.parameters import ParameterError

POSTCODE_EXAMPLE = "M33 7ZF"

# The shape of a UK postcode (BS 7666). Letters that never appear in a position are excluded, so
# that common typos (an O for a 0 in the inward code, a V for a Y) are caught here rather than by
# a failed lookup later. Whether the postcode exists is a question for the lookup table.
_OUTWARD = (
    r"(?:"
    r"[A-PR-UWYZ][0-9]{1,2}"  # A9, A99
    r"|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"  # AA9, AA99
    r"|[A-PR-UWYZ][0-9][A-HJKPS-UW]"  # A9A
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRV-Y]"  # AA9A
    r")"
)
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_COMPACT_POSTCODE = re.compile(rf"(?:{_OUTWARD}{_INWARD}|GIR0AA)")

# Spaces of any kind, and invisible characters that ride along when text is copied from the web.
_SPACE_LIKE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")


def normalise_postcode(text: str) -> str | None:
    """The canonical form of a UK postcode ("M33 7ZF"), or None if `text` is not one.

    Only the format is checked; a postcode that is well formed but not in use still passes.
    """
    if not isinstance(text, str):
        return None
    # NFKC turns full-width letters and digits, and odd spaces, into their plain forms.
    compact = _SPACE_LIKE.sub("", unicodedata.normalize("NFKC", text)).upper()
    if not _COMPACT_POSTCODE.fullmatch(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


# ---------------------------------------------------------------------------------------------
# Districts and sectors, and what a person may type as a search centre
# ---------------------------------------------------------------------------------------------

# "M33" is a district (the outward code) and "M33 7" a sector. Someone who would rather not give
# their full postcode can search from either; a full postcode missing from the table falls back
# to them.
_SECTOR = re.compile(rf"({_OUTWARD})([0-9])")
_DISTRICT = re.compile(_OUTWARD)


def district_of(postcode: str) -> str:
    """The district (outward code) of a canonical postcode: "M33 7ZF" -> "M33"."""
    return postcode.split(" ")[0]


def sector_of(postcode: str) -> str:
    """The sector of a canonical postcode: "M33 7ZF" -> "M33 7"."""
    return postcode[:-2]


def postcode_area(postcode: str) -> str:
    """The postcode area (the leading letters) of a canonical postcode: "WA15 0HF" -> "WA"."""
    return postcode[:2] if postcode[1:2].isalpha() else postcode[:1]


# Letters typed where a digit belongs: an O for a zero, an I or an L for a one.
_DIGIT_FOR = {"O": "0", "I": "1", "L": "1"}


def digit_readings(text: str) -> list[str]:
    """The canonical postcodes `text` could be with an O read as 0, or an I or L as 1, where
    the digit is what makes it a postcode ("WA15 OHF" -> ["WA15 0HF"]); empty when none is.

    Only characters that stop the text being a postcode are read again: "WA15 OHF" fails
    because an inward code starts with a digit, so that O is read as 0; the letters of
    "OL1 1AA" already make a postcode and are left as they are.
    """
    if not isinstance(text, str) or normalise_postcode(text) is not None:
        return []
    compact = _SPACE_LIKE.sub("", unicodedata.normalize("NFKC", text)).upper()
    if not 5 <= len(compact) <= 7:
        return []
    positions = [i for i, c in enumerate(compact) if c in _DIGIT_FOR]
    if not positions or len(positions) > 4:
        return []
    found: list[str] = []
    for mask in range(1, 1 << len(positions)):
        chars = list(compact)
        for bit, at in enumerate(positions):
            if mask >> bit & 1:
                chars[at] = _DIGIT_FOR[chars[at]]
        canonical = normalise_postcode("".join(chars))
        if canonical is not None and canonical not in found:
            found.append(canonical)
    # Fewest characters changed first: the likeliest reading.
    return sorted(
        found, key=lambda p: sum(a != b for a, b in zip(p.replace(" ", ""), compact, strict=True))
    )


class PostcodeError(ParameterError):
    """A postcode that cannot be used as a search centre; the API answers it with a 422.

    `reason` is INVALID (not the shape of a UK postcode) or NOT_FOUND (well formed, but neither
    it nor its sector nor its district is in the postcode table). It is a ParameterError naming
    "postcode", so a handler that knows only ParameterError still gives a 4xx, never a 500.
    """

    INVALID = "invalid"
    NOT_FOUND = "not_found"

    def __init__(self, reason: str, message: str):
        super().__init__("postcode", message)
        self.reason = reason


@dataclass(frozen=True)
class PostcodeQuery:
    """A postcode, sector or district as typed, in canonical form.

    `postcode` is None when only a sector ("M33 7") or a district ("M33") was given, and
    `sector` is None when only a district was.
    """

    postcode: str | None
    sector: str | None
    district: str


def parse_postcode_query(text: str) -> PostcodeQuery:
    """Read a full postcode, a sector ("M33 7") or a district ("M33"); PostcodeError if none.

    Without a space "M337" can only be sector M33 7, but "M33" could be district M33 or sector
    M3 3; a district is what people mean, so that is how it is read.
    """
    postcode = normalise_postcode(text) if isinstance(text, str) else None
    if postcode:
        return PostcodeQuery(postcode, sector_of(postcode), district_of(postcode))
    if isinstance(text, str):
        cleaned = " ".join(_SPACE_LIKE.sub(" ", unicodedata.normalize("NFKC", text)).split())
        compact = cleaned.replace(" ", "").upper()
        if _DISTRICT.fullmatch(compact) and " " not in cleaned:
            return PostcodeQuery(None, None, compact)
        sector = _SECTOR.fullmatch(compact)
        if sector and (" " not in cleaned or cleaned.upper().split(" ")[0] == sector.group(1)):
            return PostcodeQuery(None, f"{sector.group(1)} {sector.group(2)}", sector.group(1))
    shown = text.strip() if isinstance(text, str) else text
    raise PostcodeError(
        PostcodeError.INVALID,
        f"{shown!r} is not a UK postcode; enter one such as {POSTCODE_EXAMPLE}, or the first "
        f"part of one (such as {district_of(POSTCODE_EXAMPLE)})",
    )


@dataclass(frozen=True)
class PostcodeLocation:
    """Where a postcode query was placed: `match` says how exactly.

    POSTCODE is the postcode's own point; SECTOR and DISTRICT are the mean position of the
    postcodes in the table that share its sector or district. `area` is what was matched
    ("M33 7ZF", "M33 7" or "M33") and `words` says so for people.
    """

    lat: float
    lon: float
    match: str
    area: str
    words: str


POSTCODE, SECTOR, DISTRICT = "postcode", "sector", "district"


@dataclass(frozen=True)
class PostcodeCoverage:
    """What the postcode table holds: its districts, the areas that loaded files hold in full
    (recorded by `assetmap postcodes load` in postcode_files), and those files' names.

    The one place that answers "may a postcode missing from the table be placed at its sector's
    or district's centre?", for a search and an import alike: only when a loaded file holds
    that area in full. A centre worked out from the few postcodes a borough's extract happens
    to hold of a district can be kilometres from the postcode asked about.
    """

    complete: frozenset[str]
    files: tuple[str, ...]
    # Reads the districts the table holds: one pass over the whole table (about a second for
    # the national file), so it is run only when words about the coverage are wanted, not
    # for every postcode placed at its sector's centre.
    list_districts: Callable[[], Iterable[str]] = field(default=tuple, repr=False, compare=False)

    @cached_property
    def districts(self) -> tuple[str, ...]:
        """The districts ("M33", "WA15") the table holds any postcode of, in order."""
        return tuple(self.list_districts())

    def held_in_full(self, postcode: str) -> set[str]:
        """Of a canonical postcode's area ("WA"), district ("WA15") and sector ("WA15 0"),
        those a loaded file holds every postcode of."""
        return {postcode_area(postcode), district_of(postcode), sector_of(postcode)} & set(
            self.complete
        )

    def holds_district_in_full(self, district: str) -> bool:
        """Whether every postcode of a district ("M33") is held: its own or its area's."""
        return bool({district, postcode_area(district)} & self.complete)

    def districts_in_words(self, limit: int = 12) -> str:
        """ "districts M15, M16 and M17", naming at most `limit` before "and N more"."""
        named = list(self.districts[:limit])
        more = len(self.districts) - len(named)
        if more:
            listed = f"{', '.join(named)} and {more:,} more"
        elif len(named) > 1:
            listed = f"{', '.join(named[:-1])} and {named[-1]}"
        else:
            listed = "".join(named)
        return f"district{'s' if len(self.districts) != 1 else ''} {listed}"


def postcode_coverage(db) -> PostcodeCoverage:
    """What the postcode table covers, read from the table and the record of loaded files."""
    from assetmap.store import postcodes as store

    files = store.loaded_files(db)
    return PostcodeCoverage(
        list_districts=lambda: store.districts(db),
        complete=frozenset(area for file in files for area in file["complete_areas"]),
        files=tuple(file["file_name"] for file in files),
    )


NATIONAL_FILE = "the national ONS Postcode Directory"


def locate_postcode(db, text: str) -> PostcodeLocation:
    """Place a postcode, sector or district typed by a person, from the local postcode table.

    A sector or district typed on purpose is placed at the centre of the postcodes the table
    holds in it. A whole postcode missing from the table (new, or outside what was loaded) is
    placed at its sector's or district's centre only when a loaded file holds that area in
    full (PostcodeCoverage); otherwise the PostcodeError says what the table covers and how
    more is loaded, rather than blaming a postcode that may well be right. Raises
    PostcodeError: INVALID when the text is not a postcode, NOT_FOUND when it cannot be placed.
    """
    from assetmap.store import postcodes as store

    query = parse_postcode_query(text)
    if not store.has_postcodes(db):
        asked = query.postcode or query.sector or query.district
        raise PostcodeError(
            PostcodeError.NOT_FOUND,
            f"{asked} cannot be looked up: no postcodes have been loaded yet (an administrator "
            "can load them with `assetmap postcodes load`)",
        )
    if query.postcode:
        found = store.find_postcode(db, query.postcode)
        if found:
            return PostcodeLocation(*found, POSTCODE, query.postcode, query.postcode)
        return _fallback_for_missing(db, query)
    if query.sector and (found := store.area_centre(db, query.sector)):
        return PostcodeLocation(
            *found, SECTOR, query.sector, f"the centre of postcode sector {query.sector}"
        )
    if query.sector is None and (found := store.area_centre(db, query.district)):
        return PostcodeLocation(
            *found, DISTRICT, query.district, f"the centre of postcode district {query.district}"
        )
    asked = query.sector or query.district
    coverage = postcode_coverage(db)
    raise PostcodeError(
        PostcodeError.NOT_FOUND,
        f"This directory's postcode table has no postcodes in {asked}: it covers "
        f"{coverage.districts_in_words()}. Search from a postcode there, or ask an "
        f"administrator to load {NATIONAL_FILE} to search from anywhere.",
    )


def _fallback_for_missing(db, query: PostcodeQuery) -> PostcodeLocation:
    """A whole postcode the table does not hold: its sector's or district's centre when a
    loaded file holds that area in full, else a PostcodeError saying what the table covers."""
    from assetmap.store import postcodes as store

    postcode, sector, district = query.postcode, query.sector, query.district
    coverage = postcode_coverage(db)
    full = coverage.held_in_full(postcode)
    missing = (
        f" ({postcode} itself is not in our postcode list, which holds that area in full, so "
        "it may be newer than the list)"
    )
    if full and (found := store.area_centre(db, sector)):
        return PostcodeLocation(
            *found, SECTOR, sector, f"the centre of postcode sector {sector}{missing}"
        )
    if full - {sector} and (found := store.area_centre(db, district)):
        return PostcodeLocation(
            *found, DISTRICT, district, f"the centre of postcode district {district}{missing}"
        )
    held = store.area_centre(db, district) is not None
    if held:
        what = (
            f"{postcode} is not in this directory's postcode table, and the table is not known "
            f"to hold every postcode of district {district}, so the middle of the ones it has "
            f"could be far from {postcode}. Search from a neighbour's postcode"
        )
    else:
        what = (
            f"{postcode} may well be right, but this directory's postcode table does not "
            f"reach it: it covers {coverage.districts_in_words()}. Search from a postcode "
            "there"
        )
    raise PostcodeError(
        PostcodeError.NOT_FOUND,
        f"{what}, or ask an administrator to load {NATIONAL_FILE} to search from anywhere.",
    )


# ---------------------------------------------------------------------------------------------
# Reading postcode files: the ONS Postcode Directory and OS Code-Point Open
# ---------------------------------------------------------------------------------------------

ONSPD = "ONS Postcode Directory (pcds, lat, long)"
LAT_LON_CSV = "postcode CSV with latitude and longitude"
CODE_POINT = "OS Code-Point Open (eastings and northings, British National Grid)"

# Header names, most preferred first: ONSPD's pcds is the canonical spelling; pcd is its
# fixed-width "M1  1AD" form; the Trafford extract has postcode, lon and lat.
_POSTCODE_COLUMNS = ("pcds", "postcode", "pcd", "pcd2")
_LAT_COLUMNS = ("lat", "latitude")
_LON_COLUMNS = ("long", "lon", "lng", "longitude")
_ONSPD_NO_GRID_LAT = 99.0  # ONSPD gives lat 99.999999, long 0 where there is no grid reference
_CODE_POINT_NO_COORDINATES = "90"  # positional quality 90: no coordinates (eastings 0, northings 0)

NO_GRID_REFERENCE = "no grid reference"
BAD_POSTCODE = "not a valid postcode"
BAD_COORDINATES = "coordinates missing or not numbers"
SHORT_ROW = "too few columns"

BATCH_ROWS = 50_000
_CANONICAL = re.compile(rf"{_OUTWARD} {_INWARD}")  # ONSPD's pcds needs no further work


class PostcodeFileError(ValueError):
    """A file that is not in a postcode layout we can read; the message says which we can."""


@dataclass
class LoadReport:
    """What reading a postcode file found: rows read and kept, and why others were skipped."""

    layout: str = ""
    read: int = 0
    loaded: int = 0
    skipped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, line: int, value: object) -> None:
        self.skipped[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < 3:
            shown.append(f"line {line}: {value!r}")


def _canonical(text: str) -> str | None:
    return text if _CANONICAL.fullmatch(text) else normalise_postcode(text)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _counting(lines, counter: list[int]):
    """Pass lines through, adding their lengths to counter[0], for the progress bar."""
    for line in lines:
        counter[0] += len(line)
        yield line


def detect_layout(first_row: list[str]) -> tuple[str, tuple[int, int, int] | None]:
    """The layout of a postcode file from its first row, and for CSVs with a header the
    columns of the postcode, latitude and longitude. PostcodeFileError when unknown."""
    header = [h.strip().lower() for h in first_row]
    columns = (
        _column(header, _POSTCODE_COLUMNS),
        _column(header, _LAT_COLUMNS),
        _column(header, _LON_COLUMNS),
    )
    if None not in columns:
        return (ONSPD if "pcds" in header else LAT_LON_CSV), columns  # type: ignore[return-value]
    if (
        len(first_row) >= 4
        and normalise_postcode(first_row[0]) is not None
        and first_row[2].strip().isdigit()
        and first_row[3].strip().isdigit()
    ):
        return CODE_POINT, None
    raise PostcodeFileError(
        "is not a postcode file I can read: expected the ONS Postcode Directory (a header with "
        "pcds, lat and long), a CSV with postcode, lat and lon columns, or OS Code-Point Open "
        "(no header; postcode, quality, eastings, northings)"
    )


def read_postcode_file(
    path: str | Path, report: LoadReport, *, batch_rows: int = BATCH_ROWS
) -> Iterator[tuple[list[tuple[str, float, float]], int]]:
    """Stream (postcode, lat, lon) rows in batches, with how many characters have been read.

    Memory stays constant however large the file (the national ONSPD has 2.7 million rows).
    Rows that cannot be used are counted in `report` with the reason, never silently dropped.
    """
    with open(path, encoding="utf-8-sig", newline="") as f:
        consumed = [0]
        rows = csv.reader(_counting(f, consumed))
        first = next(rows, None)
        if first is None:
            raise PostcodeFileError("is empty")
        report.layout, columns = detect_layout(first)
        if columns is None:
            batches = _code_point_batches(_chain_first(first, rows), report, batch_rows)
        else:
            batches = _lat_lon_batches(rows, columns, report, batch_rows)
        for batch in batches:
            report.loaded += len(batch)
            yield batch, consumed[0]


def _chain_first(first: list[str], rows) -> Iterator[list[str]]:
    yield first
    yield from rows


def _lat_lon_batches(rows, columns, report: LoadReport, batch_rows: int):
    postcode_at, lat_at, lon_at = columns
    needed = max(columns) + 1
    batch: list[tuple[str, float, float]] = []
    for line, row in enumerate(rows, start=2):
        report.read += 1
        if len(row) < needed:
            report.skip(SHORT_ROW, line, ",".join(row)[:60])
            continue
        postcode = _canonical(row[postcode_at])
        if postcode is None:
            report.skip(BAD_POSTCODE, line, row[postcode_at])
            continue
        try:
            lat, lon = float(row[lat_at]), float(row[lon_at])
        except ValueError:
            report.skip(BAD_COORDINATES, line, f"{row[lat_at]}, {row[lon_at]}")
            continue
        if _ONSPD_NO_GRID_LAT <= lat <= 100:
            report.skip(NO_GRID_REFERENCE, line, postcode)
            continue
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also refuses NaN
            report.skip(BAD_COORDINATES, line, f"{row[lat_at]}, {row[lon_at]}")
            continue
        batch.append((postcode, lat, lon))
        if len(batch) >= batch_rows:
            yield batch
            batch = []
    if batch:
        yield batch


def _code_point_batches(rows, report: LoadReport, batch_rows: int):
    """Code-Point Open rows, converted from British National Grid to WGS84 a batch at a time
    (pyproj converts a whole array in one call, far faster than point by point)."""
    import numpy as np
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    postcodes: list[str] = []
    grid: list[tuple[float, float]] = []

    def convert(postcodes: list[str], grid: list[tuple[float, float]]):
        eastings, northings = np.array(grid, dtype=float).T
        lons, lats = to_wgs84.transform(eastings, northings)
        return list(zip(postcodes, lats.tolist(), lons.tolist(), strict=True))

    for line, row in enumerate(rows, start=1):
        report.read += 1
        if len(row) < 4:
            report.skip(SHORT_ROW, line, ",".join(row)[:60])
            continue
        postcode = _canonical(row[0])
        if postcode is None:
            report.skip(BAD_POSTCODE, line, row[0])
            continue
        try:
            easting, northing = float(row[2]), float(row[3])
        except ValueError:
            report.skip(BAD_COORDINATES, line, f"{row[2]}, {row[3]}")
            continue
        if row[1].strip() == _CODE_POINT_NO_COORDINATES or (easting == 0 and northing == 0):
            report.skip(NO_GRID_REFERENCE, line, postcode)
            continue
        if not (0 <= easting <= 800_000 and 0 <= northing <= 1_400_000):
            report.skip(BAD_COORDINATES, line, f"{row[2]}, {row[3]}")
            continue
        postcodes.append(postcode)
        grid.append((easting, northing))
        if len(postcodes) >= batch_rows:
            yield convert(postcodes, grid)
            postcodes, grid = [], []
    if postcodes:
        yield convert(postcodes, grid)
