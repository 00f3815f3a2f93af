"""The fields of an asset record, declared once.

An asset is a flat dict whose keys are the names below. Validation, the database columns, the
CSV and GeoJSON formats, the API and the forms all walk this list, so adding a field here is
how a field is added everywhere. Lists and the structured schedule are JSON in the database.

`professional` fields (named contacts, direct lines, internal notes) are for link workers and
coordinators only: public pages, the public API, the map's data and public exports leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass

from assetmap.record import taxonomy
from assetmap.record.taxonomy import Term

# Value types. Each has one cleaning rule in assetmap.record.validation.
TEXT = "text"  # one line of plain text
MULTILINE = "multiline"  # plain text that may hold line breaks
CHOICE = "choice"  # one slug from a vocabulary
CHOICES = "choices"  # a list of slugs from a vocabulary
TEXT_LIST = "text_list"  # a list of short free texts (languages)
INTEGER = "integer"
NUMBER = "number"
BOOLEAN = "boolean"
DATE = "date"  # ISO 8601, YYYY-MM-DD
URL = "url"  # http or https only
EMAIL = "email"
PHONE = "phone"
POSTCODE = "postcode"  # a UK postcode, normalised to "M33 7ZF"
SCHEDULE = "schedule"  # {"sessions": [{"day", "frequency", "start", "end"}], "notes": str}
GEOMETRY = "geometry"  # a GeoJSON Polygon or MultiPolygon (a service area)

JSON_TYPES = frozenset({CHOICES, TEXT_LIST, SCHEDULE, GEOMETRY})


@dataclass(frozen=True)
class Field:
    """One field of an asset: its name as stored and sent, and how to read and show it."""

    name: str
    type: str
    label: str
    help: str = ""
    required: bool = False
    vocabulary: tuple[Term, ...] | tuple[taxonomy.Strand, ...] | None = None
    professional: bool = False


# How an asset's position was found. Public, like the position itself: it says nothing about a
# person, and it tells whoever reads the map how far to trust the pin (a sector's centre can be
# half a kilometre from the door). Set by the import (assetmap/imports/placing.py) and by
# store.assets.save_assets (given for a new asset, by hand when the form moves one).
GIVEN, FROM_POSTCODE, FROM_SECTOR, FROM_DISTRICT, BY_HAND = (
    "given",
    "postcode",
    "sector",
    "district",
    "by_hand",
)
POSITION_SOURCES: tuple[Term, ...] = (
    Term(GIVEN, "given as coordinates (in the file, the form or the data loaded)"),
    Term(FROM_POSTCODE, "the point of its postcode"),
    Term(FROM_SECTOR, "the centre of its postcode sector (approximate)"),
    Term(FROM_DISTRICT, "the centre of its postcode district (approximate)"),
    Term(BY_HAND, "moved by hand on the form"),
)
APPROXIMATE_POSITIONS = frozenset({FROM_SECTOR, FROM_DISTRICT})

FIELDS: tuple[Field, ...] = (
    Field("id", TEXT, "Id", "Stable identifier; made from the source when left empty."),
    Field("name", TEXT, "Name", "What people call it.", required=True),
    Field("description", MULTILINE, "Description", "What happens there, in plain words."),
    Field(
        "kind",
        CHOICE,
        "Kind",
        "Group, activity, service, place or volunteering.",
        required=True,
        vocabulary=taxonomy.KINDS,
    ),
    Field(
        "strand",
        CHOICE,
        "Strand",
        "One of the four community-centred strands.",
        required=True,
        vocabulary=taxonomy.STRANDS,
    ),
    Field("approach", CHOICE, "Approach", "An approach within the strand (optional)."),
    Field(
        "categories", CHOICES, "Categories", "Activity categories.", vocabulary=taxonomy.CATEGORIES
    ),
    Field("audiences", CHOICES, "Who it is for", "Ages and groups.", vocabulary=taxonomy.AUDIENCES),
    Field("min_age", INTEGER, "Minimum age"),
    Field("max_age", INTEGER, "Maximum age"),
    Field("organisation", TEXT, "Organisation", "Who runs it."),
    Field("address", TEXT, "Address"),
    Field("postcode", POSTCODE, "Postcode", "A UK postcode, such as M33 7ZF."),
    Field("lat", NUMBER, "Latitude", "WGS84 decimal degrees, such as 53.42.", required=True),
    Field("lon", NUMBER, "Longitude", "WGS84 decimal degrees, such as -2.32.", required=True),
    Field("service_area", GEOMETRY, "Service area", "A GeoJSON polygon (optional)."),
    Field("phone", PHONE, "Phone"),
    Field("email", EMAIL, "Email"),
    Field("website", URL, "Website", "Starts with http:// or https://."),
    Field("contact_name", TEXT, "Named contact", "For professionals only.", professional=True),
    Field("contact_phone", PHONE, "Direct line", "For professionals only.", professional=True),
    Field(
        "internal_notes", MULTILINE, "Internal notes", "For professionals only.", professional=True
    ),
    Field(
        "organiser_email",
        EMAIL,
        "Organiser's e-mail",
        "For professionals only: where reminders to check the listing go; never shown publicly.",
        professional=True,
    ),
    Field("schedule", SCHEDULE, "When", "Regular sessions and notes."),
    Field("cost", CHOICE, "Cost", "Free, low cost or paid.", vocabulary=taxonomy.COSTS),
    Field("cost_details", TEXT, "Cost details", "For example: £2 a session, first one free."),
    Field("accessibility", CHOICES, "Accessibility", vocabulary=taxonomy.ACCESSIBILITY),
    Field("access_notes", MULTILINE, "Getting there", "Public transport and access notes."),
    Field("languages", TEXT_LIST, "Languages"),
    Field("self_referral", BOOLEAN, "Residents can ask to join"),
    Field("link_worker_referral", BOOLEAN, "Link workers can refer"),
    Field("referral_details", MULTILINE, "How to join"),
    Field("status", CHOICE, "Status", "Active, paused or closed.", vocabulary=taxonomy.STATUSES),
    Field(
        "capacity",
        CHOICE,
        "Places",
        "Taking new people, waiting list, or full (shown to link workers before they refer).",
        vocabulary=taxonomy.CAPACITY,
    ),
    Field(
        "archived",
        BOOLEAN,
        "Archived",
        "Archived assets leave public pages and search but stay in the database and history.",
    ),
    Field("last_verified", DATE, "Last checked", "Date the details were last confirmed."),
    Field("verified_by", TEXT, "Checked by"),
    Field("source", TEXT, "Source", "Which import or data set it came from."),
    Field("source_id", TEXT, "Id in source"),
    Field(
        "position_source",
        CHOICE,
        "Position found from",
        "Given, postcode, sector, district or by hand; set when the position is found.",
        vocabulary=POSITION_SOURCES,
    ),
)

FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
PUBLIC_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS if not f.professional)
PROFESSIONAL_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS if f.professional)

# What a field holds when a record leaves it out.
DEFAULTS: dict[str, object] = {
    "categories": [],
    "audiences": [],
    "accessibility": [],
    "languages": [],
    "schedule": {"sessions": [], "notes": ""},
    "status": "active",
    "archived": False,
}


def public_view(asset: dict) -> dict:
    """The asset without its professional-only fields, for anything the public can fetch."""
    return {k: v for k, v in asset.items() if k not in PROFESSIONAL_FIELD_NAMES}
