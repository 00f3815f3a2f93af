"""UK postcodes: one canonical spelling, so that lookups, duplicates and search agree.

People type postcodes every way there is ("m337zf", "M33  7ZF", a fixed-width "M1  1AD" from a
spreadsheet, a non-breaking space pasted from a web page). Everything else in the app stores and
compares the canonical form "M33 7ZF", so normalisation happens once, here.
"""

from __future__ import annotations

import re
import unicodedata

POSTCODE_EXAMPLE = "M33 7ZF"

# The shape of a UK postcode (BS 7666). Letters that never appear in a position are excluded, so
# that common typos (an O for a 0 in the inward code, a V for a Y) are caught here rather than by
# a failed lookup later. Whether the postcode exists is a question for the lookup table.
_OUTWARD = (
    r"(?:"
    r"[A-PR-UWYZ][0-9]{1,2}"  # A9, A99
    r"|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"  # AA9, AA99
    r"|[A-PR-UWYZ][0-9][A-HJKPS-UW]"  # A9A
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRV-Y]"  # AA9A
    r")"
)
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_COMPACT_POSTCODE = re.compile(rf"(?:{_OUTWARD}{_INWARD}|GIR0AA)")

# Spaces of any kind, and invisible characters that ride along when text is copied from the web.
_SPACE_LIKE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")


def normalise_postcode(text: str) -> str | None:
    """The canonical form of a UK postcode ("M33 7ZF"), or None if `text` is not one.

    Only the format is checked; a postcode that is well formed but not in use still passes.
    """
    if not isinstance(text, str):
        return None
    # NFKC turns full-width letters and digits, and odd spaces, into their plain forms.
    compact = _SPACE_LIKE.sub("", unicodedata.normalize("NFKC", text)).upper()
    if not _COMPACT_POSTCODE.fullmatch(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"
