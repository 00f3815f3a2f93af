"""Which column of an import file holds which field: the header aliases, declared once.

Audits name their columns every way there is ("Post Code", "postcode", "Postcode of venue";
"lon", "lng", "Longitude", "x"). The aliases below are the one list of the names we recognise;
docs/importing.md is checked against it by a test. Anything else can be named in a mapping file
(assetmap.imports.mapping). A column that matches nothing is never dropped: its values are kept
with each row as extra information, and the preview says which columns those were.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from assetmap.imports.problems import ImportFileError, column_letter
from assetmap.record import fields

# Targets that are not asset fields.
IGNORE = "ignore"  # read and thrown away on purpose (the `error` column of a rejected-rows CSV)
EXTRA = "extra"  # kept with the row as extra information
VALUES = "values"  # a free-text column that a mapping file translates into fields
EASTING, NORTHING = "easting", "northing"  # British National Grid, converted to lat/lon
COORDINATES = "coordinates"  # "53.42, -2.35" in one cell
AGE_RANGE = "age_range"  # "18+", "5-11", "over 50s": becomes min_age and max_age
ADDRESS_PART = "address_part"  # "Address line 2", "Town": joined into the address
CONTACT = "contact"  # emails, phones and web addresses mixed: each value goes to its field

PSEUDO_FIELDS: dict[str, str] = {
    EASTING: "easting (British National Grid)",
    NORTHING: "northing (British National Grid)",
    COORDINATES: "latitude and longitude in one cell",
    AGE_RANGE: "age range (becomes minimum and maximum age)",
    ADDRESS_PART: "part of the address",
    CONTACT: "contact details (each email, phone or web address goes to its own field)",
}

# Field name -> the headings that mean it, as people write them. Matching ignores case,
# spaces, punctuation and anything in brackets, so "Post-code (required)" is "postcode".
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("assetmap id",),
    "source_id": (
        "source id", "ref", "ref no", "reference", "reference number", "record id", "unique id",
        "uid", "asset id", "asset ref", "asset reference", "external id", "org ref",
    ),
    "name": (
        "name", "asset name", "group name", "activity name", "service name", "project name",
        "club name", "organisation or group name", "title",
    ),
    "description": (
        "description", "desc", "details", "about", "summary", "what it is", "what happens",
        "activity description", "service description", "more information",
    ),
    "kind": ("kind", "asset kind", "kind of asset", "asset type", "type of asset"),
    "strand": ("strand", "phe strand", "strand of approach", "family of approaches"),
    "approach": ("approach", "phe approach", "community centred approach"),
    "categories": (
        "categories", "category", "activity categories", "activity category", "activity type",
        "activity types", "themes", "theme", "tags",
    ),
    "audiences": (
        "audiences", "audience", "who it is for", "who for", "who is it for", "target group",
        "target audience", "client group",
    ),
    "min_age": ("min age", "minimum age", "age from", "lower age", "youngest age"),
    "max_age": ("max age", "maximum age", "age to", "upper age", "oldest age"),
    "organisation": (
        "organisation", "organization", "org", "organisation name", "organization name",
        "provider", "run by", "lead organisation", "delivered by",
    ),
    "address": (
        "address", "full address", "venue address", "street address", "location address",
        "physical_address.address_1",
    ),
    "postcode": (
        "postcode", "post code", "postal code", "zip", "zip code", "pcode", "venue postcode",
        "postcode of venue", "physical_address.postal_code",
    ),
    "lat": ("lat", "latitude", "y", "lat wgs84", "latitude wgs84", "location.latitude"),
    "lon": (
        "lon", "lng", "long", "longitude", "x", "lon wgs84", "longitude wgs84",
        "location.longitude",
    ),
    "service_area": ("service area", "service_area geojson"),
    "phone": (
        "phone", "telephone", "tel", "phone number", "telephone number", "contact number",
        "public phone", "phone.number",
    ),
    "email": ("email", "e mail", "email address", "contact email", "public email"),
    "website": (
        "website", "web", "url", "web site", "website address", "web address", "homepage", "link",
    ),
    "contact_name": ("contact name", "named contact", "contact person", "lead contact"),
    "contact_phone": ("contact phone", "direct line", "contact telephone", "contact phone number"),
    "internal_notes": (
        "internal notes", "staff notes", "private notes", "professional notes",
        "notes for link workers",
    ),
    "organiser_email": ("organiser email", "organizer email", "leader email", "organiser contact"),
    "schedule": (
        "schedule", "when", "times", "day and time", "days and times", "opening times",
        "opening hours", "timetable", "session times", "meeting times",
    ),
    "cost": ("cost", "price", "charge", "fee", "fees", "cost type"),
    "cost_details": ("cost details", "price details", "charge details", "cost notes"),
    "accessibility": ("accessibility", "access", "accessible facilities", "access facilities"),
    "access_notes": (
        "access notes", "getting there", "transport", "public transport", "directions",
    ),
    "languages": ("languages", "language", "languages spoken"),
    "self_referral": ("self referral", "can self refer", "self referral allowed"),
    "link_worker_referral": (
        "link worker referral", "link worker referrals", "accepts referrals",
        "social prescribing referral",
    ),
    "referral_details": (
        "referral details", "how to join", "how to refer", "referral route", "referral process",
        "how to access",
    ),
    "status": ("status", "asset status"),
    "archived": ("archived",),
    "last_verified": (
        "last verified", "last checked", "date checked", "verified on", "last updated",
        "date updated",
    ),
    "verified_by": ("verified by", "checked by", "updated by"),
    "source": ("source", "data source"),
    EASTING: ("easting", "eastings", "os easting", "bng easting", "x coordinate"),
    NORTHING: ("northing", "northings", "os northing", "bng northing", "y coordinate"),
    COORDINATES: ("coordinates", "lat long", "lat lon", "latlng", "latlong", "lat lng", "geo"),
    AGE_RANGE: ("age range", "ages", "age", "age group"),
    ADDRESS_PART: (
        "address 1", "address 2", "address 3", "address line 1", "address line 2",
        "address line 3", "street", "town", "city", "locality",
    ),
    CONTACT: ("contact", "contact details", "contact info", "contact information", "contacts"),
    IGNORE: ("error",),
}  # fmt: skip

# The template's headings: the fields a coordinator fills in, in the order of
# assetmap.record.fields.
TEMPLATE_FIELDS: tuple[str, ...] = ("source_id",) + tuple(
    f.name
    for f in fields.FIELDS
    if f.name not in ("id", "service_area", "archived", "source", "source_id", "position_source")
)

# Fields that many columns may feed; every other target takes one column.
_MANY_COLUMNS = frozenset({ADDRESS_PART, EXTRA, IGNORE, VALUES})
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]|\*")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise_header(header: str) -> str:
    """The part of a heading that matters: "Post-Code (required)" and "postcode" are alike."""
    text = unicodedata.normalize("NFKC", str(header)).casefold()
    text = _BRACKETS.sub(" ", text).replace("&", " and ")
    return _NOT_ALNUM.sub("", text)


def _alias_table() -> dict[str, str]:
    """Normalised heading -> target. Every field's own name is a heading too, so a field added
    to assetmap.record.fields can be imported (and is in the template) before it has any aliases."""
    table: dict[str, str] = {normalise_header(name): name for name in fields.FIELD_NAMES}
    for target, names in ALIASES.items():
        for name in (target, *names):
            key = normalise_header(name)
            if table.setdefault(key, target) != target:
                raise LookupError(f"heading {name!r} is an alias of both {table[key]} and {target}")
    return table


ALIAS_TABLE: dict[str, str] = _alias_table()
TARGETS = frozenset(fields.FIELD_NAMES) | frozenset(PSEUDO_FIELDS) | {IGNORE, EXTRA}


def is_known_heading(header: str, mapped: frozenset[str] = frozenset()) -> bool:
    """Whether a heading is one we recognise, or one the mapping file names."""
    key = normalise_header(header)
    return bool(key) and (key in ALIAS_TABLE or key in mapped or key == "id")


@dataclass(frozen=True)
class Column:
    """One column of the file and what it feeds."""

    index: int
    header: str
    target: str
    how: str  # "heading", "mapping file", "not recognised", "used by another column"

    @property
    def letter(self) -> str:
        return column_letter(self.index)

    @property
    def label(self) -> str:
        """The heading as the report shows it; a column without one is named by its letter."""
        return self.header or f"column {self.letter}"


_UNSEEN = object()


@dataclass
class ColumnPlan:
    """What each column feeds, and what the preview should say about the columns."""

    columns: list[Column]
    notes: list[str] = field(default_factory=list)
    _first: dict = field(default_factory=dict, repr=False, compare=False)

    def targets(self) -> set[str]:
        return {c.target for c in self.columns}

    def column_for(self, target: str) -> Column | None:
        """The first column feeding `target`, or None (asked for every row, so remembered)."""
        found = self._first.get(target, _UNSEEN)
        if found is _UNSEEN:
            found = next((c for c in self.columns if c.target == target), None)
            self._first[target] = found
        return found


def _cut_short(header: str) -> str | None:
    """The field a heading of exactly 10 letters stands for when it is the start of that
    field's headings only: a shapefile's names are cut to 10 ("ORGANISATI", "DESCRIPTIO")."""
    header = str(header).strip()
    if len(header) != 10 or not header.replace("_", "").isalnum():
        return None
    key = normalise_header(header)
    found = {target for alias, target in ALIAS_TABLE.items() if alias.startswith(key)}
    if len(found) > 1:  # "organisati" starts "organisation or group name" too: the field wins
        found = {target for target in found if normalise_header(target).startswith(key)}
    return found.pop() if len(found) == 1 else None


# Parts of a JSON record that only hold other fields: under them, the last name says the field
# ("contact.phone" is the phone). Under anything else the last name describes that thing
# ("organisation.name" is not the asset's name), so only the two names together are read.
_HOLDERS = frozenset(
    normalise_header(word)
    for word in (
        "location",
        "geo",
        "geometry",
        "position",
        "point",
        "coordinates",
        "coords",
        "address",
        "postal address",
        "contact",
        "contacts",
        "contact details",
        "details",
        "properties",
        "attributes",
        "fields",
        "record",
        "item",
    )
)


def _dotted(header: str) -> str | None:
    """The field a dotted heading of a JSON record names: "location.lat" is lat, "contact.email"
    is email, "address.line1" part of the address, "organisation.name" the organisation."""
    parts = [p for p in str(header).split(".") if p.strip()]
    if len(parts) < 2:
        return None
    tries = [parts[-2:]]
    if normalise_header(parts[-2]) in _HOLDERS:
        tries.insert(0, parts[-1:])
    for words in tries:
        key = normalise_header(" ".join(words))
        if key in ALIAS_TABLE and key != "id":
            return ALIAS_TABLE[key]
    return None


def plan_columns(headers: list[str], mapping, *, gis: bool = False) -> ColumnPlan:
    """Match each heading to a field, through the mapping file first and the aliases second;
    for a GIS file (`gis`), also names cut short as shapefiles cut them.

    Raises ImportFileError when the file has no column for something every asset needs, since
    then every row would be rejected for the same reason and one message says it better.
    """
    keys = [normalise_header(h) for h in headers]
    # A bare "id" is the file's own reference, unless the file is an assetmap export (which
    # has source_id beside it): then it is the asset's id and the rows update those assets.
    export_like = "sourceid" in keys
    columns: list[Column] = []
    taken: dict[str, Column] = {}
    doubled: list[tuple[Column, Column]] = []
    for index, (header, key) in enumerate(zip(headers, keys, strict=True)):
        header = str(header).strip()
        if key in mapping.columns:
            target, how = mapping.columns[key], "mapping file"
        elif key in mapping.values:
            target, how = VALUES, "mapping file"
        elif key == "id":
            target, how = ("id" if export_like else "source_id"), "heading"
        elif key in ALIAS_TABLE:
            target, how = ALIAS_TABLE[key], "heading"
        elif gis and (cut_short := _cut_short(header)):
            target, how = cut_short, "heading (cut short to 10 letters, as shapefiles do)"
        elif dotted := _dotted(header):
            target, how = dotted, "heading (the end of a dotted name, as JSON records nest them)"
        else:
            target, how = EXTRA, "not recognised"
        column = Column(index, header, target, how)
        if target not in _MANY_COLUMNS and target in taken:
            doubled.append((taken[target], column))
            column = Column(index, header, EXTRA, "used by another column")
        elif target not in _MANY_COLUMNS:
            taken[target] = column
        columns.append(column)
    plan = ColumnPlan(columns)
    for first, second in doubled:
        plan.notes.append(
            f"Columns {first.letter} ({first.label}) and {second.letter} ({second.label}) both "
            f"look like the {_describe(first.target)}; {first.letter} was used and "
            f"{second.letter} kept as extra information. To use {second.letter} instead, name it "
            "in a mapping file."
        )
    unrecognised = [c for c in columns if c.how == "not recognised" and c.header]
    if unrecognised:
        named = ", ".join(f"{c.letter} ({c.label})" for c in unrecognised)
        plan.notes.append(
            f"Not imported into any field, kept as extra information with each row: {named}. "
            "To import one into a field, rename its heading (see the template) or name it in a "
            "mapping file."
        )
    missing_in_file = sorted(set(mapping.columns) - set(keys))
    if missing_in_file:
        plan.notes.append(
            "The mapping file names columns this file does not have: "
            + ", ".join(repr(k) for k in missing_in_file)
            + "."
        )
    return plan


def _describe(target: str) -> str:
    if target in PSEUDO_FIELDS:
        return PSEUDO_FIELDS[target]
    if target in fields.FIELDS_BY_NAME:
        return fields.FIELDS_BY_NAME[target].label.lower()
    return target


class ColumnsRefused(ImportFileError):
    """A file refused for its columns alone: choosing what the columns hold (a mapping, on the
    import page or in a file) would let it through, so the upload is worth keeping."""

    def __init__(self, message: str, *, missing: list[str], places: bool):
        super().__init__(message)
        self.missing = missing  # of name, kind and strand, those nothing in the file gives
        self.places = places  # whether some column places each asset


def check_required(plan: ColumnPlan, mapping, *, has_geometry: bool) -> None:
    """Refuse a file with no column for the name, kind or strand, or nothing to place assets
    (ColumnsRefused)."""
    targets = plan.targets()
    supplied = targets | set(mapping.defaults) | mapping.value_fields()
    missing = [name for name in ("name", "kind", "strand") if name not in supplied]
    places = (
        has_geometry
        or {"lat", "lon"} <= targets
        or {EASTING, NORTHING} <= targets
        or bool({COORDINATES, "postcode", "address"} & targets)
    )
    if not missing and places:
        return
    headings = ", ".join(f"{c.letter} ({c.label})" for c in plan.columns) or "none"
    sentences = []
    if missing:
        one = len(missing) == 1
        them = "it" if one else "them"
        sentences.append(
            f"has no column for the {_or(missing)}, which every asset needs. Rename the "
            f"{'column that holds' if one else 'columns that hold'} {them} to {_and(missing)} "
            f"(the template's {'heading' if one else 'headings'}), or name {them} in a "
            f'mapping file ([columns] "Your heading" = "{missing[0]}")'
            + (
                ", where [defaults] can also set one kind or strand for every row."
                if set(missing) & {"kind", "strand"}
                else "."
            )
        )
    if not places:
        sentences.append(
            ("It also has" if missing else "has")
            + " no column that places each asset: add lat and lon (latitude and longitude), "
            "easting and northing, or a postcode column."
        )
    raise ColumnsRefused(
        " ".join(sentences) + f" The file's columns are: {headings}.",
        missing=missing,
        places=places,
    )


def _or(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or the " + names[-1]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# -- choosing columns on the import page --------------------------------------------------------

# How close (rapidfuzz ratio, 0 to 100) an unknown heading must be to a known one to be offered
# as that field: "Postcodes" and "Telephone no" are; "Type" and "Contact" are not.
LOOKS_LIKE = 85


def choices() -> list[tuple[str, str]]:
    """Every target a column can feed, as (target, label) for a select: the fields in the
    order of assetmap.record.fields, then the targets that are not fields, then extra and
    ignore. Made from the declarations, so a field or alias target added there appears here."""
    listed = [(f.name, f.label) for f in fields.FIELDS if f.name in TARGETS]
    listed += [(name, words[0].upper() + words[1:]) for name, words in PSEUDO_FIELDS.items()]
    listed += [
        (VALUES, "Kind, strand or category, value by value (chosen below)"),
        (EXTRA, "Keep as extra information"),
        (IGNORE, "Ignore (do not import)"),
    ]
    return listed


def suggest_target(header: str) -> tuple[str, str]:
    """The likely target of one heading, and why: a known heading, one that looks like a known
    heading (a plural, a typo, "no" for "number"), or nothing (extra information)."""
    key = normalise_header(header)
    if not key:
        return EXTRA, "no heading"
    if key == "id":
        return "source_id", "heading"
    if key in ALIAS_TABLE:
        return ALIAS_TABLE[key], "heading"
    from rapidfuzz import fuzz, process  # already used for duplicate names

    found = process.extractOne(key, ALIAS_TABLE.keys(), scorer=fuzz.ratio, score_cutoff=LOOKS_LIKE)
    if found:
        return ALIAS_TABLE[found[0]], f"looks like “{found[0]}”"
    return EXTRA, "not recognised"
