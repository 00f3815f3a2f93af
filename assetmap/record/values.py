"""Reading what people enter, for the checks in assetmap.record.validation and
assetmap.record.schedules:
whether a value is empty, which term of a vocabulary a word names whatever its spelling, and
a value quoted for a message.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable


def is_empty(value: object) -> bool:
    """None, blank text, or an empty list or object: nothing was entered."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, dict)):
        return not value
    return False


def quoted(value: object, limit: int = 60) -> str:
    """A value quoted for a message, cut short so one bad cell cannot flood the report."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def spelling_key(text: str) -> str:
    """A spelling-insensitive key, so "Men's sheds", "mens-sheds" and "MENS_SHEDS" all match."""
    text = text.casefold().replace("'", "").replace("\u2019", "").replace("&", " and ")
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


@functools.cache
def _lookup(vocabulary: tuple) -> dict[str, str]:
    table: dict[str, str] = {}
    for term in vocabulary:
        table[spelling_key(term.slug)] = term.slug
    for term in vocabulary:
        table.setdefault(spelling_key(term.label), term.slug)
    return table


def term_named(vocabulary: tuple, text: str) -> str | None:
    """The slug of the term that `text` names by its slug or its label, or None."""
    return _lookup(vocabulary).get(spelling_key(text))


def slug_list(vocabulary: Iterable) -> str:
    """The slugs of a vocabulary, for a message that says what to use."""
    return ", ".join(term.slug for term in vocabulary)
