"""Residents' reports of a problem with a listing: their SQL and nothing else.

The contact a resident leaves (name, phone, email) is personal data seen only by coordinators;
it is blanked when the report is resolved, since it is kept only to ask about the report. A
resolution is written to the asset's history through `assets.write_changes` (the one write
path), in the same transaction that marks the report resolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from assetmap.store import assets
from assetmap.store.assets import transaction
from assetmap.store.join_requests import note_attempt

if TYPE_CHECKING:
    import sqlite_utils

CONTACT = ("contact_name", "contact_phone", "contact_email")
OPEN, RESOLVED = "open", "resolved"
_COLUMNS = (
    "r.id, r.asset_id, r.kind, r.note, r.contact_name, r.contact_phone, r.contact_email, "
    "r.consent, r.status, r.created_at, r.resolved_at, r.resolved_by, r.outcome, r.version_id"
)


def add(db: sqlite_utils.Database, asset_id: str, report: dict, address_key: str, when: str) -> int:
    """Store an open report, and count it against the (hashed) address it came from."""
    with transaction(db):
        new_id = db.conn.execute(
            "INSERT INTO problem_reports (asset_id, kind, note, contact_name, contact_phone, "
            "contact_email, consent, sender_key, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                asset_id,
                report["kind"],
                report["note"],
                report["contact_name"],
                report["contact_phone"],
                report["contact_email"],
                int(report["consent"]),
                address_key,
                OPEN,
                when,
            ],
        ).fetchone()[0]
        note_attempt(db, address_key, when)
    return new_id


def get(db: sqlite_utils.Database, report_id: int) -> dict | None:
    row = db.conn.execute(
        f"SELECT {_COLUMNS}, a.name AS asset_name FROM problem_reports r "
        "LEFT JOIN assets a ON a.id = r.asset_id WHERE r.id = ?",
        [report_id],
    ).fetchone()
    return dict(row) if row else None


def open_reports(
    db: sqlite_utils.Database, kind: str | None = None, limit: int = 200
) -> list[dict]:
    """Open reports newest first, with the asset's name; optionally of one kind only."""
    where, params = ("AND r.kind = ?", [kind]) if kind else ("", [])
    sql = (
        f"SELECT {_COLUMNS}, a.name AS asset_name FROM problem_reports r "
        f"LEFT JOIN assets a ON a.id = r.asset_id WHERE r.status = ? {where} "
        "ORDER BY r.id DESC LIMIT ?"
    )
    return [dict(row) for row in db.conn.execute(sql, [OPEN, *params, limit])]


def open_counts_by_kind(db: sqlite_utils.Database) -> dict[str, int]:
    sql = "SELECT kind, count(*) FROM problem_reports WHERE status = ? GROUP BY kind"
    return {kind: n for kind, n in db.conn.execute(sql, [OPEN])}


def open_reports_for(db: sqlite_utils.Database, asset_ids: Iterable[str]) -> dict[str, list]:
    """Each asset's open reports, oldest first (for a coordinator's queue beside the asset);
    assets without any are missing. Contact details included: coordinators only."""
    found: dict[str, list] = {}
    ids = list(dict.fromkeys(asset_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        sql = (
            f"SELECT {_COLUMNS} FROM problem_reports r "
            f"WHERE r.status = ? AND r.asset_id IN ({marks}) ORDER BY r.id"
        )
        for row in db.conn.execute(sql, [OPEN, *chunk]):
            found.setdefault(row["asset_id"], []).append(dict(row))
    return found


def assets_with_open_reports(
    db: sqlite_utils.Database, asset_ids: Iterable[str], kind: str, at_least: int
) -> set[str]:
    """The assets among `asset_ids` with open reports of `kind` from at least `at_least`
    different senders (by address), made after the day the asset was last checked
    (`last_verified`, a date): a check answers the reports made before it, even while they
    wait in the queue to be resolved. Senders, not reports: one person cannot mark a listing
    alone by sending the same report three times."""
    found: set[str] = set()
    ids = list(dict.fromkeys(asset_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        sql = (
            "SELECT r.asset_id FROM problem_reports r JOIN assets a ON a.id = r.asset_id "
            f"WHERE r.status = ? AND r.kind = ? AND r.asset_id IN ({marks}) "
            "AND (a.last_verified IS NULL OR substr(r.created_at, 1, 10) > a.last_verified) "
            "GROUP BY r.asset_id HAVING count(DISTINCT r.sender_key) >= ?"
        )
        found.update(row[0] for row in db.conn.execute(sql, [OPEN, kind, *chunk, at_least]))
    return found


def resolve(
    db: sqlite_utils.Database, report_id: int, outcome: str, *, by: str, why: str, when: str
) -> int | None:
    """Mark an open report resolved with its outcome, blank its contact details, and record
    `why` in the asset's history (an entry that changes no field). Returns the history entry's
    number, None when the asset no longer exists. LookupError when there is no open report."""
    with transaction(db):
        row = db.conn.execute(
            "SELECT asset_id FROM problem_reports WHERE id = ? AND status = ?", [report_id, OPEN]
        ).fetchone()
        if row is None:
            raise LookupError(f"there is no open report numbered {report_id}")
        record = assets.get_asset(db, row["asset_id"])
        version = None
        if record is not None:
            change = assets.Change(record["id"], assets.UPDATE, record, record)
            (version,) = assets.write_changes(db, [change], who=by, why=why, when=when)
        blank = ", ".join(f"{column} = NULL" for column in CONTACT)
        db.conn.execute(
            f"UPDATE problem_reports SET status = ?, resolved_at = ?, resolved_by = ?, "
            f"outcome = ?, version_id = ?, {blank} WHERE id = ?",
            [RESOLVED, when, by, outcome, version, report_id],
        )
    return version


def purge_contacts(db: sqlite_utils.Database, before: str) -> int:
    """Blank the contact details of reports made before `before`, open or resolved; returns
    how many. The report itself (what is wrong, the note) stays, since it is about the
    listing, not the person; so does the keyed hash of the sender's address, which cannot be
    turned back into the address and is what counts people, not reports, for "may have
    closed"."""
    sets = ", ".join(f"{column} = NULL" for column in CONTACT)
    with transaction(db):
        cursor = db.conn.execute(
            f"UPDATE problem_reports SET {sets}, consent = 0 WHERE created_at < ? AND ("
            + " OR ".join(f"{column} IS NOT NULL" for column in CONTACT)
            + ")",
            [before],
        )
    return cursor.rowcount


def find_by_contact(
    db: sqlite_utils.Database, email: str | None, phone_digits: str | None
) -> list[dict]:
    """Every report whose contact is this e-mail or phone number (for a subject-access request)."""
    rows = db.conn.execute(
        f"SELECT {_COLUMNS} FROM problem_reports r "
        "WHERE r.contact_email IS NOT NULL OR r.contact_phone IS NOT NULL ORDER BY r.id"
    )
    found = []
    for row in rows:
        by_email = email and (row["contact_email"] or "").casefold() == email.casefold()
        digits = "".join(c for c in row["contact_phone"] or "" if c.isdigit())
        if by_email or (phone_digits and digits == phone_digits):
            found.append(dict(row))
    return found
