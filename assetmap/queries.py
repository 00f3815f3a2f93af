"""Reading the query parameters of a listing, with a message naming any bad one.

Plain Python over a mapping of parameter name to its values (as a query string gives them),
so the API, the pages and the CLI read parameters the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assetmap import taxonomy
from assetmap.store.assets import AssetFilter

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


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
            f"{', '.join(map(repr, unknown))} is not {what}; use one of {', '.join(allowed)}",
        )
    return tuple(dict.fromkeys(chosen))


def parse_integer(args, name: str, default: int, low: int, high: int | None = None) -> int:
    values = args.get(name) or []
    if not values or values[-1].strip() == "":
        return default
    text = values[-1].strip()
    try:
        value = int(text)
    except ValueError:
        raise ParameterError(name, f"{text!r} is not a whole number") from None
    if value < low:
        raise ParameterError(name, f"must be at least {low}")
    return min(value, high) if high is not None else value


def parse_flag(args: Mapping[str, Sequence[str]], name: str) -> bool:
    """A yes/no parameter: true/yes/1/on, or false/no/0/off/empty."""
    values = args.get(name) or []
    text = values[-1].strip().lower() if values else ""
    if text in ("", "false", "no", "0", "off"):
        return False
    if text in ("true", "yes", "1", "on"):
        return True
    raise ParameterError(name, f"{text!r} is not yes or no; use true or false")


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Read "min_lon,min_lat,max_lon,max_lat" as GeoJSON orders a bounding box."""
    parts = text.split(",")
    example = "use min_lon,min_lat,max_lon,max_lat, such as -2.5,53.35,-2.2,53.48"
    if len(parts) != 4:
        raise ParameterError("bbox", f"needs four numbers; {example}")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError:
        raise ParameterError(
            "bbox", f"{text!r} has something that is not a number; {example}"
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
            f"{', '.join(map(repr, unknown))} is not a public field; use names from "
            f"{', '.join(PUBLIC_FIELD_NAMES)}",
        )
    return tuple(dict.fromkeys(chosen))


def parse_asset_listing(args: Mapping[str, Sequence[str]]) -> tuple[AssetFilter, Page]:
    """The filter and page of GET /api/v1/assets: strand, kind, category, accessible, day,
    free, bbox, limit and offset."""
    bbox_values = args.get("bbox") or []
    bbox = parse_bbox(bbox_values[-1]) if bbox_values and bbox_values[-1].strip() else None
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
        limit=parse_integer(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=parse_integer(args, "offset", 0, 0),
    )
    return listing, page
