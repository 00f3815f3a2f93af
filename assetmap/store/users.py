"""User accounts, sign-in attempts and the audit log: their SQL, and nothing else."""

from __future__ import annotations

import json

import sqlite_utils

from assetmap.store.assets import now, transaction

_USER_COLUMNS = (
    "id, email, password_hash, role, active, session_version, created_at, "
    "password_changed_at, last_login_at"
)


def _user(row) -> dict | None:
    if row is None:
        return None
    user = dict(row)
    user["active"] = bool(user["active"])
    return user


def get_user(db: sqlite_utils.Database, user_id: int) -> dict | None:
    sql = f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?"
    return _user(db.conn.execute(sql, [user_id]).fetchone())


def get_user_by_email(db: sqlite_utils.Database, email: str) -> dict | None:
    sql = f"SELECT {_USER_COLUMNS} FROM users WHERE email = ?"
    return _user(db.conn.execute(sql, [email]).fetchone())


def list_users(db: sqlite_utils.Database) -> list[dict]:
    sql = f"SELECT {_USER_COLUMNS} FROM users ORDER BY email COLLATE NOCASE"
    return [_user(row) for row in db.conn.execute(sql)]


def _audit(db, actor: str, action: str, subject: str | None, details: dict | None, when: str):
    db.conn.execute(
        "INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)",
        [when, actor, action, subject, json.dumps(details) if details else None],
    )


def create_user(
    db: sqlite_utils.Database, email: str, password_hash: str, role: str, *, actor: str
) -> int:
    """Add an account and record who added it; the email must not be taken."""
    when = now()
    with transaction(db):
        cursor = db.conn.execute(
            "INSERT INTO users (email, password_hash, role, created_at, password_changed_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [email, password_hash, role, when, when],
        )
        _audit(db, actor, "account created", email, {"role": role}, when)
    return cursor.lastrowid


def set_password_hash(db: sqlite_utils.Database, user_id: int, password_hash: str, *, actor: str):
    """Change a password and end the account's other sessions (by bumping its session version)."""
    when = now()
    with transaction(db):
        db.conn.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ?, "
            "session_version = session_version + 1 WHERE id = ?",
            [password_hash, when, user_id],
        )
        email = db.conn.execute("SELECT email FROM users WHERE id = ?", [user_id]).fetchone()[0]
        _audit(db, actor, "password set", email, None, when)


def set_active(db: sqlite_utils.Database, user_id: int, active: bool, *, actor: str):
    """Disable or re-enable an account; disabling ends its sessions."""
    when = now()
    with transaction(db):
        db.conn.execute(
            "UPDATE users SET active = ?, session_version = session_version + 1 WHERE id = ?",
            [int(active), user_id],
        )
        email = db.conn.execute("SELECT email FROM users WHERE id = ?", [user_id]).fetchone()[0]
        _audit(db, actor, "account enabled" if active else "account disabled", email, None, when)


def set_role(db: sqlite_utils.Database, user_id: int, role: str, *, actor: str):
    """Change an account's role; its sessions end so the new role applies at once."""
    when = now()
    with transaction(db):
        old = db.conn.execute("SELECT email, role FROM users WHERE id = ?", [user_id]).fetchone()
        db.conn.execute(
            "UPDATE users SET role = ?, session_version = session_version + 1 WHERE id = ?",
            [role, user_id],
        )
        _audit(db, actor, "role changed", old["email"], {"from": old["role"], "to": role}, when)


def record_login_attempt(
    db: sqlite_utils.Database, email: str, address: str, succeeded: bool, when: str
) -> None:
    with transaction(db):
        db.conn.execute(
            "INSERT INTO login_attempts (email, address, succeeded, attempted_at) "
            "VALUES (?, ?, ?, ?)",
            [email, address, int(succeeded), when],
        )
        if succeeded:
            db.conn.execute("UPDATE users SET last_login_at = ? WHERE email = ?", [when, email])


def failures_since(db: sqlite_utils.Database, since: str, *, email=None, address=None) -> list[str]:
    """Times of failed sign-ins since `since` for an email or an address, oldest first.

    For an email only failures after its last success count, so a person who gets in starts
    afresh; for an address every failure counts, so signing in to one account does not reset
    guessing at others.
    """
    if email is not None:
        sql = (
            "SELECT attempted_at FROM login_attempts WHERE email = ? AND succeeded = 0 "
            "AND attempted_at >= ? AND attempted_at > coalesce((SELECT max(attempted_at) "
            "FROM login_attempts WHERE email = ? AND succeeded = 1), '') ORDER BY attempted_at"
        )
        params = [email, since, email]
    else:
        sql = (
            "SELECT attempted_at FROM login_attempts WHERE address = ? AND succeeded = 0 "
            "AND attempted_at >= ? ORDER BY attempted_at"
        )
        params = [address, since]
    return [row[0] for row in db.conn.execute(sql, params)]


def audit_entries(db: sqlite_utils.Database, limit: int = 200) -> list[dict]:
    rows = db.conn.execute(
        "SELECT at, actor, action, subject, details FROM audit_log ORDER BY id DESC LIMIT ?",
        [limit],
    )
    entries = []
    for row in rows:
        entry = dict(row)
        entry["details"] = json.loads(entry["details"]) if entry["details"] else None
        entries.append(entry)
    return entries
