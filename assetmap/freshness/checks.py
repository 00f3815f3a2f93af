"""Recording a check: someone confirmed an asset's details are still right.

`record_check` is the one way a check is written, for the review queue's buttons, the
organisers' "Yes, still right" and anything else: it keeps who checked, when and how in
`asset_checks` and sets the asset's `last_verified` ("Last checked") and `verified_by` through
`store.assets.write_changes`, with a history entry, all in one transaction, so the history
always says why the date moved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from assetmap.record import describe
from assetmap.record.taxonomy import Term
from assetmap.store import assets as store
from assetmap.store import checks as store_checks

if TYPE_CHECKING:
    import sqlite_utils

# How a check was made, in one place: the forms, the validation and the history's words.
PHONE, EMAIL, VISIT, ORGANISER_CONFIRMED = "phone", "email", "visit", "organiser_confirmed"
HOW: tuple[Term, ...] = (
    Term(PHONE, "by phone"),
    Term(EMAIL, "by e-mail"),
    Term(VISIT, "by a visit"),
    Term(ORGANISER_CONFIRMED, "organiser confirmed"),
)
HOW_SLUGS = tuple(term.slug for term in HOW)

MAX_NOTE = 1000  # a line or two for the history, not a report
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CheckRefused(ValueError):
    """A check that cannot be recorded, with a message saying what to change."""


def how_label(how: str) -> str:
    for term in HOW:
        if term.slug == how:
            return term.label
    return how


def _check_how(how: str) -> None:
    if how not in HOW_SLUGS:
        raise CheckRefused(f"{how!r} is not a way of checking; use one of: {', '.join(HOW_SLUGS)}")


def _when(when: str | None) -> tuple[str, str]:
    """(checked_at as stored, the date for last_verified) from a date, a timestamp or now."""
    if when is None:
        stamp = store.now()
        return stamp, stamp[:10]
    text = when.strip()
    try:
        if _DATE.fullmatch(text):
            day = date.fromisoformat(text)
        else:
            day = datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise CheckRefused(
            f"{when!r} is not a date; give it as YYYY-MM-DD (or an ISO 8601 time)"
        ) from None
    if day > describe.today():
        raise CheckRefused(f"{when!r} is in the future; give the date the check was made")
    return text, day.isoformat()


def _checked(asset: dict, day: str, by: str) -> dict:
    """The asset as the check leaves it. A check dated before the last one recorded (typed in
    late) is kept in the checks and the history, but "Last checked" never moves back."""
    if (asset.get("last_verified") or "") > day:
        return asset
    return {**asset, "last_verified": day, "verified_by": by}


def reason(how: str, note: str | None = None) -> str:
    """The history entry's words for a check: "checked, no change, by phone: rang Sam"."""
    words = f"checked, no change, {how_label(how)}"
    return f"{words}: {note}" if note else words


def record_check(
    db: sqlite_utils.Database,
    asset_id: str,
    *,
    by: str,
    how: str,
    note: str | None = None,
    when: str | None = None,
) -> int:
    """Record that `by` checked the asset `how` (a slug of HOW) and found it still right.

    Returns the history entry's number. Raises CheckRefused (a ValueError) for an unknown
    `how`, an empty `by` or a `when` that is not a date, and LookupError for an unknown asset;
    either way nothing is written.
    """
    return record_checks(db, [asset_id], by=by, how=how, note=note, when=when)[0]


def record_checks(
    db: sqlite_utils.Database,
    asset_ids: Iterable[str],
    *,
    by: str,
    how: str,
    note: str | None = None,
    when: str | None = None,
) -> list[int]:
    """Record the same check of several assets in one transaction (the queue's bulk "checked").

    All are recorded or none: one unknown id refuses the lot (LookupError naming it).
    """
    _check_how(how)
    by = (by or "").strip()
    if not by:
        raise CheckRefused("say who checked it")
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise CheckRefused(f"the note can be up to {MAX_NOTE} characters; it has {len(note)}")
    checked_at, day = _when(when)
    ids = list(dict.fromkeys(asset_ids))
    if not ids:
        raise CheckRefused("choose at least one asset to mark as checked")
    with store.transaction(db):
        found = store.get_assets(db, ids)
        missing = [asset_id for asset_id in ids if asset_id not in found]
        if missing:
            raise LookupError(f"there is no asset with id {missing[0]!r}")
        changes = [
            store.Change(
                asset_id, store.UPDATE, found[asset_id], _checked(found[asset_id], day, by)
            )
            for asset_id in ids
        ]
        versions = store.write_changes(db, changes, who=by, why=reason(how, note), when=store.now())
        for asset_id, version in zip(ids, versions, strict=True):
            store_checks.insert_check(
                db,
                asset_id=asset_id,
                checked_at=checked_at,
                checked_by=by,
                how=how,
                note=note,
                version_id=version,
            )
    return versions
