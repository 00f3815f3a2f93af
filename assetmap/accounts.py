"""Accounts: password rules and hashing, and the sign-in throttle. No Flask import.

Passwords are hashed with scrypt (werkzeug.security), a memory-hard scheme with a random
salt per password. The throttle follows the usual guidance for a service holding personal
data: after a number of failed sign-ins in a window the account is locked until the window
has passed, and an address that fails too often is refused for a while, so guessing is slow
whichever way it is spread.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from assetmap.permissions import ROLE_SLUGS
from assetmap.store import users as store

MIN_PASSWORD_LENGTH = 12
HASH_METHOD = "scrypt"


@cache
def _dummy_hash() -> str:
    """Verifying against this makes a sign-in with an unknown email take as long as a wrong
    password, so timing does not tell which emails have accounts. Made on first use, since it
    costs a tenth of a second that every command would otherwise pay at start."""
    return generate_password_hash(secrets.token_urlsafe(16), method=HASH_METHOD)


class AccountError(ValueError):
    """Something about an account request that the person can fix; the message says how.

    `field` names the form field the message belongs beside, when there is one.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is not acceptable, or None when it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"Use at least {MIN_PASSWORD_LENGTH} characters; three random words "
            "make a strong password that is easy to remember."
        )
    if email and password.lower() == email.lower():
        return "Do not use your email address as your password."
    return None


def generate_password() -> str:
    """A random password of about 100 bits, for new and demo accounts."""
    return secrets.token_urlsafe(16)


def normalise_email(email: str) -> str:
    email = (email or "").strip()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise AccountError(f"{email!r} is not an email address; enter one such as name@example.org")
    return email


def create_account(
    db: sqlite_utils.Database, email: str, role: str, password: str, *, actor: str
) -> int:
    """Add an account after checking the email, the role and the password."""
    email = normalise_email(email)
    if role not in ROLE_SLUGS:
        raise AccountError(f"{role!r} is not a role; use one of {', '.join(sorted(ROLE_SLUGS))}")
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem)
    if store.get_user_by_email(db, email):
        raise AccountError(f"There is already an account for {email}.")
    return store.create_user(db, email, hash_password(password), role, actor=actor)


def set_password(db, user: dict, new_password: str, *, actor: str) -> dict:
    """Give an account a new password (ending its other sessions); returns the fresh account."""
    problem = password_problem(new_password, user["email"])
    if problem:
        raise AccountError(problem, "new")
    store.set_password_hash(db, user["id"], hash_password(new_password), actor=actor)
    return store.get_user(db, user["id"])


def change_own_password(db, user: dict, current: str, new: str, confirm: str) -> dict:
    """Change one's own password, which needs the current one; returns the fresh account."""
    if not check_password_hash(user["password_hash"], current):
        raise AccountError("That is not your current password.", "current")
    if new != confirm:
        raise AccountError("The two new passwords are not the same.", "confirm")
    return set_password(db, user, new, actor=user["email"])


@dataclass(frozen=True)
class ThrottlePolicy:
    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is refused before the password is even checked, and until when."""

    reason: str
    until: datetime

    def message(self) -> str:
        when = self.until.strftime("%H:%M")
        if self.reason == "account":
            return (
                "This account is locked for now after too many failed sign-ins. "
                f"Try again after {when} UTC, or ask an admin to set a new password."
            )
        return f"Too many failed sign-ins have come from your network. Try again after {when} UTC."


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def throttled(
    db: sqlite_utils.Database,
    email: str,
    address: str,
    policy: ThrottlePolicy,
    now: datetime | None = None,
) -> Refusal | None:
    """A refusal when the account or the address has failed too often in the window."""
    now = now or datetime.now(UTC)
    since = _stamp(now - policy.window)
    for reason, failures, limit in (
        ("account", store.failures_since(db, since, email=email), policy.account_failures),
        ("address", store.failures_since(db, since, address=address), policy.address_failures),
    ):
        if len(failures) >= limit:
            # Locked until the oldest failure that still counts leaves the window.
            return Refusal(reason, _parse(failures[-limit]) + policy.window)
    return None


def authenticate(
    db: sqlite_utils.Database,
    email: str,
    password: str,
    address: str,
    policy: ThrottlePolicy,
    now: datetime | None = None,
) -> dict | Refusal | None:
    """The account for these credentials, a Refusal when throttled, or None when wrong.

    Every attempt is recorded, whatever its outcome, so the throttle and an investigation
    both see it. A disabled account is refused like a wrong password.
    """
    now = now or datetime.now(UTC)
    email = (email or "").strip()
    refusal = throttled(db, email, address, policy, now)
    if refusal:
        return refusal
    dummy = _dummy_hash()  # made before the lookup, so its first making times both cases alike
    user = store.get_user_by_email(db, email)
    if user is None:
        check_password_hash(dummy, password)
        ok = False
    else:
        ok = check_password_hash(user["password_hash"], password) and user["active"]
    store.record_login_attempt(db, email, address, ok, _stamp(now))
    return user if ok else None
