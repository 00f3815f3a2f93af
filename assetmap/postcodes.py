"""UK postcodes: one canonical spelling, so that lookups, duplicates and search agree.

People type postcodes every way there is ("m337zf", "M33  7ZF", a fixed-width "M1  1AD" from a
spreadsheet, a non-breaking space pasted from a web page). Everything else in the app stores and
compares the canonical form "M33 7ZF", so normalisation happens once, here.
"""

from __future__ import annotations

import re
import unicodedata

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


def locate_postcode(db, text: str) -> PostcodeLocation:
    """Place a postcode, sector or district typed by a person, from the local postcode table.

    A valid postcode missing from the table (new, or outside the loaded area's edge) falls back
    to its sector's centre and then its district's. Raises PostcodeError when the text is not
    a postcode (INVALID) or nothing in its district is known (NOT_FOUND).
    """
    from assetmap.store import postcodes as store

    query = parse_postcode_query(text)
    if query.postcode:
        found = store.find_postcode(db, query.postcode)
        if found:
            return PostcodeLocation(*found, POSTCODE, query.postcode, query.postcode)
    missing = f" ({query.postcode} itself is not in our postcode list)" if query.postcode else ""
    if query.sector:
        found = store.area_centre(db, query.sector)
        if found:
            words = f"the centre of postcode sector {query.sector}{missing}"
            return PostcodeLocation(*found, SECTOR, query.sector, words)
    found = store.area_centre(db, query.district)
    if found:
        words = f"the centre of postcode district {query.district}{missing}"
        return PostcodeLocation(*found, DISTRICT, query.district, words)
    asked = query.postcode or query.sector or query.district
    if store.count_postcodes(db) == 0:
        message = (
            f"{asked} cannot be looked up: no postcodes have been loaded yet "
            "(an administrator can load them with `assetmap postcodes load`)"
        )
    else:
        message = (
            f"{asked} is not a postcode we know, and nor is any postcode in district "
            f"{query.district}; check it, or try a nearby postcode"
        )
    raise PostcodeError(PostcodeError.NOT_FOUND, message)
