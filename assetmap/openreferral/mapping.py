"""An asset as an Open Referral UK 3.0 `service`: the one place the mapping is written down.

The standard's shape is ../shared/openreferral-uk/schema/compiled/service.json. Only an asset's
public fields are read (`fields.public_view` is applied first), so a named contact, a direct
line and internal notes can never reach a published service, whatever the caller passes.

HSDS ids are UUIDs, and a directory that re-keys its records on every rebuild breaks every
neighbour that links to them. So each id here is a uuid5 in one namespace (`NAMESPACE`) of a
name made from the asset's id (and, for parts, what the part is): the same asset keeps the
same service, location, address and schedule ids for as long as it keeps its own id.

Where each field goes:

| asset | ORUK 3.0 |
|---|---|
| id | service.id = uuid5("service/<id>") |
| name, description | service.name, service.description |
| website, email | service.url, service.email |
| status active / paused / closed | service.status active / temporarily closed / defunct |
| min_age, max_age | service.minimum_age, service.maximum_age |
| last_verified | service.assured_date |
| organisation | service.organization {id = uuid5("organization/<name>"), name}; organization_id |
| lat, lon, address, postcode | service_at_locations[0].location (physical) with one address |
| accessibility, access_notes | location.accessibility (one entry per need, one for the notes) |
| schedule sessions | service.schedules: freq, interval, byday ("TU", "1SA", "-1FR"), |
|   | opens_at, closes_at, description (the session in words) |
| schedule notes | service.schedules[].notes (a schedule of its own when there are no sessions) |
| cost, cost_details | service.cost_options[0]: option (Free, Low cost, Paid), amount_description |
| languages | service.languages[].name |
| phone | service.phones[].number (HSDS 3.0 phone; the UK profile's schema allows it) |
| strand, approach, kind, | service.attributes[]: one per term, link_type strand, approach, |
|   categories, audiences | kind, category or audience, with its taxonomy_term inside |
|   | (assetmap.openreferral.taxonomy: ids from slugs, approaches children of strands) |
| (last change, updated_at) | service.last_modified |
| (the asset at its place) | service_at_location id = uuid5("service_at_location/<id>") |

What is lost going out (and could not be read back from the service alone):
- capacity, how to join (self_referral, link_worker_referral, referral_details), the service
  area polygon, source, source_id, position_source and verified_by (a name, where the
  standard's assurer_email wants an address); a term's slug survives (taxonomy_term.term)
  but a neighbour reads it only if it knows our taxonomies;
- the address is one free-text line here, so it goes whole into address_1 and city is left
  empty rather than guessed; the cost's amount is not parsed out of cost_details (except that
  Free is an amount of 0); languages have no ISO code;
- sessions keep no start date, so schedules carry no dtstart, valid_from or valid_to, and a
  fortnightly session's weeks are not known (INTERVAL=2 with no dtstart);
- professional-only fields (contact_name, contact_phone, internal_notes) on purpose: never
  published, so contacts is always empty.
Archived assets are not services at all: callers leave them out.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from assetmap.openreferral import taxonomy as oruk_taxonomy
from assetmap.openreferral.ids import NAMESPACE, stable_id
from assetmap.record import schedules, taxonomy
from assetmap.record.describe import session_in_words
from assetmap.record.fields import public_view

__all__ = [
    "NAMESPACE",
    "stable_id",
    "service_id",
    "organization_id",
    "service_at_location_id",
    "to_service",
    "to_service_at_location",
]

# The standard's four service statuses, from ours.
STATUSES = {"active": "active", "paused": "temporarily closed", "closed": "defunct"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

COUNTRY = "GB"


# Cached: finding a service by its id hashes every published asset id (publish.find_asset).
@lru_cache(maxsize=200_000)
def service_id(asset_id: str) -> str:
    return stable_id("service", asset_id)


def organization_id(name: str) -> str:
    """The organiser's id: from its name with case and spacing evened out, so that
    "Trafford Council" and "trafford  council" are one organization."""
    return stable_id("organization", " ".join(name.split()).casefold())


@lru_cache(maxsize=200_000)
def service_at_location_id(asset_id: str) -> str:
    """The id of the asset's one service_at_location (the asset at its place)."""
    return stable_id("service_at_location", asset_id)


def to_service(asset: dict, *, base_url: str | None = None, modified: str | None = None) -> dict:
    """The asset as a full ORUK 3.0 service object (public fields only).

    `base_url` (the site's address, without a trailing slash) gives the taxonomy terms their
    `term_uri`; `modified` (when the asset last changed, ISO 8601 UTC) is its last_modified.
    """
    record = public_view(asset)
    sid = service_id(record["id"])
    # An archived asset is published only to a sync that asks what changed (modified_after),
    # as defunct, so that a neighbour copying us learns it was withdrawn.
    status = "defunct" if record.get("archived") else STATUSES[record["status"]]
    service: dict = {"id": sid, "name": record["name"], "status": status}
    _put(service, "description", record.get("description"))
    _put(service, "url", record.get("website"))
    _put(service, "email", record.get("email"))
    _put(service, "minimum_age", record.get("min_age"))
    _put(service, "maximum_age", record.get("max_age"))
    _put(service, "assured_date", record.get("last_verified"))
    checker = (record.get("verified_by") or "").strip()
    if _EMAIL.fullmatch(checker):  # the standard keeps who checked as an e-mail address only
        service["assurer_email"] = checker
    _put(service, "last_modified", modified)
    organiser = (record.get("organisation") or "").strip()
    if organiser:
        oid = organization_id(organiser)
        service["organization_id"] = oid
        service["organization"] = {"id": oid, "name": organiser, "description": ""}
    service["service_at_locations"] = [_service_at_location(record, sid)]
    service["schedules"] = _schedules(record, sid)
    service["cost_options"] = _cost_options(record, sid)
    service["languages"] = [
        {"id": stable_id("language", record["id"], name), "service_id": sid, "name": name}
        for name in record.get("languages") or []
    ]
    phone = record.get("phone")
    service["phones"] = (
        [{"id": stable_id("phone", record["id"]), "service_id": sid, "number": phone}]
        if phone
        else []
    )
    service["contacts"] = []
    service["attributes"] = oruk_taxonomy.attributes(record, sid, base_url)
    # How to join: HSDS 3.0's own field, which the UK profile leaves out but allows.
    _put(service, "application_process", record.get("referral_details"))
    area = record.get("service_area")
    service["service_areas"] = (
        [
            {
                "id": stable_id("service_area", record["id"]),
                "service_id": sid,
                "extent": json.dumps(area, separators=(",", ":")),
                "extent_type": "geojson",
            }
        ]
        if area
        else []
    )
    return service


def to_service_at_location(
    asset: dict, *, base_url: str | None = None, modified: str | None = None
) -> dict:
    """The asset at its place as the standard's service_at_location: its location, and the
    service (without its service_at_locations, which would only repeat this one)."""
    service = to_service(asset, base_url=base_url, modified=modified)
    here = service.pop("service_at_locations")[0]
    return {
        "id": here["id"],
        "service_id": here["service_id"],
        "location_id": here["location_id"],
        "location": here["location"],
        "service": service,
    }


def _put(target: dict, key: str, value) -> None:
    """Set key only when there is a value: the standard reads a missing field as unknown."""
    if value is not None and value != "":
        target[key] = value


def _service_at_location(record: dict, sid: str) -> dict:
    lid = stable_id("location", record["id"])
    location: dict = {
        "id": lid,
        "location_type": "physical",
        "name": record["name"],
        "latitude": record["lat"],
        "longitude": record["lon"],
    }
    address, postcode = record.get("address") or "", record.get("postcode") or ""
    location["addresses"] = (
        [
            {
                "id": stable_id("address", record["id"]),
                "location_id": lid,
                "address_1": address,
                "city": "",
                "state_province": "",
                "postal_code": postcode,
                "country": COUNTRY,
                "address_type": "physical",
            }
        ]
        if address or postcode
        else []
    )
    location["accessibility"] = [
        {
            "id": stable_id("accessibility", record["id"], need),
            "location_id": lid,
            "accessibility": taxonomy.label(taxonomy.ACCESSIBILITY, need),
        }
        for need in record.get("accessibility") or []
    ]
    if record.get("access_notes"):
        location["accessibility"].append(
            {
                "id": stable_id("accessibility", record["id"], "notes"),
                "location_id": lid,
                "details": record["access_notes"],
            }
        )
    return {
        "id": service_at_location_id(record["id"]),
        "service_id": sid,
        "location_id": lid,
        "location": location,
    }


def _schedules(record: dict, sid: str) -> list[dict]:
    """One schedule per session, as the standard's RRULE fields; the notes on each (or alone)."""
    schedule = record.get("schedule") or {}
    notes = (schedule.get("notes") or "").strip()
    found, seen = [], {}
    for session in schedules.sessions(schedule):
        if session.get("day") not in schedules.WEEKDAYS:
            continue
        rule = dict(p.split("=", 1) for p in schedules.session_rrule(session).split(";"))
        key = f"{rule['FREQ']};{rule.get('INTERVAL', '1')};{rule['BYDAY']};"
        key += f"{session.get('start') or ''};{session.get('end') or ''}"
        seen[key] = seen.get(key, 0) + 1  # the same session twice still gets two ids
        item = {
            "id": stable_id("schedule", record["id"], key, str(seen[key])),
            "service_id": sid,
            "freq": rule["FREQ"],
            "interval": int(rule.get("INTERVAL", "1")),
            "byday": rule["BYDAY"],
            "description": session_in_words(session),
        }
        _put(item, "opens_at", session.get("start"))
        _put(item, "closes_at", session.get("end"))
        _put(item, "notes", notes)
        found.append(item)
    if not found and notes:
        found.append(
            {"id": stable_id("schedule", record["id"], "notes"), "service_id": sid, "notes": notes}
        )
    return found


def _cost_options(record: dict, sid: str) -> list[dict]:
    cost, details = record.get("cost"), (record.get("cost_details") or "").strip()
    if not cost and not details:
        return []
    option: dict = {"id": stable_id("cost_option", record["id"]), "service_id": sid}
    _put(option, "option", taxonomy.label(taxonomy.COSTS, cost) if cost else None)
    if cost == "free":
        option["amount"] = 0
    _put(option, "amount_description", details)
    return [option]
