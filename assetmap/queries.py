"""Reading the query parameters of a listing, with a message naming any bad one.

Plain Python over a mapping of parameter name to its values (as a query string gives them),
so the API, the pages and the CLI read parameters the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assetmap import taxonomy
from assetmap.store.assets import AssetFilter

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# SQLite keeps whole numbers in 64 bits: a bigger one in a query would overflow there (a 500).
SQLITE_MAX_INTEGER = 2**63 - 1


class ParameterError(ValueError):
    """A query parameter that cannot be used; `parameter` names it for the error response."""

    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def shown(text: str, most: int = 40) -> str:
    """A value quoted for a message, cut short: an error should not echo back 8 KB of URL."""
    return repr(text if len(text) <= most else text[: most - 1] + "\u2026")


def last_value(args: Mapping[str, Sequence[str]], name: str) -> str:
    """The last value given for a parameter, stripped; "" when it is absent or empty.

    An empty value is the same as leaving the parameter out, for every parameter: forms send
    their empty fields, and the OpenAPI document says so (allowEmptyValue).
    """
    values = args.get(name) or []
    return values[-1].strip() if values else ""


def _values(args: Mapping[str, Sequence[str]], name: str) -> list[str]:
    """Every value given for a parameter, splitting comma-separated lists."""
    values = []
    for raw in args.get(name, ()):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def parse_slugs(args, name: str, terms, what: str) -> tuple[str, ...]:
    allowed = [t.slug for t in terms]
    chosen = _values(args, name)
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise ParameterError(
            name,
            f"{', '.join(map(shown, unknown))} is not {what}; use one of {', '.join(allowed)}",
        )
    return tuple(dict.fromkeys(chosen))


# ASCII digits only: int() also reads "1_000" and digits of other scripts.
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def _plain(text: str) -> bool:
    """float() also reads "1_000" and digits of other scripts; a query parameter's number is
    plain ASCII, as the OpenAPI document's types are."""
    return text.isascii() and "_" not in text


def parse_integer(
    args,
    name: str,
    default: int | None,
    low: int,
    high: int = SQLITE_MAX_INTEGER,
    *,
    cap: int | None = None,
) -> int | None:
    """A whole number from `low` to `high` (`default` when absent or empty); one above `cap`
    is lowered to it, as a page size beyond the largest page is."""
    text = last_value(args, name)
    if not text:
        return default
    if not _WHOLE_NUMBER.fullmatch(text):
        raise ParameterError(name, f"{shown(text)} is not a whole number")
    # Past 19 digits is past 64 bits (and int() refuses more than 4,300 digits).
    too_long = len(text.lstrip("+-").lstrip("0")) > 19
    value = int(text) if not too_long else (low - 1 if text.startswith("-") else high + 1)
    if value < low:
        raise ParameterError(name, f"must be at least {low}")
    if value > high:
        raise ParameterError(name, f"must be at most {high}")
    return min(value, cap) if cap is not None else value


def parse_number(args, name: str, low: float, high: float, example: str) -> float | None:
    """A finite number from `low` to `high`, or None when absent or empty."""
    text = last_value(args, name)
    if not text:
        return None
    try:
        value = to_float(text)
    except ValueError:
        raise ParameterError(
            name, f"{shown(text)} is not a number; use one such as {example}"
        ) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ParameterError(name, f"must be a number from {low:g} to {high:g}, such as {example}")
    return value


def to_float(text: str) -> float:
    """float(), but only for plain ASCII numbers (ValueError otherwise); nan and inf pass, for
    the caller to refuse with a message about the range."""
    if not _plain(text):
        raise ValueError(text)
    return float(text)


def parse_flag(args: Mapping[str, Sequence[str]], name: str) -> bool:
    """A yes/no parameter: true/yes/1/on, or false/no/0/off/empty."""
    text = last_value(args, name).lower()
    if text in ("", "false", "no", "0", "off"):
        return False
    if text in ("true", "yes", "1", "on"):
        return True
    raise ParameterError(name, f"{shown(text)} is not yes or no; use true or false")


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Read "min_lon,min_lat,max_lon,max_lat" as GeoJSON orders a bounding box."""
    parts = text.split(",")
    example = "use min_lon,min_lat,max_lon,max_lat, such as -2.5,53.35,-2.2,53.48"
    if len(parts) != 4:
        raise ParameterError("bbox", f"needs four numbers; {example}")
    try:
        min_lon, min_lat, max_lon, max_lat = (to_float(p.strip()) for p in parts)
    except ValueError:
        raise ParameterError(
            "bbox", f"{shown(text)} has something that is not a number; {example}"
        ) from None
    if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
        raise ParameterError("bbox", f"numbers must be finite; {example}")
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise ParameterError(
            "bbox",
            f"the minimums must not exceed the maximums, within -180..180 and -90..90; {example}",
        )
    return min_lon, min_lat, max_lon, max_lat


def parse_fields(args: Mapping[str, Sequence[str]]) -> tuple[str, ...] | None:
    """The `fields` parameter: which properties to send (all public ones when absent)."""
    from assetmap.fields import PUBLIC_FIELD_NAMES

    chosen = _values(args, "fields")
    if not chosen:
        return None
    unknown = [name for name in chosen if name not in PUBLIC_FIELD_NAMES]
    if unknown:
        raise ParameterError(
            "fields",
            f"{', '.join(map(shown, unknown))} is not a public field; use names from "
            f"{', '.join(PUBLIC_FIELD_NAMES)}",
        )
    return tuple(dict.fromkeys(chosen))


def parse_asset_listing(args: Mapping[str, Sequence[str]]) -> tuple[AssetFilter, Page]:
    """The filter and page of GET /api/v1/assets: strand, kind, category, accessible, day,
    free, bbox, limit and offset."""
    bbox_text = last_value(args, "bbox")
    bbox = parse_bbox(bbox_text) if bbox_text else None
    listing = AssetFilter(
        strands=parse_slugs(args, "strand", taxonomy.STRANDS, "a strand"),
        kinds=parse_slugs(args, "kind", taxonomy.KINDS, "a kind"),
        bbox=bbox,
        categories=parse_slugs(args, "category", taxonomy.CATEGORIES, "a category"),
        accessibility=parse_slugs(
            args, "accessible", taxonomy.ACCESSIBILITY, "an accessibility need"
        ),
        days=parse_slugs(args, "day", taxonomy.DAYS, "a day"),
        free=parse_flag(args, "free"),
    )
    page = Page(
        limit=parse_integer(args, "limit", DEFAULT_LIMIT, 1, cap=MAX_LIMIT),  # type: ignore[arg-type]
        offset=parse_integer(args, "offset", 0, 0),  # type: ignore[arg-type]
    )
    return listing, page
