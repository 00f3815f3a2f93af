"""Requests to join: a resident asks to join an activity. Checking the request, the per-address
limit, storing it, and keeping personal data no longer than needed. No Flask import.

(An asset's `self_referral` field says whether it takes requests to join; a referral, in
assetmap.people.referrals, is something else: a link worker's record of referring a client.
The tables are still named `self_referrals`, `self_referral_events` and `self_referral_attempts`.)

The form is short on purpose (name, one way to contact, best time, an optional message,
consent), because every extra question loses people, and every extra item is personal data
to look after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

# The spam limit is shared with every form anyone may send (assetmap.people.throttle); its
# names are kept here too, where the requests-to-join page has always found them.
from assetmap.people.throttle import (  # noqa: F401
    HONEYPOT,
    address_key,
    discard,
    is_robot,
    over_limit,
)
from assetmap.people.throttle import stamp as _stamp
from assetmap.record import fields
from assetmap.record.html_text import html_to_text
from assetmap.record.taxonomy import Term
from assetmap.record.validation import clean_value
from assetmap.store import join_requests as store

if TYPE_CHECKING:
    import sqlite_utils

STATUSES: tuple[Term, ...] = (
    Term("new", "New"),
    Term("contacted", "Contacted"),
    Term("joined", "Joined"),
    Term("did_not_join", "Did not join"),
)
BEST_TIMES: tuple[Term, ...] = (
    Term("any", "Any time"),
    Term("morning", "Mornings"),
    Term("afternoon", "Afternoons"),
    Term("evening", "Evenings"),
)
MAX_NAME = 100
MAX_MESSAGE = 1000


@dataclass
class JoinRequest:
    values: dict
    errors: dict

    @property
    def ok(self) -> bool:
        return not self.errors


def check_request(form) -> JoinRequest:
    """The cleaned request and, for each field with a problem, what to do about it."""
    errors: dict[str, str] = {}
    name = html_to_text(form.get("name", "") or "")
    if not name:
        errors["name"] = "Enter your name, so the organiser knows who to expect."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Your name can be up to {MAX_NAME} characters."
    phone, phone_error = clean_value(fields.FIELDS_BY_NAME["phone"], form.get("phone", ""))
    email, email_error = clean_value(fields.FIELDS_BY_NAME["email"], form.get("email", ""))
    if phone_error:
        errors["phone"] = "Phone: " + phone_error
    if email_error:
        errors["email"] = "Email: " + email_error
    if not (phone or email) and not (phone_error or email_error):
        errors["phone"] = "Give a phone number or an email address, so the organiser can reply."
    best_time = form.get("best_time") or "any"
    if best_time not in {t.slug for t in BEST_TIMES}:
        best_time = "any"
    message = html_to_text(form.get("message", "") or "", multiline=True)
    if len(message) > MAX_MESSAGE:
        errors["message"] = (
            f"The message can be up to {MAX_MESSAGE} characters; it has {len(message)}."
        )
    consent = form.get("consent") == "yes"
    if not consent:
        errors["consent"] = (
            "Tick the box to agree that we pass your details to the organiser; "
            "without it we cannot ask them to contact you."
        )
    values = {
        "name": name,
        "phone": phone,
        "email": email,
        "best_time": best_time,
        "message": message or None,
        "consent": consent,
    }
    return JoinRequest(values, errors)


def submit(
    db: sqlite_utils.Database, asset_id: str, request: JoinRequest, key: str, now: datetime
) -> int:
    return store.add(db, asset_id, request.values, key, _stamp(now))


def purge(db: sqlite_utils.Database, retention_days: int, now: datetime | None = None) -> int:
    """Remove personal data from requests older than the retention period."""
    now = now or datetime.now(UTC)
    return store.purge_personal_data(db, _stamp(now - timedelta(days=retention_days)), _stamp(now))


def subject_access(
    db: sqlite_utils.Database, email: str | None = None, phone: str | None = None
) -> list[dict]:
    """Everything held about a person who asks, found by their email or phone number."""
    digits = "".join(c for c in phone or "" if c.isdigit()) or None
    found = store.find_by_contact(db, email, digits)
    for request in found:
        request["events"] = store.events(db, request["id"])
    return found


def status_label(slug: str) -> str:
    return next((t.label for t in STATUSES if t.slug == slug), slug)
