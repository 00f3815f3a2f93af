"""What a resident can do about an asset that records no way to contact anyone.

Much open data (parks, places of worship, allotment sites, sports grounds) names a place and
nothing else: no phone, email, website or way to ask to join. A page that simply stops leaves
a resident stuck, so it says what they can do instead, decided from what the record itself
holds (its kind, its activities, whether it is free) and never from a guess about the place:
no opening hours, organiser or booking rule that the record does not state.
"""

from __future__ import annotations

from assetmap.record import taxonomy

# Advice for a place by the first of its activities listed here, most specific first: a park
# is tagged walking and physical_activity, and walking says more about what to do there.
_PLACE_ADVICE = (
    (
        "faith",
        "No contact details are recorded for this place of worship. You can go along and look "
        "for its noticeboard, which usually gives the times of services and who to contact.",
    ),
    (
        "walking",
        "No contact details are recorded: it is a place to visit rather than a group to join. "
        "You may be able to go along yourself; check any signs at the way in.",
    ),
    (
        "gardening_nature",
        "No contact details are recorded for this site. Look for a notice at the gate saying "
        "who runs it, or ask a link worker to find out how to get involved.",
    ),
    (
        "physical_activity",
        "No contact details are recorded for this site. Clubs and groups that use it are the "
        "way in: look for notices at the site, or ask a link worker which ones meet there.",
    ),
)
_FREE_SPORT = (
    "No contact details are recorded for this site; it is recorded as free to use. Look for "
    "notices at the site saying when it is open, or ask a link worker which clubs meet there."
)
_FREE_TO_VISIT = (
    "Just go along: it is free to visit, and there is no one you need to contact first."
)
_LINK_WORKER = (
    "No contact details are recorded for this {kind}. A social prescribing link worker (ask "
    "at your GP surgery) can help you find out more, or see what else is nearby."
)


def has_contact(record: dict) -> bool:
    """Whether the record gives a resident any way in: a phone, email or website, a way to
    ask to join through this site, or words on how to join."""
    return bool(
        record.get("phone")
        or record.get("email")
        or record.get("website")
        or record.get("self_referral")
        or (record.get("referral_details") or "").strip()
    )


def what_to_do_instead(record: dict) -> str | None:
    """The advice for a record with no way to contact anyone, or None when it has one (or
    is not running, when the page says so instead)."""
    if has_contact(record) or record.get("status", "active") != "active":
        return None
    categories = record.get("categories") or []
    free = record.get("cost") == "free"
    if record.get("kind") == "place":
        if "walking" in categories and free:
            return _FREE_TO_VISIT
        if "physical_activity" in categories and "faith" not in categories and free:
            return _FREE_SPORT
        for category, advice in _PLACE_ADVICE:
            if category in categories:
                return advice
    kind = taxonomy.label(taxonomy.KINDS, record.get("kind")).lower() or "activity"
    return _LINK_WORKER.format(kind=kind)
