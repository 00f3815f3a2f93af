"""Residents report a problem with a listing: checking the report, storing it, the coordinators'
queue, resolving a report into the asset's history, and the "may have closed" rule. No Flask
import.

A resident who finds a group gone is the first to know, and until now had nowhere to say so.
The form asks what is wrong (four kinds, so the queue can be sorted), an optional note and,
only if they want to be asked more, a way to contact them. Contact details are personal data:
coordinators alone see them, and they are blanked when the report is resolved.

The spam limit is the one requests to join have (assetmap.people.throttle): one budget an
hour per sender's address across both forms, and a hidden field that only robots fill in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from assetmap.people.throttle import stamp
from assetmap.record import fields
from assetmap.record.html_text import html_to_text
from assetmap.record.taxonomy import Term
from assetmap.record.validation import clean_value
from assetmap.store import assets as asset_store
from assetmap.store import problem_reports as store

if TYPE_CHECKING:
    import sqlite_utils

CLOSED = "closed"
KINDS: tuple[Term, ...] = (
    Term(CLOSED, "It has closed or stopped running"),
    Term("times", "The days or times are wrong"),
    Term("contact", "The contact details are wrong"),
    Term("other", "Something else"),
)
# How many people (told apart by their address) must have reported, since the listing was
# last checked, that it has closed before its public page and search results say "may have
# closed". Three, not one: one report may be a mistake or mischief, and one person sending it
# three times still counts once; three is when a resident deserves to be warned before a
# wasted journey. The notice goes when a coordinator checks the listing (its last-checked date
# moves past the reports' day) or resolves the reports.
MAY_HAVE_CLOSED_AFTER = 3
MAX_NOTE = 1000
MAX_NAME = 100
MAX_OUTCOME = 2000


@dataclass
class ProblemReport:
    values: dict
    errors: dict

    @property
    def ok(self) -> bool:
        return not self.errors


def kind_label(slug: str) -> str:
    return next((t.label for t in KINDS if t.slug == slug), slug)


def check_report(form) -> ProblemReport:
    """The cleaned report and, for each field with a problem, what to do about it."""
    errors: dict[str, str] = {}
    kind = form.get("kind") or ""
    if kind not in {t.slug for t in KINDS}:
        errors["kind"] = "Choose what is wrong with this listing."
    note = html_to_text(form.get("note", "") or "", multiline=True)
    if len(note) > MAX_NOTE:
        errors["note"] = f"The note can be up to {MAX_NOTE} characters; it has {len(note)}."
    elif kind == "other" and not note:
        errors["note"] = "Tell us in a few words what is wrong, since you chose Something else."
    name = html_to_text(form.get("contact_name", "") or "")
    if len(name) > MAX_NAME:
        errors["contact_name"] = f"Your name can be up to {MAX_NAME} characters."
    phone, phone_error = fields_clean("phone", form.get("contact_phone", ""))
    email, email_error = fields_clean("email", form.get("contact_email", ""))
    if phone_error:
        errors["contact_phone"] = "Phone: " + phone_error
    if email_error:
        errors["contact_email"] = "Email: " + email_error
    if name and not (phone or email or phone_error or email_error):
        errors["contact_phone"] = (
            "Give a phone number or an email address with your name, or leave your name empty."
        )
    consent = form.get("consent") == "yes"
    if (phone or email) and not consent:
        errors["consent"] = (
            "Tick the box to agree that a coordinator may contact you about this report, "
            "or leave your contact details empty."
        )
    values = {
        "kind": kind,
        "note": note or None,
        "contact_name": name or None,
        "contact_phone": phone,
        "contact_email": email,
        "consent": consent and bool(phone or email),
    }
    return ProblemReport(values, errors)


def fields_clean(name: str, value: object):
    """A phone number or email checked by the asset field's own rules (one rule for each)."""
    return clean_value(fields.FIELDS_BY_NAME[name], value)


def submit(
    db: sqlite_utils.Database, asset_id: str, report: ProblemReport, key: str, now: datetime
) -> int:
    return store.add(db, asset_id, report.values, key, stamp(now))


def check_outcome(text: str | None) -> tuple[str, str | None]:
    """The outcome note a coordinator gives when resolving, and the message when it is unusable."""
    outcome = html_to_text(text or "", multiline=True)
    if not outcome:
        return "", (
            "Say what you found or did, for the listing's history "
            "(for example: Rang the organiser; still running on Tuesdays)."
        )
    if len(outcome) > MAX_OUTCOME:
        return outcome, f"The outcome can be up to {MAX_OUTCOME} characters; it has {len(outcome)}."
    return outcome, None


def resolve(db: sqlite_utils.Database, report_id: int, outcome: str, by: str) -> int | None:
    """Resolve an open report; the asset's history gets an entry naming the report, its kind
    and the outcome. Returns that entry's number (None if the asset has been deleted);
    LookupError when there is no such open report."""
    report = store.get(db, report_id)
    if report is None:
        raise LookupError(f"there is no report numbered {report_id}")
    why = f"Problem report {report_id} ({kind_label(report['kind'])}) resolved: {outcome}"
    return store.resolve(db, report_id, outcome, by=by, why=why, when=asset_store.now())


def may_have_closed(db: sqlite_utils.Database, asset_ids) -> set[str]:
    """The listings among `asset_ids` that residents have told us may have closed."""
    return store.assets_with_open_reports(db, asset_ids, CLOSED, MAY_HAVE_CLOSED_AFTER)


def open_reports_for(db: sqlite_utils.Database, asset_ids) -> dict[str, list]:
    """Each asset's open reports (for the review queue); see store.problem_reports."""
    return store.open_reports_for(db, asset_ids)


def purge(db: sqlite_utils.Database, retention_days: int, now: datetime | None = None) -> int:
    """Remove the contact details of reports older than the retention period (the same period
    as requests to join, run by `assetmap join-requests purge`); returns how many."""
    now = now or datetime.now(UTC)
    return store.purge_contacts(db, stamp(now - timedelta(days=retention_days)))


def subject_access(
    db: sqlite_utils.Database, email: str | None = None, phone: str | None = None
) -> list[dict]:
    """Every report a person left their e-mail or phone number with."""
    digits = "".join(c for c in phone or "" if c.isdigit()) or None
    return store.find_by_contact(db, email, digits)
