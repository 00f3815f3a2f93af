"""Query parameters, each declared once, and read with a message naming any bad one.

A `Parameter` says all there is to say about one query parameter: its name, what it takes
(a number in a range, terms from the taxonomy, ...), its default, its help and whether it
repeats. Everything else is made from the declarations: reading a query string (the API, the
pages and the CLI alike), writing one back (links to the next page), the OpenAPI document
(assetmap.web.openapi), the options of `assetmap search` (assetmap.cli.search) and the choices
of the search form. tests/test_parameters.py checks that each of those shows every declared
parameter and nothing else.

The search's parameters are declared in assetmap.search.nearby; the asset listing's (GET
/api/v1/assets and the map's filters) here, below.

Rules for every parameter: an empty value is the same as none (forms send their empty fields;
the OpenAPI document says so with allowEmptyValue); when one is given twice, the last counts;
a number must be plain ASCII and finite, and a whole number fit SQLite's 64 bits; a page size
past the largest page is lowered to it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assetmap.record import taxonomy
from assetmap.record.fields import PUBLIC_FIELD_NAMES
from assetmap.record.taxonomy import Strand, Term
from assetmap.store.assets import AssetFilter

if TYPE_CHECKING:
    from assetmap.record import schedules

Args = Mapping[str, Sequence[str]]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# SQLite keeps whole numbers in 64 bits: a bigger one in a query would overflow there (a 500).
SQLITE_MAX_INTEGER = 2**63 - 1

# What a parameter takes (Parameter.kind).
TEXT = "text"
NUMBER = "number"  # a plain, finite number from `low` to `high`
WHOLE_NUMBER = "whole number"  # from `low` to `high` (64 bits when not given)
YES_NO = "yes or no"  # true/yes/1/on or false/no/0/off
TERMS = "terms"  # any number of `terms`, comma-separated or repeated
ONE_OF = "one of"  # one of `terms`
TIME_OF_DAY = "time of day"  # what assetmap.record.schedules.parse_time_window reads
BOX = "box"  # min_lon,min_lat,max_lon,max_lat, as GeoJSON orders a bounding box


class ParameterError(ValueError):
    """A query parameter that cannot be used; `parameter` names it for the error response."""

    def __init__(self, parameter: str, message: str):
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class Parameter:
    """One query parameter, declared once.

    `attribute` is the field its value fills in the query it belongs to (SearchQuery,
    AssetFilter): its name unless given. `offered` is what a form offers when that is not
    every allowed value (steps of the radius, the parts of the day). `form` is False for a
    parameter the search form does not ask for (it travels in links only).
    """

    name: str
    kind: str
    help: str
    terms: tuple[Term | Strand, ...] = ()
    what: str = ""  # how a message names one of the terms: "is not a strand"
    low: float | None = None
    high: float | None = None
    above_low: bool = False  # `low` itself is refused (a radius of 0)
    cap: int | None = None  # a larger whole number is lowered to it (a page size)
    too_high: str = ""  # what to do instead, said when a value is above `high`
    default: Any = None
    example: Any = None
    max_length: int | None = None  # counted as sent, before spaces are stripped
    any_case: bool = False  # terms may be given in any case ("Tuesday")
    decimals: int | None = None  # a number in a link: this many decimals, or "%g" when None
    option: str = ""  # the command line's option, when it is not --name with dashes
    attribute: str = ""
    offered: tuple[Term, ...] = ()
    form: bool = True

    def __post_init__(self):
        if not self.attribute:
            object.__setattr__(self, "attribute", self.name)

    @property
    def repeats(self) -> bool:
        """Whether the parameter takes several values (comma-separated or repeated)."""
        return self.kind == TERMS

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(t.slug for t in self.terms)

    @property
    def cli_option(self) -> str:
        return "--" + (self.option or self.name.replace("_", "-"))

    def read(self, args: Args) -> Any:
        """Its value in `args` (the default when absent or empty); ParameterError naming it
        when the value cannot be used."""
        return _READ[self.kind](self, args)

    def written(self, value: Any) -> list[str]:
        """The query-string values that give `value` back: none for the default, so that
        links stay short."""
        if value is None or value == self.default:
            return []
        return _WRITE[self.kind](self, value)


def read(parameters: Iterable[Parameter], args: Args) -> dict[str, Any]:
    """Every parameter's value, by its attribute; ParameterError names the first bad one."""
    return {p.attribute: p.read(args) for p in parameters}


def written(parameters: Iterable[Parameter], values: object) -> dict[str, list[str]]:
    """The query string that gives back the parameters' values (attributes of `values`)."""
    args = {}
    for p in parameters:
        text = p.written(getattr(values, p.attribute))
        if text:
            args[p.name] = text
    return args


# ---------------------------------------------------------------------------------------------
# Reading each kind
# ---------------------------------------------------------------------------------------------


def shown(text: str, most: int = 40) -> str:
    """A value quoted for a message, cut short: an error should not echo back 8 KB of URL."""
    return repr(text if len(text) <= most else text[: most - 1] + "\u2026")


def last_value(args: Args, name: str) -> str:
    """The last value given for a parameter, stripped; "" when it is absent or empty."""
    values = args.get(name) or []
    return values[-1].strip() if values else ""


def _values(args: Args, name: str) -> list[str]:
    """Every value given for a parameter, splitting comma-separated lists."""
    values = []
    for raw in args.get(name, ()):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def parse_slugs(args: Args, name: str, terms, what: str) -> tuple[str, ...]:
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
    args: Args,
    name: str,
    default: int | None,
    low: int,
    high: int = SQLITE_MAX_INTEGER,
    *,
    cap: int | None = None,
    too_high: str = "",
) -> int | None:
    """A whole number from `low` to `high` (`default` when absent or empty); one above `cap`
    is lowered to it, as a page size beyond the largest page is. `too_high` is advice for
    one above `high`."""
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
        raise ParameterError(
            name, f"must be at most {high}" + (f"; {too_high}" if too_high else "")
        )
    return min(value, cap) if cap is not None else value


def parse_number(args: Args, name: str, low: float, high: float, example: str) -> float | None:
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


def parse_flag(args: Args, name: str) -> bool:
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


def _read_text(p: Parameter, args: Args) -> str | None:
    values = args.get(p.name) or []
    text = values[-1] if values else ""
    if p.max_length is not None and len(text) > p.max_length:  # as the document's maxLength
        raise ParameterError(p.name, f"is too long; use at most {p.max_length} characters")
    return text.strip() or p.default


def _read_number(p: Parameter, args: Args) -> float | None:
    example = f"{p.default if p.example is None else p.example:g}"
    value = parse_number(args, p.name, p.low, p.high, example)  # type: ignore[arg-type]
    if value is None:
        return p.default
    if p.above_low and value == p.low:
        raise ParameterError(p.name, f"must be more than {p.low:g} and at most {p.high:g}")
    return value


def _read_whole_number(p: Parameter, args: Args) -> int | None:
    high = SQLITE_MAX_INTEGER if p.high is None else int(p.high)
    low = int(p.low or 0)
    return parse_integer(args, p.name, p.default, low, high, cap=p.cap, too_high=p.too_high)


def _read_terms(p: Parameter, args: Args) -> tuple[str, ...]:
    if p.any_case:
        args = {p.name: [value.lower() for value in args.get(p.name, ())]}
    return parse_slugs(args, p.name, p.terms, p.what)


def _read_one_of(p: Parameter, args: Args) -> str:
    text = last_value(args, p.name)
    text = (text.lower() if p.any_case else text) or p.default
    if text not in p.slugs:
        *others, last = p.slugs
        raise ParameterError(
            p.name, f"{shown(text)} is not {p.what}; use {', '.join(others)} or {last}"
        )
    return text


def _read_time_of_day(p: Parameter, args: Args) -> schedules.TimeWindow | None:
    from assetmap.record import schedules

    text = last_value(args, p.name)
    try:
        return schedules.parse_time_window(text) if text else None
    except ValueError as e:
        raise ParameterError(p.name, str(e)) from None


def _read_box(p: Parameter, args: Args) -> tuple[float, float, float, float] | None:
    text = last_value(args, p.name)
    return parse_bbox(text) if text else None


_READ: dict[str, Callable[[Parameter, Args], Any]] = {
    TEXT: _read_text,
    NUMBER: _read_number,
    WHOLE_NUMBER: _read_whole_number,
    YES_NO: lambda p, args: parse_flag(args, p.name),
    TERMS: _read_terms,
    ONE_OF: _read_one_of,
    TIME_OF_DAY: _read_time_of_day,
    BOX: _read_box,
}


def _write_number(p: Parameter, value: float) -> list[str]:
    return [f"{value:g}" if p.decimals is None else f"{value:.{p.decimals}f}"]


_WRITE: dict[str, Callable[[Parameter, Any], list[str]]] = {
    TEXT: lambda p, value: [value] if value else [],
    NUMBER: _write_number,
    WHOLE_NUMBER: lambda p, value: [str(value)],
    YES_NO: lambda p, value: ["true"] if value else [],
    TERMS: lambda p, values: [",".join(values)] if values else [],
    ONE_OF: lambda p, value: [value],
    TIME_OF_DAY: lambda p, window: [window.name],
    BOX: lambda p, box: [",".join(f"{v!r}" for v in box)],
}


# ---------------------------------------------------------------------------------------------
# Parameters the listing and the search share
# ---------------------------------------------------------------------------------------------

STRAND = Parameter(
    "strand",
    TERMS,
    "Only these strands.",
    terms=taxonomy.STRANDS,
    what="a strand",
    attribute="strands",
)
KIND = Parameter(
    "kind", TERMS, "Only these kinds.", terms=taxonomy.KINDS, what="a kind", attribute="kinds"
)
CATEGORY = Parameter(
    "category",
    TERMS,
    "Only assets in any of these activity categories.",
    terms=taxonomy.CATEGORIES,
    what="a category",
    attribute="categories",
)
ACCESSIBLE = Parameter(
    "accessible",
    TERMS,
    "Only assets that meet all of these access needs.",
    terms=taxonomy.ACCESSIBILITY,
    what="an accessibility need",
    attribute="accessibility",
)
FREE = Parameter("free", YES_NO, "Only free assets.", default=False)
OFFSET = Parameter(
    "offset", WHOLE_NUMBER, "How many to skip, for the next page.", low=0, default=0, form=False
)


# ---------------------------------------------------------------------------------------------
# The asset listing: GET /api/v1/assets and the map's filters
# ---------------------------------------------------------------------------------------------

FIELDS = Parameter(
    "fields",
    TERMS,
    "Property names to send (all public fields when absent), for lighter pages such as the map's.",
    terms=tuple(Term(name, name) for name in PUBLIC_FIELD_NAMES),
    what="a public field",
)

LISTING_PARAMETERS: tuple[Parameter, ...] = (
    STRAND,
    KIND,
    CATEGORY,
    ACCESSIBLE,
    Parameter(
        "day",
        TERMS,
        "Only assets with a session on any of these days.",
        terms=taxonomy.DAYS,
        what="a day",
        attribute="days",
    ),
    FREE,
    FIELDS,
    Parameter(
        "bbox",
        BOX,
        "min_lon,min_lat,max_lon,max_lat (WGS84): longitudes from -180 to 180, latitudes "
        "from -90 to 90, and each minimum at most its maximum.",
        example=(-2.5, 53.35, -2.2, 53.48),
    ),
    Parameter(
        "limit",
        WHOLE_NUMBER,
        f"Page size; values above {MAX_LIMIT} are lowered to {MAX_LIMIT}.",
        low=1,
        cap=MAX_LIMIT,
        default=DEFAULT_LIMIT,
    ),
    OFFSET,
)


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def parse_asset_listing(args: Args) -> tuple[AssetFilter, Page]:
    """The filter and the page of a listing (GET /api/v1/assets, the map)."""
    values = read((p for p in LISTING_PARAMETERS if p is not FIELDS), args)
    page = Page(limit=values.pop("limit"), offset=values.pop("offset"))
    return AssetFilter(**values), page


def parse_fields(args: Args) -> tuple[str, ...] | None:
    """The `fields` parameter: which properties to send (all public ones when absent)."""
    return FIELDS.read(args) or None
