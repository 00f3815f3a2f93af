"""Which of the ORUK 3.0 API's answers a JSON document is, and the services in it.

A publisher saves what its API answered, and that is seldom only /services: one service
(/services/{id}), a page of services, one organization with its services (HSDS
/organizations/{id}), a page of organizations, one service_at_location (a service at one
location, /service_at_locations/{id}), a page of those, a taxonomy or a taxonomy term. Each is
read here as the services it holds, each made whole as /services/{id} gives it (its
organization and its places inside it), so that reading.record_from_service reads every shape
the same way and nothing a service holds depends on which shape it came in.

- an organization: each of its `services`, taking that organization (the organization's own
  fields, less its list of services, become the service's `organization`);
- service_at_locations: each entry's `service` at its `location`; entries of one service (the
  same service id) make one service with several places, in the file's order, so the first
  location gives the position and the others are kept as extra information;
- a taxonomy or a term holds no services: refused, saying so; so is an organization (or a page
  of them) with no services.

What is deliberately not kept is one list, NOT_KEPT_KEYS: the ids and foreign keys that say how
the publisher stores a record (reading.STRUCTURE), last_modified and metadata, and the page
envelope's counts. Everything else ends up in an asset's fields or its extra information.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from assetmap.imports.problems import ImportFileError
from assetmap.openreferral.reading import STRUCTURE

SERVICE, PLACE, ORGANIZATION = "service", "service_at_location", "organization"
TAXONOMY, TERM = "taxonomy", "taxonomy_term"

# Parts only a service has (a plain list of records may well have an id, a name and a status).
SERVICE_KEYS = frozenset(
    {
        "service_at_locations",
        "organization",
        "organization_id",
        "cost_options",
        "assured_date",
        "assurer_email",
        "schedules",
        "attributes",
        "service_areas",
        "program_id",
    }
)
# Parts only an organization has: its services, or how it is registered.
_ORGANIZATION_KEYS = frozenset({"services", "organization_identifiers",
                                "parent_organization_id", "legal_status", "year_incorporated",
                                "tax_status", "tax_id"})  # fmt: skip
# A term names itself and its taxonomy.
_TERM_WORDS = frozenset({"name", "code", "term"})
_TERM_TAXONOMY = frozenset({"taxonomy", "taxonomy_id", "taxonomy_detail", "term_uri"})
# The standard's page envelope: how the publisher paged its answer, not what it holds.
PAGE_KEYS = frozenset(
    {"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty"}
)
_PAGED_BY = frozenset({"total_items", "total_pages", "page_number"})
# Keys whose values are deliberately not kept: ids, foreign keys, last_modified, metadata, and
# the page envelope. Every other value of a document is kept, in a field or as extra information.
NOT_KEPT_KEYS = STRUCTURE | PAGE_KEYS

# How the API calls each list, for the words about saved pages.
_ENDPOINT = {SERVICE: "/services", PLACE: "/service_at_locations",
             ORGANIZATION: "/organizations"}  # fmt: skip
_WORDS = {SERVICE: ("service", "services"), PLACE: ("service_at_location", "service_at_locations"),
          ORGANIZATION: ("organization", "organizations"), TAXONOMY: ("taxonomy", "taxonomies"),
          TERM: ("taxonomy term", "taxonomy terms")}  # fmt: skip
NOT_A_SERVICE = (
    "is not a service (an object with a name and the parts of a service); export the services again"
)


@dataclass
class Services:
    """The services a document holds, in the file's order; an entry that cannot be one is the
    text saying why (its row is rejected with it). `shape` is for the file's description
    ("1 organization"), `notes` for the preview."""

    items: list = field(default_factory=list)
    shape: str = ""
    notes: list[str] = field(default_factory=list)


def kind_of(item: object, *, in_page: bool = False) -> str | None:
    """Which ORUK object an item is (SERVICE, PLACE, ORGANIZATION, TAXONOMY, TERM), or None.

    Told by parts a plain record of another kind would not have, so that a spreadsheet-like
    JSON file whose records happen to have "services" (a list of words), a "location" object
    or a "term" is still read as records: an organization by its registration or a list of
    named service objects; a service by the parts only a service has; a service_at_location by
    the service inside it (or a location with the standard's ids); a taxonomy by its terms; a
    term by its taxonomy. In a saved page (`in_page`), where everything is the standard's, a
    taxonomy is also told by its version and uri."""
    if not isinstance(item, dict):
        return None
    keys = item.keys()
    services = item.get("services")
    listed = isinstance(services, list) and bool(services) and all(_named(s) for s in services)
    if "name" in keys and (listed or (_ORGANIZATION_KEYS - {"services"}) & keys):
        return ORGANIZATION
    if "name" in keys and SERVICE_KEYS & keys:
        return SERVICE
    if isinstance(item.get("service"), dict) or (
        isinstance(item.get("location"), dict) and {"service_id", "location_id"} & keys
    ):
        return PLACE
    if isinstance(item.get("taxonomy_terms"), list):
        return TAXONOMY
    if _TERM_WORDS & keys and _TERM_TAXONOMY & keys:
        return TERM
    if in_page and "name" in keys and {"version", "uri"} <= keys:
        return TAXONOMY
    return None


def is_page(item: object) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("contents"), list)
        and bool(_PAGED_BY & item.keys())
    )


def is_paged(document: object) -> bool:
    """A saved page, or a list of saved pages."""
    return is_page(document) or (
        isinstance(document, list) and bool(document) and all(is_page(p) for p in document)
    )


def kind_of_document(document: object) -> str | None:
    """Which ORUK objects a parsed JSON document holds (one, a list, a saved page or a list of
    pages), or None when it is not the standard's: then it is read as a plain list of records.
    A list counts as services (or places, organizations) when at least half its items are."""
    if is_paged(document):
        return _kind_in_pages(_pages(document))
    if isinstance(document, dict):
        return kind_of(document)
    if not isinstance(document, list) or not document:
        return None
    counted = Counter(kind_of(item) for item in document)
    counted.pop(None, None)
    if not counted:
        return None
    kind, number = counted.most_common(1)[0]
    return kind if number * 2 >= len(document) else None


def read(document: object) -> Services:
    """The services of a document kind_of_document recognised. ImportFileError when it holds
    none: a taxonomy or term, organizations without services, pages with nothing in them."""
    kind = kind_of_document(document)
    paged = is_paged(document)
    pages = _pages(document) if paged else []
    items = [i for p in pages for i in p["contents"]] if paged else _listed(document)
    if paged and not items:
        raise ImportFileError(
            "is a saved page of Open Referral services with no services in it (its contents "
            "are empty); save a page that lists services, such as /services?page=1"
        )
    if kind in (TAXONOMY, TERM):
        one, many = _WORDS[kind]
        what = (
            f"an Open Referral {one}"
            if len(items) == 1 and not paged
            else (
                f"a saved page of Open Referral {many}"
                if paged
                else f"a list of Open Referral {many}"
            )
        )
        raise ImportFileError(
            f"is {what}, which holds no services, so there is nothing to import. Save the "
            "publisher's /services pages (or each service in full, /services/ and its id) and "
            "import those; the taxonomy terms come with each service, in its attributes"
        )
    if kind is None:
        raise ImportFileError(
            "is a saved page of Open Referral records that are not services (none has a name), "
            "such as a /taxonomies page; save the /services pages, or each service in full, "
            "and import those"
        )
    found = (_from_organizations if kind == ORGANIZATION else
             _from_places if kind == PLACE else _from_services)(items)  # fmt: skip
    found.shape = _shape(kind, document, pages, len(items))
    found.notes[:0] = [_shape_note(kind, pages, items, found)]
    if pages:
        found.notes += _missing_pages(kind, pages)
    return found


# -- each kind -----------------------------------------------------------------------------------


def _from_services(items: list) -> Services:
    return Services([item if _named(item) else NOT_A_SERVICE for item in items])


def _from_organizations(items: list) -> Services:
    found, empty = Services(), []
    for item in items:
        if kind_of(item, in_page=True) != ORGANIZATION:
            found.items.append(
                "is not an organization (an object with a name and its services); export the "
                "organizations again, or the services"
            )
            continue
        services = item.get("services")
        organization = {k: v for k, v in item.items() if k != "services"}
        listed = services if isinstance(services, list) else []
        if not listed:
            empty.append(str(item.get("name")))
        for service in listed:
            if not _named(service):
                found.items.append(NOT_A_SERVICE)
                continue
            own = service.get("organization")
            # The service takes the organization it is listed under, unless it names its own;
            # then the one it is listed under is kept as extra information when it differs.
            if not isinstance(own, dict):
                found.items.append({**service, "organization": organization})
            elif own.get("name") != item.get("name"):
                found.items.append({**service, "listed under organization": organization})
            else:
                found.items.append(service)
    if not found.items:
        many = len(items) != 1
        raise ImportFileError(
            f"holds {len(items):,} Open Referral organization{'s' if many else ''} and "
            f"{'none lists' if many else 'it lists no'} services (an organization's services "
            "are under its “services”), so there is nothing to import. Save the publisher's "
            "/services pages (or each organization in full, with its services) and import those"
        )
    if empty:
        shown = ", ".join(f"“{name}”" for name in empty[:10])
        more = f" and {len(empty) - 10:,} more" if len(empty) > 10 else ""
        found.notes.append(
            f"{len(empty):,} organization{'s' if len(empty) != 1 else ''} listed no services, "
            f"so nothing was imported from {'them' if len(empty) != 1 else 'it'}: {shown}{more}."
        )
    return found


def _from_places(items: list) -> Services:
    """Entries of one service (by its id) make one service with each entry as a place."""
    found = Services()
    by_id: dict[str, dict] = {}
    for item in items:
        service = item.get("service") if isinstance(item, dict) else None
        if kind_of(item) != PLACE or not isinstance(service, dict) or not _named(service):
            found.items.append(
                "is not a service at a location: a service_at_location needs the service in "
                "it, not only its service_id. Save the /service_at_locations pages as the API "
                "gives them, or each service in full (/services/ and its id)"
            )
            continue
        place = {k: v for k, v in item.items() if k != "service"}
        key = str(service.get("id") or "").strip()
        whole = by_id.get(key) if key else None
        if whole is None:
            whole = {k: v for k, v in service.items() if k != "service_at_locations"}
            whole["service_at_locations"] = [place]
            found.items.append(whole)
            if key:
                by_id[key] = whole
            own = service.get("service_at_locations")
            whole["_own_places"] = own if isinstance(own, list) else []
            continue
        whole["service_at_locations"].append(place)
        differs = _differences(whole, service)
        if differs:
            whole.setdefault("_differs", []).append(
                f"the service as listed with place {len(whole['service_at_locations'])} "
                f"differs from the first: {differs}"
            )
    for whole in found.items:
        if not isinstance(whole, dict):
            continue
        # The service's own places, when it gives them too, after those the entries gave.
        seen = {_location_id(p) for p in whole["service_at_locations"]} - {None}
        for own in whole.pop("_own_places"):
            if _location_id(own) is None or _location_id(own) not in seen:
                whole["service_at_locations"].append(own)
        if differs := whole.pop("_differs", None):
            whole["service_at_location differences"] = "; ".join(differs)
    return found


def _differences(first: dict, other: dict) -> str:
    """What a later copy of a service says differently (its ids aside), in words."""
    parts = []
    for key, value in other.items():
        if key in NOT_KEPT_KEYS or key == "service_at_locations":
            continue
        if first.get(key) != value:
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            parts.append(f"{key}: {shown}")
    return ", ".join(parts)


def _location_id(place) -> str | None:
    if not isinstance(place, dict):
        return None
    location = place.get("location")
    found = location.get("id") if isinstance(location, dict) else place.get("location_id")
    return str(found) if found not in (None, "") else None


# -- words ---------------------------------------------------------------------------------------


def _shape(kind: str, document, pages: list, count: int) -> str:
    """The shape as the file's description says it, after "JSON": ", 1 organization"."""
    one, many = _WORDS[kind]
    if pages:
        saved = "page" if len(pages) == 1 else "pages"
        return f", {len(pages):,} saved {_ENDPOINT[kind]} {saved}"
    if kind == SERVICE:
        return ""
    return f", {count:,} {one if count == 1 else many}"


def _shape_note(kind: str, pages: list, items: list, found: Services) -> str:
    """Which shape was read, and what became of it, for the preview's notes."""
    services = [s for s in found.items if isinstance(s, dict)]
    held = f"{len(services):,} service" + ("" if len(services) == 1 else "s")
    one, many = _WORDS[kind]
    if pages:
        saved = f"{len(pages):,} saved {_ENDPOINT[kind]} page" + ("" if len(pages) == 1 else "s")
        start = f"Read as {saved} (the standard's envelope, with the {many} under “contents”)"
    elif len(items) == 1:
        start = f"Read as one Open Referral {one}"
    else:
        start = f"Read as a list of {len(items):,} Open Referral {many}"
    if kind == ORGANIZATION:
        name = items[0].get("name") if len(items) == 1 and isinstance(items[0], dict) else None
        start += f", “{name}”" if name and not pages else ""
        return (
            f"{start}, holding {held}; each service takes the organization it is listed under "
            "(its name as the organiser, its other details kept as extra information)."
        )
    if kind == PLACE:
        words = (
            f"{start}: its service at its location."
            if len(items) == 1 and not pages
            else f"{start}, each a service at one location: {held} in all, numbered in the "
            "order each first appears."
        )
        several = [s for s in services if len(s["service_at_locations"]) > 1]
        if several:
            words += (
                f" {len(several):,} {'service is' if len(several) == 1 else 'services are'} "
                "listed at more than one location: the first location gives the position, "
                "address and postcode, and the others are kept with the service as extra "
                "information (“place 2” and so on)."
            )
        return words
    if len(items) == 1 and not pages:
        return f"{start}, as /services/ and its id gives it."
    if len(services) == len(items) and not pages:
        return f"{start}."
    return f"{start}: {held}."


def _missing_pages(kind: str, pages: list[dict]) -> list[str]:
    numbers = sorted({p.get("page_number") for p in pages if isinstance(p.get("page_number"), int)})
    totals = {p.get("total_pages") for p in pages if isinstance(p.get("total_pages"), int)}
    if not numbers or len(totals) != 1 or (total := totals.pop()) <= len(numbers):
        return []
    missing = sorted(set(range(1, total + 1)) - set(numbers))
    if not missing:
        return []
    shown = ", ".join(map(str, missing[:10])) + (" and more" if len(missing) > 10 else "")
    which = f"page {shown} was" if len(missing) == 1 else f"pages {shown} were"
    return [
        f"The file holds {len(numbers)} of the {total} pages of {_WORDS[kind][1]} the publisher "
        f"listed; {which} not in it, so their services were not imported. Save every page (or "
        "ask with a larger per_page) to import them all."
    ]


def _pages(document) -> list[dict]:
    return [document] if isinstance(document, dict) else list(document)


def _listed(document) -> list:
    return list(document) if isinstance(document, list) else [document]


def _kind_in_pages(pages: list[dict]) -> str | None:
    """The kind of the pages' records: the most common known one; a page of named records of
    no known kind is services (a short /services page may give only ids and names)."""
    items = [i for p in pages for i in p["contents"]]
    counted = Counter(kind_of(item, in_page=True) for item in items)
    counted.pop(None, None)
    if counted:
        return counted.most_common(1)[0][0]
    if any(_named(item) for item in items) or not items:
        return SERVICE
    return None


def _named(item: object) -> bool:
    return isinstance(item, dict) and "name" in item
