"""Residents' requests to join: their SQL and nothing else.

The tables keep their first name, `self_referrals` (with `self_referral_events` and
`self_referral_attempts`); renaming them would need a migration for no change in behaviour.
Personal data (name, phone, email, best time, message) lives only in `self_referrals` and
is blanked by `purge_personal_data` after the retention period; the row, its asset, dates
and status stay, so demand can still be counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assetmap.store.assets import transaction

if TYPE_CHECKING:
    import sqlite_utils

PERSONAL = ("name", "phone", "email", "best_time", "message")
_COLUMNS = (
    "r.id, r.asset_id, r.name, r.phone, r.email, r.best_time, r.message, r.consent, r.status, "
    "r.created_at, r.updated_at, r.purged_at, r.organiser_emailed_at"
)


def add(
    db: sqlite_utils.Database, asset_id: str, request: dict, address_key: str, when: str
) -> int:
    """Store a request with status new, and the (hashed) address it came from."""
    with transaction(db):
        new_id = db.conn.execute(
            "INSERT INTO self_referrals (asset_id, name, phone, email, best_time, message, "
            "consent, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'new', ?, ?) "
            "RETURNING id",
            [
                asset_id,
                request["name"],
                request["phone"],
                request["email"],
                request["best_time"],
                request["message"],
                int(request["consent"]),
                when,
                when,
            ],
        ).fetchone()[0]
        note_attempt(db, address_key, when)
    return new_id


def count_from_address(db: sqlite_utils.Database, address_key: str, since: str) -> int:
    sql = "SELECT count(*) FROM self_referral_attempts WHERE address_key = ? AND at >= ?"
    return db.conn.execute(sql, [address_key, since]).fetchone()[0]


def record_attempt(db: sqlite_utils.Database, address_key: str, when: str) -> None:
    """Count a refused or discarded attempt towards the address's limit too."""
    with transaction(db):
        note_attempt(db, address_key, when)


def note_attempt(db: sqlite_utils.Database, address_key: str, when: str) -> None:
    """Count one form from this address, inside the caller's transaction. Every form anyone
    may send counts here (assetmap.people.throttle), so the table's name is older than its use.
    """
    db.conn.execute(
        "INSERT INTO self_referral_attempts (address_key, at) VALUES (?, ?)", [address_key, when]
    )


def mark_organiser_emailed(db: sqlite_utils.Database, request_id: int, when: str) -> None:
    with transaction(db):
        db.conn.execute(
            "UPDATE self_referrals SET organiser_emailed_at = ? WHERE id = ?", [when, request_id]
        )


def inbox(db: sqlite_utils.Database, status: str | None = None, limit: int = 200) -> list[dict]:
    """Requests newest first, with the asset's name; optionally one status only."""
    where, params = ("WHERE r.status = ?", [status]) if status else ("", [])
    sql = (
        f"SELECT {_COLUMNS}, a.name AS asset_name FROM self_referrals r "
        f"LEFT JOIN assets a ON a.id = r.asset_id {where} ORDER BY r.id DESC LIMIT ?"
    )
    return [dict(row) for row in db.conn.execute(sql, [*params, limit])]


def counts_by_status(db: sqlite_utils.Database) -> dict[str, int]:
    sql = "SELECT status, count(*) FROM self_referrals GROUP BY status"
    return {status: n for status, n in db.conn.execute(sql)}


def get(db: sqlite_utils.Database, request_id: int) -> dict | None:
    row = db.conn.execute(
        f"SELECT {_COLUMNS}, a.name AS asset_name FROM self_referrals r "
        "LEFT JOIN assets a ON a.id = r.asset_id WHERE r.id = ?",
        [request_id],
    ).fetchone()
    return dict(row) if row else None


def events(db: sqlite_utils.Database, request_id: int) -> list[dict]:
    sql = (
        'SELECT at, "by", status, note FROM self_referral_events WHERE referral_id = ? ORDER BY id'
    )
    return [dict(row) for row in db.conn.execute(sql, [request_id])]


def update_status(
    db: sqlite_utils.Database, request_id: int, status: str, note: str | None, by: str, when: str
) -> None:
    """Change the status and keep who, when and the note in the request's events."""
    with transaction(db):
        db.conn.execute(
            "UPDATE self_referrals SET status = ?, updated_at = ? WHERE id = ?",
            [status, when, request_id],
        )
        db.conn.execute(
            'INSERT INTO self_referral_events (referral_id, at, "by", status, note) '
            "VALUES (?, ?, ?, ?, ?)",
            [request_id, when, by, status, note],
        )


def purge_personal_data(db: sqlite_utils.Database, before: str, when: str) -> int:
    """Blank the personal data of requests made before `before`; returns how many."""
    with transaction(db):
        sets = ", ".join(f"{column} = NULL" for column in PERSONAL)
        cursor = db.conn.execute(
            f"UPDATE self_referrals SET {sets}, purged_at = ? "
            "WHERE created_at < ? AND purged_at IS NULL",
            [when, before],
        )
        # Notes may quote what the resident said, so they go too; statuses stay.
        db.conn.execute(
            "UPDATE self_referral_events SET note = NULL WHERE referral_id IN "
            "(SELECT id FROM self_referrals WHERE purged_at IS NOT NULL)"
        )
        db.conn.execute("DELETE FROM self_referral_attempts WHERE at < ?", [before])
    return cursor.rowcount


def find_by_contact(db: sqlite_utils.Database, email: str | None, phone_digits: str | None):
    """Every request carrying this email or phone number (for a subject-access request)."""
    rows = db.conn.execute(
        f"SELECT {_COLUMNS}, a.name AS asset_name FROM self_referrals r "
        "LEFT JOIN assets a ON a.id = r.asset_id ORDER BY r.id"
    )
    found = []
    for row in rows:
        digits = "".join(c for c in (row["phone"] or "") if c.isdigit())
        if (email and (row["email"] or "").lower() == email.lower()) or (
            phone_digits and digits.endswith(phone_digits[-10:])
        ):
            found.append(dict(row))
    return found
