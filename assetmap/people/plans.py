"""Plans a link worker hands to a client, and the share links that open them. No Flask import.

A plan belongs to a client known only by the link worker's own reference ("SP-0042"): the
directory keeps no name or NHS number unless ASSETMAP_ALLOW_CLIENT_NAMES is set. The client
opens the plan through a share link whose token is random (about 190 bits), stored only as a
hash, expires, and can be revoked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from assetmap.record import describe, schedules, taxonomy
from assetmap.search import nearby
from assetmap.search.postcodes import (
    POSTCODE,
    PostcodeError,
    locate_postcode,
    normalise_postcode,
)

MAX_REF = 40
MAX_NOTE = 500
SMS_LIMIT = 480
_REF_CHARS = re.compile(r"[A-Za-z0-9 _./#-]+")
# An NHS number is ten digits, usually written 3-3-4; a reference must not be one.
_NHS_NUMBER = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")


class PlanError(ValueError):
    """Something a link worker can fix; `field` names the input it belongs beside."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def check_client_ref(text: str) -> str:
    """A pseudonymous client reference, or PlanError saying what to change."""
    ref = " ".join((text or "").split())
    if not ref:
        raise PlanError("Enter your reference for the client, such as SP-0042.", "client_ref")
    if len(ref) > MAX_REF:
        raise PlanError(f"Keep the reference to {MAX_REF} characters or fewer.", "client_ref")
    if _NHS_NUMBER.search(ref):
        raise PlanError(
            "That looks like an NHS number. Use your own reference for the client instead; "
            "the directory does not keep NHS numbers.",
            "client_ref",
        )
    if not _REF_CHARS.fullmatch(ref):
        raise PlanError(
            "Use letters, numbers, spaces and - _ . / # only, such as SP-0042.", "client_ref"
        )
    return ref


def check_client_name(text: str, allowed: bool) -> str | None:
    name = " ".join((text or "").split())
    if not name:
        return None
    if not allowed:
        raise PlanError("Client names are not kept here; use the reference only.", "client_name")
    return name[:100]


def check_note(text: str) -> str | None:
    note = (text or "").strip()
    if len(note) > MAX_NOTE:
        raise PlanError(f"Keep each note to {MAX_NOTE} characters; it has {len(note)}.", "note")
    return note or None


def new_share_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    """Only this is stored, so the database alone cannot open anyone's plan."""
    return hashlib.sha256(token.encode()).hexdigest()


def share_expiry(days: int, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)) + timedelta(days=days)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def link_is_open(plan: dict, now: datetime | None = None) -> bool:
    """Whether the plan's share link still works (made, not revoked, not expired)."""
    if not plan.get("share_token_hash") or plan.get("share_revoked_at"):
        return False
    expires = datetime.fromisoformat(plan["share_expires_at"].replace("Z", "+00:00"))
    return (now or datetime.now(UTC)) < expires


@dataclass(frozen=True)
class WalkFrom:
    """Where a plan's walking times are measured from: a postcode and its point."""

    postcode: str
    lat: float
    lon: float


def check_walk_from(db, text: str) -> WalkFrom | None:
    """The postcode a link worker typed for walking times, placed; None when left empty.

    Only a postcode the table holds is taken: a walking time from the middle of a sector or
    district would be a guess printed as if it were a fact.
    """
    typed = " ".join((text or "").split())
    if not typed:
        return None
    shown = typed[:12].upper()
    if normalise_postcode(typed) is None:
        raise PlanError(
            f"{shown} is not a whole UK postcode; enter one such as M33 7ZF.", "walk_from"
        )
    try:
        found = locate_postcode(db, typed)
    except PostcodeError:
        found = None
    if found is None or found.match != POSTCODE:
        raise PlanError(
            f"{shown} is not in this directory's postcode table, so walking times cannot be "
            "measured from it. Enter a postcode the table holds, such as one in the client's "
            "street or their surgery's.",
            "walk_from",
        )
    return WalkFrom(found.area, found.lat, found.lon)


def walk_from_of(db, plan: dict) -> WalkFrom | None:
    """The plan's starting point placed again (None when unset, or its postcode has since gone
    from the table: no walking time is better than a wrong one)."""
    try:
        return check_walk_from(db, plan.get("walk_from") or "")
    except PlanError:
        return None


def walk_in_words(start: WalkFrom, lat: float, lon: float) -> str:
    """ "About 12 minutes' walk (900 m) from M33 7ZF", as /search reckons walking time."""
    metres = nearby.haversine_m(start.lat, start.lon, lat, lon)
    minutes = max(1, nearby.walking_minutes(metres))  # at the start point itself: a minute
    unit = "minute's" if minutes == 1 else "minutes'"
    distance = describe.distance_in_words(metres)
    return f"About {minutes} {unit} walk ({distance}) from {start.postcode}"


@dataclass(frozen=True)
class PlanEntry:
    """One activity in a plan, in the words the client reads."""

    number: int
    asset: dict
    note: str | None
    when: list[str]
    next_session: str | None
    cost: str
    capacity: str | None
    where: str
    walk: str | None = None


def entries(items: list[dict], today, start: WalkFrom | None = None) -> list[PlanEntry]:
    """The plan's activities, numbered as on its map, with the walking time from `start`."""
    shown = []
    for number, item in enumerate(items, start=1):
        asset = item["asset"]
        upcoming = schedules.next_session(asset["schedule"], today)
        where = ", ".join(p for p in (asset.get("address"), asset.get("postcode")) if p)
        cost = taxonomy.label(taxonomy.COSTS, asset.get("cost"))
        if asset.get("cost_details"):
            cost = f"{cost}: {asset['cost_details']}" if cost else asset["cost_details"]
        shown.append(
            PlanEntry(
                number=number,
                asset=asset,
                note=item.get("note"),
                when=describe.schedule_in_words(asset["schedule"]),
                next_session=upcoming.words if upcoming else None,
                cost=cost,
                capacity=taxonomy.label(taxonomy.CAPACITY, asset.get("capacity")) or None,
                where=where,
                walk=walk_in_words(start, asset["lat"], asset["lon"]) if start else None,
            )
        )
    return shown


def sms_text(plan_entries: list[PlanEntry], link: str | None) -> str:
    """The plan as a text message of at most 480 characters (three SMS), link last.

    Each activity gets its name, next session or day, and postcode; when that is too long
    the activities are shortened, then dropped from the end with "+N more", so the link to
    the full plan always fits.
    """
    tail = f" Full plan: {link}" if link else ""
    budget = SMS_LIMIT - len(tail)

    def line(entry: PlanEntry, short: bool) -> str:
        when = entry.next_session or (entry.when[0] if entry.when else "")
        if short:
            when = when.split(",")[0]
        parts = [f"{entry.number}. {entry.asset['name']}", when, entry.asset.get("postcode") or ""]
        return ", ".join(p for p in parts if p)

    for short in (False, True):
        text = "Your activities: " + "; ".join(line(e, short) for e in plan_entries) + "."
        if len(text) <= budget:
            return (text + tail).strip()
    kept = list(plan_entries)
    while kept:
        kept.pop()
        more = len(plan_entries) - len(kept)
        text = "Your activities: " + "; ".join(line(e, True) for e in kept) + f"; +{more} more."
        if len(text) <= budget:
            return (text + tail).strip()
    return ("Your activities are in your plan." + tail).strip()[:SMS_LIMIT]
