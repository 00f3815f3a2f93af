"""Asset ids: made here, and only here, for every way an asset arrives (the coordinator's form,
`assetmap load`, imports).

An id is a slug of the asset's name and a short hash of what identifies the record (its source
and the source's own id, or its name and postcode, or its name and position), so the same
record always gets the same id, and loading or importing a file again finds the assets it made.
Slugs spell accented letters without their accents ("Café" gives "cafe"); ids made before that
dropped such letters ("caf"), so `earlier_ids` gives the id a record had then, for matching.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# Letters that Unicode does not split into a plain letter and an accent.
_SPELLED = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ı": "i"}
)


def slugify(text: str) -> str:
    """Lowercase words joined by hyphens, accents taken off: "Café Ñandú" -> "cafe-nandu"."""
    plain = unicodedata.normalize("NFKD", text.lower().translate(_SPELLED))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return _NOT_SLUG.sub("-", plain).strip("-")[:60] or "asset"


def plain_slug(text: str) -> str:
    """The slug ids had before accents were spelled out: letters other than a-z dropped
    ("Café" gives "caf"). Source names made from file names keep it, so that the same file
    name always gives the same source, whose assets an import matches by their ids."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")[:60] or "asset"


def _identity(record: dict) -> str:
    if record.get("source") and record.get("source_id"):
        return f"{record['source']}\n{record['source_id']}"
    return f"{(record.get('name') or '').casefold()}\n{record.get('postcode') or ''}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def asset_id(record: dict) -> str:
    """A stable id for a record that has none: from the source and its own id when the record
    has them, else from the name and postcode."""
    return _cached_id(
        record.get("source"), record.get("source_id"), record.get("name"), record.get("postcode")
    )


@lru_cache(maxsize=4096)
def _cached_id(source, source_id, name, postcode) -> str:
    # Imports ask for most rows' ids twice in a batch.
    record = {"source": source, "source_id": source_id, "name": name, "postcode": postcode}
    return f"{slugify(name or 'asset')}-{_digest(_identity(record))}"


def position_id(record: dict, name_key: Callable[[str], str]) -> str:
    """A stable id for a record with no id and no postcode, from its name (as `name_key`
    compares names) and its position rounded to about 10 m."""
    key = f"{name_key(record['name'])}\n{record['lat']:.4f},{record['lon']:.4f}"
    return f"{slugify(record['name'] or 'asset')}-{_digest(key)}"


def earlier_ids(made: str, record: dict) -> list[str]:
    """The id made for this record before accents were spelled out, if it differs from
    `made` (which `asset_id` or `position_id` gave it): an asset listed then has that id."""
    name = record.get("name") or "asset"
    earlier = f"{plain_slug(name)}-{made.rsplit('-', 1)[-1]}"
    return [earlier] if earlier != made else []


def unused_id(candidate: str, taken: Callable[[str], bool]) -> str:
    """`candidate`, or with a number added when that is taken (an asset renamed since)."""
    asset_id, suffix = candidate, 2
    while taken(asset_id):
        asset_id, suffix = f"{candidate}-{suffix}", suffix + 1
    return asset_id
