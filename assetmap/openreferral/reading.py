"""An Open Referral UK 3.0 `service` read back as an asset record: the reverse of mapping.py.

Another directory's services (or our own, exported) arrive as nested JSON; the import reads each
one as a row (assetmap.imports.openreferral), so this module says only which part of a service
goes to which field of ours. The record it gives is what a row of a spreadsheet would hold:
cleaning, placing and validation then treat it like any other import, so a bad value gets the
same message wherever it came from.

Where each part of a service goes (ORUK 3.0 -> asset):

- id -> source_id, so that importing the same service again finds the same asset;
- name, description, url, email -> name, description, website, email;
- status active / temporarily closed / inactive / defunct -> active / paused / paused / closed;
- minimum_age, maximum_age -> min_age, max_age; application_process -> referral_details;
- assured_date, assurer_email -> last_verified (the date part), verified_by;
- organization.name -> organisation;
- service_at_locations[0].location latitude, longitude -> lat, lon; its physical address (or
  else its first) -> address (the place's name when it is not the service's, then address_1,
  address_2, city, region, state_province) and postcode;
- location.accessibility -> accessibility (texts that name one of our needs) and access_notes
  (any other text, and details); location.transportation -> access_notes;
- schedules (the service's and its first place's) -> schedule: FREQ, INTERVAL and BYDAY with
  opens_at and closes_at become sessions (record.schedules.session_from_rrule); a schedule with
  only a description is read as days and times in words, as a "Times" column is; notes are
  the schedule's notes;
- cost_options (else fees) -> cost (an option named Free, Low cost or Paid; else an amount of
  0 is free and any other amount paid) and cost_details (the rest, in words);
- languages[].name (or code) -> languages; phones[0].number -> phone;
- contacts[0] name and title, and its first phone -> contact_name, contact_phone (for
  professionals only, so never published again);
- service_areas[].extent as GeoJSON -> service_area;
- attributes' taxonomy terms -> strand and approach (our PHE terms by slug or label, from any
  taxonomy), kind (from a taxonomy whose name says kind), categories and audiences (by slug,
  label or alias, from any taxonomy).

What an asset has no field for (a second place, a second phone, funding, an alert, a
schedule's valid_from, a term of another publisher's taxonomy that is none of ours, and so on)
is never dropped silently: each is a line of the notes returned beside the record, which the
import keeps with the row as extra information. Ids, foreign keys (service_id, location_id...),
last_modified and metadata say how the publisher stores the service, not what it is: they are
read, not noted; so is location_type or address_type "physical" (IMPLIED), which every place
of ours is. A second or later place is noted whole: its name, addresses and coordinates in
words, the rest of it (schedules, access, phones) as written.
"""

from __future__ import annotations

import json
import re

from assetmap.openreferral import mapping
from assetmap.record import schedules, taxonomy
from assetmap.record.describe import session_in_words
from assetmap.record.values import spelling_key, term_named

# The standard's four statuses, as ours: mapping's table read backwards, and "inactive" (not
# running now, not gone for good) as paused.
STATUSES = {theirs: ours for ours, theirs in mapping.STATUSES.items()} | {"inactive": "paused"}

# Keys that say how a publisher stores a service, not what it is.
STRUCTURE = frozenset(
    {
        "id",
        "service_id",
        "location_id",
        "organization_id",
        "service_at_location_id",
        "contact_id",
        "program_id",
        "taxonomy_term_id",
        "taxonomy_id",
        "link_id",
        "link_type",
        "link_entity",
        "parent_id",
        "last_modified",
        "metadata",
    }
)
# Values that say what every place of ours is (a physical place, at a physical address), so
# keeping them would say nothing: read, not noted.
IMPLIED = frozenset({("location_type", "physical"), ("address_type", "physical")})
# Countries an address here may be in without saying so.
_HOME = frozenset({"", "gb", "uk", "gbr", "united kingdom", "england", "scotland", "wales",
                   "northern ireland", "great britain"})  # fmt: skip
_RULE_PARTS = ("bymonthday", "byweekno", "byyearday", "until", "count", "wkst")
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?\s*$")


def is_implied(key: str | None, value) -> bool:
    """Whether a value says only what every asset here is: a physical place (IMPLIED), in the
    UK (an address's country given as GB, UK, England...). Read, not kept."""
    if (key, value) in IMPLIED:
        return True
    return key == "country" and isinstance(value, str) and value.strip().casefold() in _HOME


def record_from_service(service: dict) -> tuple[dict, list[str]]:
    """The asset record a service stands for, and what of it could not be kept, in words.

    Values are as a row of a spreadsheet would give them (lists of slugs, a schedule as
    sessions and notes, or days and times in words); validation checks them as it checks any
    row. Kind and strand are in the record only when the service's attributes name ours.
    """
    reader = _Reader()
    reader.service(service)
    return reader.record, reader.notes


class _Reader:
    """Reads one service into `record`, noting in `notes` what no field can keep."""

    def __init__(self):
        self.record: dict = {}
        self.notes: list[str] = []

    # -- helpers ------------------------------------------------------------------------------

    def put(self, name: str, value) -> None:
        value = _text(value) if isinstance(value, str) else value
        if value is not None and value != "" and name not in self.record:
            self.record[name] = value

    def note(self, where: str, value) -> None:
        shown = _shown(value)
        if shown:
            self.notes.append(f"{where}: {shown}")

    def objects(self, item: dict, key: str, where: str) -> list[dict]:
        """The objects listed under `key`; anything else found there is noted, not dropped."""
        value = item.get(key)
        if isinstance(value, list):
            for other in (v for v in value if not isinstance(v, dict)):
                self.note(f"{where} {key} (not an object)", other)
            return [v for v in value if isinstance(v, dict)]
        self.note(f"{where} {key} (not a list)", value)
        return []

    def rest(self, item: dict, used: set[str], where: str) -> None:
        """Note every key of `item` not read and not structure."""
        for key, value in item.items():
            if key not in used and key not in STRUCTURE:
                self.note(f"{where} {key}", value)

    # -- the service --------------------------------------------------------------------------

    def service(self, service: dict) -> None:
        used = {"name", "description", "url", "email", "status", "minimum_age", "maximum_age",
                "assured_date", "assurer_email", "organization", "service_at_locations",
                "schedules", "cost_options", "fees", "languages", "phones", "contacts",
                "attributes", "application_process", "service_areas"}  # fmt: skip
        if service.get("id") not in (None, ""):
            self.record["source_id"] = str(service["id"]).strip()
        self.put("name", service.get("name"))
        self.put("description", service.get("description"))
        self.put("website", service.get("url"))
        self.put("email", service.get("email"))
        self.status(service.get("status"))
        self.put("min_age", service.get("minimum_age"))
        self.put("max_age", service.get("maximum_age"))
        assured = service.get("assured_date")
        self.put("last_verified", assured[:10] if isinstance(assured, str) else assured)
        self.put("verified_by", service.get("assurer_email"))
        self.put("referral_details", service.get("application_process"))
        self.organization(service.get("organization"))
        places = self.objects(service, "service_at_locations", "service")
        found = self.objects(service, "schedules", "service")
        if places:
            found += self.place(places[0])
            for number, other in enumerate(places[1:], start=2):
                self.note(f"place {number} (only the first is kept)", _place_words(other))
                self.note(f"place {number} details", _place_details(other))
        self.schedules(found)
        self.costs(self.objects(service, "cost_options", "service"), service.get("fees"))
        self.languages(self.objects(service, "languages", "service"))
        self.phones(self.objects(service, "phones", "service"), "phone", "phone")
        self.contacts(self.objects(service, "contacts", "service"))
        self.areas(self.objects(service, "service_areas", "service"))
        self.attributes(self.objects(service, "attributes", "service"))
        self.rest(service, used, "service")

    def status(self, value) -> None:
        if value in (None, ""):
            return
        text = str(value).strip().casefold()
        if text in STATUSES:
            self.record["status"] = STATUSES[text]
        else:
            self.record["status"] = str(value)  # validation names it and the statuses we keep

    def organization(self, organization) -> None:
        if not isinstance(organization, dict):
            self.put("organisation", organization if isinstance(organization, str) else None)
            if not isinstance(organization, str):
                self.note("service organization (not an object)", organization)
            return
        self.put("organisation", organization.get("name"))
        self.rest(organization, {"name"}, "organization")

    # -- where ----------------------------------------------------------------------------------

    def place(self, place: dict) -> list[dict]:
        """The first place: its location, address and access; its schedules are returned."""
        self.rest(place, {"location", "schedules"}, "place")
        location = place.get("location")
        if not isinstance(location, dict):
            self.note("place location (not an object)", location)
            return self.objects(place, "schedules", "place")
        used = {"latitude", "longitude", "name", "addresses", "accessibility", "transportation",
                "location_type", "schedules"}  # fmt: skip
        self.put("lat", location.get("latitude"))
        self.put("lon", location.get("longitude"))
        addresses = self.objects(location, "addresses", "location")
        if not addresses:
            self.address({}, location.get("name"))  # the place's name, when that is all
        if addresses:
            physical = [a for a in addresses if str(a.get("address_type", "")).lower() in
                        ("physical", "")]  # fmt: skip
            chosen = (physical or addresses)[0]
            self.address(chosen, location.get("name"))
            if not physical:
                self.note("address address_type (the only address given, so used)",
                          chosen.get("address_type"))  # fmt: skip
            for other in addresses:
                if other is not chosen:
                    self.note("another address", _address_words(other))
                    self.rest(other, set(_ADDRESS_WORDS), "another address")
        access_notes = []
        for item in self.objects(location, "accessibility", "location"):
            access_notes += self.access(item)
        if _text(location.get("transportation")):
            access_notes.append(_text(location["transportation"]))
        self.put("access_notes", "\n".join(access_notes))
        if (_text(location.get("location_type")) or "physical").lower() != "physical":
            self.note("location location_type", location["location_type"])
        for schedule in self.objects(location, "schedules", "location"):
            self.note("the place's own opening times", _schedule_words(schedule))
        self.rest(location, used, "location")
        return self.objects(place, "schedules", "place")

    def address(self, address: dict, place_name) -> None:
        parts: list[str] = []
        name = _text(place_name)
        if name and name.casefold() != (_text(self.record.get("name")) or "").casefold():
            parts.append(name)
        for key in ("address_1", "address_2", "address_3", "address_4", "city", "region",
                    "state_province"):  # fmt: skip
            text = _text(address.get(key))
            if text and text.casefold() not in (p.casefold() for p in parts):
                parts.append(text)
        self.put("address", ", ".join(parts))
        self.put("postcode", address.get("postal_code"))
        country = _text(address.get("country")) or ""
        if country.casefold() not in _HOME:
            self.note("address country", country)
        used = {"address_1", "address_2", "address_3", "address_4", "city", "region",
                "state_province", "postal_code", "country", "address_type"}  # fmt: skip
        self.rest(address, used, "address")

    def access(self, item: dict) -> list[str]:
        """An accessibility entry: a need of ours by its words, the rest as access notes."""
        texts = []
        need = _text(item.get("accessibility"))
        slug = term_named(taxonomy.ACCESSIBILITY, need, plurals=True) if need else None
        if slug:
            self.record.setdefault("accessibility", [])
            if slug not in self.record["accessibility"]:
                self.record["accessibility"].append(slug)
        elif need:
            texts.append(need)
        description = _text(item.get("description"))
        if description and description != need:
            texts.append(description)
        if _text(item.get("details")):
            texts.append(_text(item["details"]))
        self.rest(item, {"accessibility", "description", "details"}, "accessibility")
        return texts

    # -- when -----------------------------------------------------------------------------------

    def schedules(self, found: list[dict]) -> None:
        sessions: list[dict] = []
        words: list[str] = []  # times in words, for cleaning to read
        notes: list[str] = []
        for number, schedule in enumerate(found, start=1):
            read = self.schedule(schedule, number)
            sessions += read[0]
            for text, into in ((read[1], words), (read[2], notes)):
                if text and text not in into:
                    into.append(text)
        if sessions:
            self.record["schedule"] = {"sessions": sessions, "notes": "\n".join(words + notes)}
        elif words:
            self.record["schedule"] = "\n".join(words + notes)  # read as days and times
        elif notes:
            self.record["schedule"] = {"sessions": [], "notes": "\n".join(notes)}

    def schedule(self, schedule: dict, number: int) -> tuple[list[dict], str | None, str | None]:
        """(sessions, words to read as times, notes) of one schedule."""
        used = {"freq", "interval", "byday", "opens_at", "closes_at", "description", "notes",
                *_RULE_PARTS}  # fmt: skip
        description, notes = _text(schedule.get("description")), _text(schedule.get("notes"))
        byday = _text(schedule.get("byday"))
        freq = _text(schedule.get("freq")) or ("WEEKLY" if byday else None)
        self.rest(schedule, used, f"schedule {number}")
        if not freq:
            if description is None and (schedule.get("opens_at") or schedule.get("closes_at")):
                self.note(f"schedule {number} (no days given)", _schedule_words(schedule))
            return [], description, notes
        rule = f"FREQ={freq};INTERVAL={schedule.get('interval') or 1}"
        rule += f";BYDAY={byday}" if byday else ""
        for part in _RULE_PARTS:
            if schedule.get(part) not in (None, ""):
                rule += f";{part.upper()}={schedule[part]}"
        try:
            sessions = schedules.session_from_rrule(
                rule, _clock(schedule.get("opens_at")), _clock(schedule.get("closes_at"))
            )
        except ValueError as why:
            self.note(
                f"schedule {number} ({why}, so it was not read as sessions)",
                _schedule_words(schedule),
            )
            return [], description, notes
        if description and description in {session_in_words(s) for s in sessions}:
            description = None  # the session in words, as our own export writes it
        return sessions, description, notes

    # -- cost, languages, contact ---------------------------------------------------------------

    def costs(self, options: list[dict], fees) -> None:
        costs, details = [], []
        for option in options:
            named = _text(option.get("option"))
            slug = term_named(taxonomy.COSTS, named) if named else None
            amount = _amount(option.get("amount"))
            words = [] if slug else [named]
            if slug is None and amount is not None:
                slug = "free" if amount == 0 else "paid"
            costs.append(slug)
            description = _text(option.get("amount_description"))
            if amount and f"{amount:g}" not in (description or ""):
                words.append(_money(amount, option.get("currency")))
            elif amount is None and _text(option.get("amount")):
                words.append(_text(option["amount"]))  # not a number: kept as written
            words.append(description)
            text = " ".join(w for w in words if w)
            if text:
                details.append(text)
            self.rest(option, {"option", "amount", "amount_description", "currency"}, "cost")
        known = [c for c in costs if c]
        if known:
            # Free only when every option is; otherwise what the first priced option says.
            self.record["cost"] = (
                "free" if set(known) == {"free"} else next(c for c in known if c != "free")
            )
        if not options and _text(fees):
            details.append(_text(fees))
        elif _text(fees):
            self.note("service fees", fees)
        self.put("cost_details", "; ".join(details))

    def languages(self, languages: list[dict]) -> None:
        names = []
        for language in languages:
            name = _text(language.get("name")) or _text(language.get("code"))
            if name and name not in names:
                names.append(name)
            self.rest(language, {"name", "code"}, "language")
        if names:
            self.record["languages"] = names

    def phones(self, phones: list[dict], field: str, where: str) -> None:
        for number, phone in enumerate(phones, start=1):
            if number == 1 and _text(phone.get("number")):
                self.put(field, phone["number"])
                self.rest(phone, {"number"}, where)
            else:
                self.note(f"{where} {number}", _object_words(phone))

    def contacts(self, contacts: list[dict]) -> None:
        for number, contact in enumerate(contacts, start=1):
            if number > 1:
                self.note(f"contact {number}", _object_words(contact))
                continue
            name = ", ".join(t for t in (_text(contact.get("name")), _text(contact.get("title")))
                             if t)  # fmt: skip
            self.put("contact_name", name)
            self.phones(
                self.objects(contact, "phones", "contact"), "contact_phone", "contact phone"
            )
            self.rest(contact, {"name", "title", "phones"}, "contact")

    def areas(self, areas: list[dict]) -> None:
        for area in areas:
            extent = area.get("extent")
            shape = None
            if str(area.get("extent_type", "")).lower() == "geojson" and extent:
                try:
                    shape = json.loads(extent) if isinstance(extent, str) else extent
                except ValueError:
                    shape = None
            is_area = isinstance(shape, dict) and shape.get("type") in ("Polygon", "MultiPolygon")
            if is_area and "service_area" not in self.record:
                self.record["service_area"] = shape
                self.rest(area, {"extent", "extent_type"}, "service area")
                continue
            self.note("service area", _object_words(area))

    # -- taxonomy terms -------------------------------------------------------------------------

    def attributes(self, attributes: list[dict]) -> None:
        for attribute in attributes:
            term = attribute.get("taxonomy_term")
            if not isinstance(term, dict):
                self.note("taxonomy term (no name given)", attribute.get("taxonomy_term_id"))
                continue
            taxonomy_name = _taxonomy_name(term) or "no taxonomy named"
            if _published_term(term.get("id")) is not None:
                self.term(term)  # one of ours, known by its id: nothing more to keep
            elif self.term(term):
                # Another publisher's term that names one of ours: which it was is kept.
                self.note(f"taxonomy term ({taxonomy_name}, read as one of ours)",
                          _term_words(term))  # fmt: skip
            else:
                self.note(f"taxonomy term ({taxonomy_name})", _term_words(term))
            if _published_term(term.get("id")) is None:
                self.note("taxonomy term details", _term_details(term))
            self.rest(attribute, {"taxonomy_term"}, "attribute")

    def term(self, term: dict) -> bool:
        """Put a term where it names one of ours; False when it names none."""
        ours = _published_term(term.get("id"))
        if ours is not None:
            field, slug = ours
            if field in ("self_referral", "link_worker_referral"):
                from assetmap.openreferral.taxonomy import YES_SLUGS

                self.record[field] = slug in YES_SLUGS
                return True
            if field in ("categories", "audiences"):
                if slug not in self.record.setdefault(field, []):
                    self.record[field].append(slug)
                return True
            if field == "approach":
                self.one("strand", taxonomy.APPROACH_STRAND[slug], slug)
            return self.one(field, slug, slug)
        named = (_taxonomy_name(term) or "").casefold()
        texts = [t for t in (_text(term.get(k)) for k in ("code", "name", "term")) if t]
        for text in texts:
            strand = _named(taxonomy.STRANDS, text)
            if strand:
                return self.one("strand", strand, text)
            approach = _named([a for s in taxonomy.STRANDS for a in s.approaches], text)
            if approach:
                self.one("strand", taxonomy.APPROACH_STRAND[approach], text)
                return self.one("approach", approach, text)
            if "kind" in named and (kind := term_named(taxonomy.KINDS, text)):
                return self.one("kind", kind, text)
        found = False
        for field, vocabulary, word in (("categories", taxonomy.CATEGORIES, "categor"),
                                        ("audiences", taxonomy.AUDIENCES, "audience")):  # fmt: skip
            if (
                named
                and any(w in named for w in ("categor", "audience", "kind", "strand"))
                and (word not in named)
            ):
                continue  # a term of another of our taxonomies
            for text in texts:
                if slug := term_named(vocabulary, text, plurals=True):
                    self.record.setdefault(field, [])
                    if slug not in self.record[field]:
                        self.record[field].append(slug)
                    found = True
                    break
        return found

    def one(self, field: str, slug: str, text: str) -> bool:
        """A field that holds one term: the first term given wins, a second is noted."""
        held = self.record.setdefault(field, slug)
        if held != slug:
            self.note(f"{field} (another term; the first, {held}, was kept)", text)
        return True


# -- words ---------------------------------------------------------------------------------------


def _text(value) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _objects(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _shown(value) -> str:
    """A value as a note shows it: text as it is, anything else as compact JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _object_words(item: dict) -> str:
    """An object as "key: value, key: value", without its ids."""
    return ", ".join(
        f"{key}: {_shown(value)}"
        for key, value in item.items()
        if key not in STRUCTURE and _shown(value)
    )


_ADDRESS_WORDS = ("address_1", "address_2", "address_3", "address_4", "city", "region",
                  "state_province", "postal_code", "country")  # fmt: skip


def _address_words(address: dict) -> str:
    return ", ".join(t for t in (_text(address.get(k)) for k in _ADDRESS_WORDS) if t)


def _place_words(place: dict) -> str:
    location = place.get("location") if isinstance(place.get("location"), dict) else {}
    parts = [_text(location.get("name"))]
    parts += [_address_words(a) for a in _objects(location.get("addresses"))]
    if location.get("latitude") is not None and location.get("longitude") is not None:
        parts.append(f"{location['latitude']}, {location['longitude']}")
    return "; ".join(p for p in parts if p) or _object_words(place)


def _place_details(place: dict) -> dict:
    """What a place other than the first holds beyond _place_words (its name, addresses and
    coordinates): its schedules, access, phones, description and so on, ids left out."""
    location = place.get("location") if isinstance(place.get("location"), dict) else {}
    told = {"name", "latitude", "longitude"}
    rest = {k: v for k, v in location.items() if k not in told and k != "addresses"}
    addresses = [
        {k: v for k, v in a.items() if k not in _ADDRESS_WORDS} for a in
        _objects(location.get("addresses"))
    ]  # fmt: skip
    if any(addresses):
        rest["addresses"] = addresses
    details = {k: v for k, v in place.items() if k != "location"} | (
        {"location": rest} if rest else {}
    )
    return _without_structure(details)


def _without_structure(value):
    """A value with the keys that only say how a publisher stores it (STRUCTURE) left out."""
    if isinstance(value, dict):
        kept = {k: _without_structure(v) for k, v in value.items() if k not in STRUCTURE}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [v for v in (_without_structure(v) for v in value) if v not in (None, "", [], {})]
    return value


def _schedule_words(schedule: dict) -> str:
    """A schedule's rule and times (its other parts are noted, or kept, on their own)."""
    keys = ("freq", "interval", "byday", *_RULE_PARTS, "opens_at", "closes_at")
    return ", ".join(f"{k}: {_shown(schedule[k])}" for k in keys if _shown(schedule.get(k)))


def _term_words(term: dict) -> str:
    texts = dict.fromkeys(t for t in (_text(term.get(k)) for k in ("code", "name", "term")) if t)
    return " / ".join(texts) or _object_words(term)


def _term_details(term: dict) -> dict:
    """A term's parts beyond its words and its taxonomy's name (description, term_uri...)."""
    details = {k: v for k, v in term.items() if k not in ("code", "name", "term", "taxonomy")}
    detail = details.get("taxonomy_detail")
    if isinstance(detail, dict):
        details["taxonomy_detail"] = {k: v for k, v in detail.items() if k != "name"}
    return _without_structure(details)


def _published_term(term_id) -> tuple[str, str] | None:
    """(field, slug) of one of the terms this directory publishes, by its id: a term of our
    own taxonomies, from our export or a neighbour that kept our ids, is known for certain."""
    try:
        from assetmap.openreferral.taxonomy import TERMS_BY_ID
    except ImportError:  # the published taxonomies came with the ORUK API (issue 16, item 2)
        return None
    found = TERMS_BY_ID.get(str(term_id)) if term_id else None
    return (found.field, found.slug) if found is not None else None


def _named(terms, text: str) -> str | None:
    """The slug of the strand or approach that text names by its slug or label."""
    key = spelling_key(text)
    return next((t.slug for t in terms if key in (spelling_key(t.slug), spelling_key(t.label))),
                None)  # fmt: skip


def _taxonomy_name(term: dict) -> str | None:
    detail = term.get("taxonomy_detail")
    if isinstance(detail, dict) and _text(detail.get("name")):
        return _text(detail["name"])
    return _text(term.get("taxonomy"))


def _clock(value) -> str | None:
    """The standard's "10:00:00" (or "10:00", "10:00:00Z") as our "10:00"; other text as it is,
    for validation to name."""
    text = _text(value)
    if text is None:
        return None
    match = _CLOCK.match(text)
    return f"{int(match.group(1)):02d}:{match.group(2)}" if match else text


def _amount(value) -> float | None:
    """A cost option's amount as a number (a CSV package gives it as text), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip().lstrip("£")) if _text(value) else None
    except ValueError:
        return None


def _money(amount: float, currency) -> str:
    shown = f"{amount:,.2f}".removesuffix(".00")
    code = (_text(currency) or "GBP").upper()
    return f"£{shown}" if code == "GBP" else f"{shown} {code}"
