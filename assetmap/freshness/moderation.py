"""What an organiser answers, and what a coordinator decides about it. No Flask import.

"Yes, still right" records a check by the organiser at once. "Something has changed" becomes a
proposal: the organiser edits the public fields of the asset form (checked by the same
`validate_asset` as every write), and the change waits in the coordinators' moderation queue
with a field-by-field diff. Approving applies it through `write_changes`, in one transaction
with the decision, so the history names the organiser and the coordinator; rejecting keeps the
listing as it was and gives the reason to e-mail back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from assetmap.freshness import checks, organisers
from assetmap.record import fields, history
from assetmap.record import form as asset_form
from assetmap.record.fields import BY_HAND
from assetmap.record.validation import Validated, validate_asset
from assetmap.store import assets as asset_store
from assetmap.store import checks as check_store
from assetmap.store import proposals as store

if TYPE_CHECKING:
    import sqlite_utils

# The check itself is not the organiser's to type: the answer records it.
_NOT_FOR_ORGANISERS = frozenset({"last_verified", "verified_by"})
ORGANISER_FORM_FIELDS: tuple[asset_form.FormField, ...] = tuple(
    ff
    for ff in asset_form.FORM_FIELDS
    if not ff.field.professional and ff.name not in _NOT_FOR_ORGANISERS
)
ORGANISER_FIELD_NAMES = frozenset(ff.name for ff in ORGANISER_FORM_FIELDS)


class NotPending(Exception):
    """The proposal was decided already (by another coordinator, or in another tab)."""


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# Who the public reads as having checked a listing its organiser answered for: their e-mail
# never goes in a public field; the history and the checks, which coordinators read, name it.
THE_ORGANISER = "the organiser"


def _checked(record: dict, now: datetime) -> dict:
    """The record as checked today by its organiser."""
    today = now.astimezone(UTC).date().isoformat()
    return {**record, "last_verified": today, "verified_by": THE_ORGANISER}


def confirm(db: sqlite_utils.Database, token: str, secret_key, *, now: datetime) -> dict:
    """ "Yes, still right": the link is used up, and the listing recorded as checked by its
    organiser (checks.record_check, how "organiser confirmed"). Returns the asset;
    organisers.LinkRefused when the link opens nothing."""
    with asset_store.transaction(db):
        link, asset = organisers.open_link(db, token, secret_key, now=now)
        store.use_link(db, link["id"], organisers.CONFIRMED, _stamp(now))
    checks.record_check(
        db,
        asset["id"],
        by=THE_ORGANISER,
        how=checks.ORGANISER_CONFIRMED,
        note=f"answered the link e-mailed to {link['email']}",
        when=_stamp(now),
    )
    return asset_store.get_asset(db, asset["id"])


def proposed_record(asset: dict, form, *, bounds) -> Validated:
    """The listing as the organiser's form says it should be, validated as every write is.

    Only the organiser's fields are read from the form; everything else (professional details,
    the id, the source, the last check) stays as the listing has it.
    """
    raw_form = asset_form.form_to_raw(form)
    raw = {**asset, **{name: raw_form[name] for name in ORGANISER_FIELD_NAMES}}
    result = validate_asset(raw, bounds=bounds)
    for name in fields.FIELD_NAMES:
        if name not in ORGANISER_FIELD_NAMES:
            result.record[name] = asset[name]
        elif fields.FIELDS_BY_NAME[name].type == fields.CHOICES and sorted(
            result.record[name] or []
        ) == sorted(asset[name] or []):
            result.record[name] = asset[name]  # the form lists choices in its own order
    return result


def propose(
    db: sqlite_utils.Database, token: str, secret_key, record: dict, *, now: datetime
) -> int | None:
    """Keep the organiser's change for a coordinator, using up the link; the proposal's id,
    or None when the record is the listing as it is (nothing to propose, link kept)."""
    with asset_store.transaction(db):
        link, asset = organisers.open_link(db, token, secret_key, now=now)
        if record == asset:
            return None
        store.use_link(db, link["id"], organisers.PROPOSED, _stamp(now))
        return store.add_proposal(
            db,
            asset["id"],
            link_id=link["id"],
            organiser_email=link["email"],
            base=asset,
            proposed=record,
            when=_stamp(now),
        )


def changed_fields(proposal: dict) -> list[str]:
    """The names of the fields the organiser changed."""
    base, proposed = proposal["base"], proposal["proposed"]
    return [name for name in fields.FIELD_NAMES if base.get(name) != proposed.get(name)]


def diff(proposal: dict) -> list[history.FieldChange]:
    """The organiser's change field by field, as the history page shows changes."""
    return history.changes(proposal["base"], proposal["proposed"])


def changed_since(proposal: dict, current: dict | None) -> list[str]:
    """Labels of fields the organiser changed that someone else has changed since they saw
    the listing: approving would replace those values, so the coordinator is told."""
    if current is None:
        return []
    return [
        fields.FIELDS_BY_NAME[name].label
        for name in changed_fields(proposal)
        if current.get(name) != proposal["base"].get(name)
    ]


def merged(proposal: dict, current: dict) -> dict:
    """The listing as it is now with the organiser's changed fields applied (so a change made
    by someone else since, to another field, is kept)."""
    record = dict(current)
    for name in changed_fields(proposal):
        record[name] = proposal["proposed"].get(name)
    return record


def approve(
    db: sqlite_utils.Database,
    proposal_id: int,
    *,
    coordinator: str,
    now: datetime,
    edited: dict | None = None,
) -> int:
    """Apply the organiser's change (or the coordinator's edit of it) and record the decision,
    in one transaction; the history entry's number. The history names both people, and the
    listing counts as checked by its organiser. NotPending when it was decided already;
    LookupError when the listing is gone."""
    with asset_store.transaction(db):
        proposal = store.get_proposal(db, proposal_id)
        if proposal is None or proposal["status"] != store.PENDING:
            raise NotPending
        current = asset_store.get_asset(db, proposal["asset_id"])
        if current is None:
            raise LookupError(f"the listing {proposal['asset_id']!r} no longer exists")
        record = edited if edited is not None else merged(proposal, current)
        for name in asset_form.NOT_ON_FORM:
            record[name] = current[name]
        record = asset_store.with_position(_checked(record, now), current, BY_HAND)
        how = "edited and approved" if edited is not None else "approved"
        (version,) = asset_store.write_changes(
            db,
            [asset_store.Change(current["id"], asset_store.UPDATE, current, record)],
            who=coordinator,
            why=f"change proposed by the organiser ({proposal['organiser_email']}), "
            f"{how} by {coordinator}",
            when=_stamp(now),
        )
        store.decide(
            db, proposal_id, store.APPROVED, by=coordinator, when=_stamp(now), version_id=version
        )
        check_store.insert_check(
            db,
            asset_id=current["id"],
            checked_at=proposal["submitted_at"],
            checked_by=THE_ORGANISER,
            how=checks.ORGANISER_CONFIRMED,
            note=f"proposed a change ({proposal['organiser_email']}), {how} by {coordinator}",
            version_id=version,
        )
    return version


def reject(
    db: sqlite_utils.Database, proposal_id: int, *, coordinator: str, reason: str, now: datetime
) -> dict:
    """Turn the change down with a reason (the listing stays as it is); the proposal, for the
    e-mail back. NotPending when it was decided already."""
    with asset_store.transaction(db):
        if not store.decide(
            db, proposal_id, store.REJECTED, by=coordinator, when=_stamp(now), reason=reason
        ):
            raise NotPending
        return store.get_proposal(db, proposal_id)


def rejection_email(proposal: dict, asset_url: str) -> tuple[str, str]:
    """What the organiser reads when their change is turned down."""
    # The listing as it is (and was when the organiser saw it), not the name they proposed.
    name = proposal["base"].get("name") or proposal["proposed"].get("name")
    body = "\n".join(
        [
            "Hello,",
            "",
            f"Thank you for telling us about changes to the listing for {name}.",
            "A coordinator looked at them and has not made them, for this reason:",
            "",
            proposal["reason"],
            "",
            f"The listing stays as it was: {asset_url}",
            "If you think this is a mistake, or something else has changed, please reply to "
            "this e-mail.",
        ]
    )
    return f"Your changes to the listing for {name}", body
