"""The spam limit on forms anyone may send without an account (asking to join an activity,
reporting a problem with a listing). No Flask import.

One budget per sender's address across all of those forms: a robot that is refused on one
form gains nothing by moving to another, and the setting `ASSETMAP_REFERRALS_PER_HOUR` is the
one number a coordinator tunes. The address itself is never stored, only a keyed hash of it,
which is enough to count and not enough to find anyone. Every attempt counts, including those
from a robot that filled in the hidden field (it is thanked, and nothing else is kept).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from assetmap.store import join_requests as store

if TYPE_CHECKING:
    import sqlite_utils

# A hidden field that people never see or fill in, but form-filling robots do.
HONEYPOT = "website"


def stamp(moment: datetime) -> str:
    """A moment as stored: UTC, ISO 8601, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def is_robot(form) -> bool:
    return bool((form.get(HONEYPOT) or "").strip())


def address_key(address: str, secret: str) -> str:
    """A keyed hash of the sender's address: enough to count requests, not to find anyone."""
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()


def over_limit(db: sqlite_utils.Database, key: str, per_hour: int, now: datetime) -> bool:
    """Whether this address has sent `per_hour` or more forms in the last hour."""
    return store.count_from_address(db, key, stamp(now - timedelta(hours=1))) >= per_hour


def discard(db: sqlite_utils.Database, key: str, now: datetime) -> None:
    """Drop a robot's form, but count it against its address."""
    store.record_attempt(db, key, stamp(now))
