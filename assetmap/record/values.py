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
    """Spelling key -> slug: slugs first, then labels, then a term's aliases, so that an alias
    can never take a word that is another term's slug or label."""
    table: dict[str, str] = {}
    for term in vocabulary:
        table[spelling_key(term.slug)] = term.slug
    for term in vocabulary:
        table.setdefault(spelling_key(term.label), term.slug)
    for term in vocabulary:
        for alias in getattr(term, "aliases", ()):
            table.setdefault(spelling_key(alias), term.slug)
    return table


@functools.cache
def _singular_lookup(vocabulary: tuple) -> dict[str, str]:
    """The same table keyed by singular words ("hearing_loops" -> "hearing_loop")."""
    table: dict[str, str] = {}
    for key, slug in _lookup(vocabulary).items():
        table.setdefault(_singular(key), slug)
    return table


def _singular(key: str) -> str:
    """Each word of a spelling key made singular the plain English way ("toilets" -> "toilet",
    "facilities" -> "facility"); "bus" and "access" are left alone. Both sides of a lookup go
    through it, so an odd result (a word that was never plural) still matches itself."""
    words = []
    for word in key.split("_"):
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        words.append(word)
    return "_".join(words)


def term_named(vocabulary: tuple, text: str, *, plurals: bool = False) -> str | None:
    """The slug of the term that `text` names by its slug, label or an alias, or None.

    With `plurals`, "Hearing loops" and "accessible toilets" name their terms too: lists
    (categories, audiences, access) are written in the plural as often as not.
    """
    key = spelling_key(text)
    found = _lookup(vocabulary).get(key)
    if found is None and plurals:
        found = _singular_lookup(vocabulary).get(_singular(key))
    return found


def slug_list(vocabulary: Iterable) -> str:
    """The slugs of a vocabulary, for a message that says what to use."""
    return ", ".join(term.slug for term in vocabulary)
