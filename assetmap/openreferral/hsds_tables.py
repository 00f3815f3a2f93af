"""The HSDS 3.0 tables of an Open Referral UK tabular package, and how they nest in a service.

An ORUK service is one nested JSON object (assetmap.openreferral.mapping); the tabular form of
the standard is one CSV per kind of object, each row pointing at what it belongs to by id. This
module says, once, which tables there are (file names and columns as the UK profile's schema
files give them: ../shared/openreferral-uk/schema/*.json, checked by tests/test_hsds_tabular.py),
which nested key of a service is which table, and which column points to the parent.

Files are named as the UK profile's schemas name them (`address.csv`, `schedule.csv`,
`service_at_location.csv`, `attribute.csv`); packages in the wild also use the HSDS plural
names (`addresses.csv` ...), which ALIASES reads as the same tables.

Columns the UK profile lacks but HSDS 3.0 has, and that the mapping fills (a phone's or a
language's service_id, a language's name, an attribute's link_entity), are declared too, so
that they are written with a type and read back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"  # a Table Schema type: string, number, boolean, object, array
    format: str = ""  # uuid, email, uri (Table Schema string formats)


@dataclass(frozen=True)
class Table:
    """One table: its file's stem, the object it holds (for `<entity>_id` and link_entity),
    its columns in the standard's order, and the columns the standard requires (written as ""
    rather than left out when a service has no value, so they read back as "")."""

    name: str
    entity: str
    columns: tuple[Column, ...]
    required: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _id(name: str) -> Column:
    return Column(name, "string", "uuid")


def _cols(*specs) -> tuple[Column, ...]:
    """Columns from names ("x"), ids ("x_id" and "id": uuid) and (name, type, format)."""
    found = []
    for spec in specs:
        if isinstance(spec, tuple):
            found.append(Column(*spec))
        elif spec == "id" or spec.endswith("_id"):
            found.append(_id(spec))
        else:
            found.append(Column(spec))
    return tuple(found)


NUMBER = "number"
EMAIL = ("string", "email")
URI = ("string", "uri")

TABLES: tuple[Table, ...] = (
    Table(
        "organizations",
        "organization",
        _cols(
            "id",
            "name",
            "description",
            ("email", *EMAIL),
            ("website", *URI),
            "logo",
            ("uri", *URI),
            "parent_organization_id",
        ),
        ("name", "description"),
    ),
    Table(
        "services",
        "service",
        _cols(
            "id",
            "organization_id",
            "name",
            "description",
            ("url", *URI),
            ("email", *EMAIL),
            "status",
            "fees",
            "accreditations",
            ("minimum_age", NUMBER),
            ("maximum_age", NUMBER),
            "assured_date",
            ("assurer_email", *EMAIL),
            "alert",
            "last_modified",
        ),
        ("name", "status"),
    ),
    Table(
        "attribute",
        "attribute",
        _cols("id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value", "label"),
    ),
    Table("service_at_location", "service_at_location", _cols("id", "service_id", "location_id")),
    Table(
        "locations",
        "location",
        _cols(
            "id",
            "location_type",
            "name",
            "description",
            ("latitude", NUMBER),
            ("longitude", NUMBER),
            "external_identifier",
            "external_identifier_type",
        ),
        ("location_type",),
    ),
    Table(
        "phones",
        "phone",
        _cols(
            "id",
            "contact_id",
            "number",
            "description",
            "service_id",
            "organization_id",
            "location_id",
            "service_at_location_id",
            ("extension", NUMBER),
            "type",
        ),
        ("number",),
    ),
    Table("contacts", "contact", _cols("id", "service_id", "name", "title")),
    Table(
        "address",
        "address",
        _cols(
            "id",
            "location_id",
            "attention",
            "address_1",
            "city",
            "region",
            "state_province",
            "postal_code",
            "country",
            "address_type",
            "address_2",
        ),
        ("address_1", "city", "state_province", "postal_code", "country", "address_type"),
    ),
    Table(
        "schedule",
        "schedule",
        _cols(
            "id",
            "service_id",
            "service_at_location_id",
            "valid_from",
            "valid_to",
            "dtstart",
            "freq",
            ("interval", NUMBER),
            "byday",
            "bymonthday",
            "description",
            "opens_at",
            "closes_at",
            ("schedule_link", *URI),
            "attending_type",
            "notes",
            "location_id",
            ("timezone", NUMBER),
            "until",
            ("count", NUMBER),
            "wkst",
            "byweekno",
            "byyearday",
        ),
    ),
    Table("funding", "funding", _cols("id", "service_id", "source")),
    Table(
        "service_areas",
        "service_area",
        _cols("id", "service_id", "name", "extent", "extent_type", "uri", "service_area"),
    ),
    Table(
        "languages",
        "language",
        _cols("id", "service_id", "phone_id", "name", "code", "note", "location_id"),
    ),
    Table(
        "accessibility",
        "accessibility",
        _cols("id", "location_id", "description", "details", ("url", *URI), "accessibility"),
    ),
    Table(
        "taxonomy_terms",
        "taxonomy_term",
        _cols(
            "id",
            "name",
            "description",
            "parent_id",
            "taxonomy",
            "taxonomy_id",
            ("term_uri", *URI),
            "term",
        ),
        ("name", "description"),
    ),
    Table(
        "cost_options",
        "cost_option",
        _cols(
            "id",
            "service_id",
            "valid_from",
            "valid_to",
            "option",
            ("amount", NUMBER),
            "amount_description",
        ),
    ),
    Table(
        "organization_identifiers",
        "organization_identifier",
        _cols("id", "organization_id", "identifier_scheme", "identifier_type", "identifier"),
        ("identifier_type", "identifier"),
    ),
    Table(
        "taxonomies",
        "taxonomy",
        _cols("id", "name", "description", ("uri", *URI), "version"),
        ("name", "description"),
    ),
)

TABLES_BY_NAME = {t.name: t for t in TABLES}
TABLE_OF_ENTITY = {t.entity: t.name for t in TABLES}

# Other names packages give the same tables (HSDS's plurals, singulars), file stem -> table.
ALIASES = {
    "addresses": "address",
    "schedules": "schedule",
    "service_at_locations": "service_at_location",
    "attributes": "attribute",
    "taxonomy": "taxonomies",
    "taxonomy_term": "taxonomy_terms",
    "service": "services",
    "organization": "organizations",
    "location": "locations",
    "phone": "phones",
    "contact": "contacts",
    "language": "languages",
    "cost_option": "cost_options",
    "service_area": "service_areas",
    "organization_identifier": "organization_identifiers",
}

# Objects held once and pointed at (a service's organization, a service_at_location's
# location, an attribute's taxonomy term, a term's taxonomy): nested key -> (table, the
# pointing column in the object that holds it). Shared ones are one row, however many use them.
ONE = {
    "organization": ("organizations", "organization_id"),
    "location": ("locations", "location_id"),
    "taxonomy_term": ("taxonomy_terms", "taxonomy_term_id"),
    "taxonomy_detail": ("taxonomies", "taxonomy_id"),
}
ONE_TARGETS = frozenset(table for table, _ in ONE.values())
# Where a package's rows are joined back that way: table -> the keys it holds objects under.
# (Elsewhere a column such as a location's organization_id is a plain reference.)
ONE_IN = {
    "services": ("organization",),
    "service_at_location": ("location",),
    "attribute": ("taxonomy_term",),
    "taxonomy_terms": ("taxonomy_detail",),
}

# The nested list key of each table that is not its name; any other list is its table's name.
LIST_KEY = {
    "address": "addresses",
    "schedule": "schedules",
    "service_at_location": "service_at_locations",
    "attribute": "attributes",
}
TABLE_OF_LIST_KEY = {key: table for table, key in LIST_KEY.items()}

# Tables that link to any object by link_id and name its kind in link_entity (HSDS 3.0).
LINKED_ANYWHERE = frozenset({"attribute", "metadata"})

# When a row names more than one parent (a schedule with service_id and
# service_at_location_id, a language with service_id and phone_id), it is nested under the
# first of these that exists; a phone of a contact is the contact's.
PARENT_ORDER = ("service", "service_at_location", "location", "organization", "contact", "phone")
PARENT_ORDER_OF = {
    "phones": ("contact", "service_at_location", "location", "service", "organization"),
}


def table_for_file(stem: str) -> str:
    """The table a file holds, from its name without .csv (unknown names are kept)."""
    stem = stem.strip().lower()
    return ALIASES.get(stem, stem)


def list_key(table: str) -> str:
    """The key a table's rows are nested under in their parent object."""
    return LIST_KEY.get(table, table)


def table_of_list_key(key: str) -> str:
    return TABLE_OF_LIST_KEY.get(key, table_for_file(key))


def entity_of(table: str) -> str:
    """The object a table holds: `address` for address, `service` for services; an unknown
    table's own name."""
    known = TABLES_BY_NAME.get(table)
    return known.entity if known else table


def parent_columns(table: str) -> list[tuple[str, str]]:
    """(column, parent table) a row of this table may belong to, in order of preference."""
    order = PARENT_ORDER_OF.get(table, PARENT_ORDER)
    return [(f"{entity}_id", TABLE_OF_ENTITY[entity]) for entity in order]
