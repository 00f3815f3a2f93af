"""What every form anyone may send (a request to join, a problem report) does first.

One budget of messages an hour per sender's address covers every such form
(`ASSETMAP_REFERRALS_PER_HOUR`, assetmap.people.throttle), so a robot gains nothing by moving
from one to another; a sender over it gets the form's "too many" page, and a robot that fills
the hidden field is thanked and nothing is kept.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, redirect, render_template, request

from assetmap.people import throttle


def screen_sender(db, now: datetime, *, too_many: str, asset: dict, sent: str):
    """(the sender's address key, None) when the form may be read; (key, the answer to give
    instead) when the sender is over the budget (`too_many` page, 429) or a robot (`sent`,
    the thank-you address, with the attempt counted)."""
    key = throttle.address_key(request.remote_addr or "unknown", current_app.config["SECRET_KEY"])
    if throttle.over_limit(db, key, current_app.config["ASSETMAP_REFERRALS_PER_HOUR"], now):
        return key, (render_template(too_many, asset=asset), 429)
    if throttle.is_robot(request.form):
        throttle.discard(db, key, now)
        return key, redirect(sent)
    return key, None
