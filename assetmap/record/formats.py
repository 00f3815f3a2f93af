"""Asset records to and from GeoJSON features and CSV rows.

The GeoJSON form is the one in data/assets.geojson: the point in the geometry, every other
field in the properties. The CSV form has one column per field, lists joined with "; ", and
the schedule and service area as JSON. What `to_*` writes, `from_*` reads back unchanged.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import IO

from assetmap.record.fields import (
    CHOICES,
    FIELD_NAMES,
    FIELDS,
    GEOMETRY,
    MULTILINE,
    PUBLIC_FIELD_NAMES,
    SCHEDULE,
    TEXT,
    TEXT_LIST,
)

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0: "
    "Trafford Council (libraries, sports clubs, mental-health services) and ONS (postcodes). "
    "Records with source 'illustrative' are made up for illustration. See data/NOTICE.md."
)


class FormatError(ValueError):
    """A file or feature that cannot be read as assets; the message says what to fix."""


def to_feature(record: dict, *, public: bool = False, only: tuple[str, ...] | None = None) -> dict:
    """A GeoJSON Feature for an asset; `public` leaves out professional-only fields, and
    `only` keeps just the properties named (a map needs a few, not every field)."""
    names = PUBLIC_FIELD_NAMES if public else FIELD_NAMES
    if only is not None:
        names = tuple(n for n in names if n in only)
    properties = {n: record.get(n) for n in names if n not in ("lat", "lon")}
    return {
        "type": "Feature",
        "id": record["id"],
        "geometry": {"type": "Point", "coordinates": [record["lon"], record["lat"]]},
        "properties": properties,
    }


def from_feature(feature: object) -> dict:
    """The raw (unvalidated) fields of a GeoJSON Feature.

    A point gives lat/lon. A polygon is placed at a point inside it and kept as the service
    area, so an area-wide service still shows on the map.
    """
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise FormatError('is not a GeoJSON Feature (expected an object with "type": "Feature")')
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise FormatError("has properties that are not an object")
    data = dict(properties)
    if feature.get("id") is not None and not data.get("id"):
        data["id"] = str(feature["id"])
    geometry = feature.get("geometry")
    if geometry is None:
        return data
    if not isinstance(geometry, dict):
        raise FormatError("has a geometry that is not a GeoJSON geometry object")
    if geometry.get("type") == "Point":
        coordinates = geometry.get("coordinates")
        if not isinstance(coordinates, list) or len(coordinates) < 2:
            raise FormatError("has a Point without [longitude, latitude] coordinates")
        data["lon"], data["lat"] = coordinates[0], coordinates[1]
    elif geometry.get("type") in ("Polygon", "MultiPolygon"):
        from shapely.geometry import shape

        try:
            point = shape(geometry).representative_point()
        except Exception as e:  # shapely raises several types for bad coordinates
            raise FormatError(f"has a {geometry['type']} that cannot be read: {e}") from None
        data["lon"], data["lat"] = round(point.x, 6), round(point.y, 6)
        data.setdefault("service_area", geometry)
    else:
        raise FormatError(
            f"has a {geometry.get('type')!r} geometry; use a Point (or a Polygon for an area)"
        )
    return data


def read_geojson(stream: IO[str]) -> Iterator[dict]:
    """The features of a GeoJSON FeatureCollection, as raw objects."""
    try:
        document = json.load(stream)
    except json.JSONDecodeError as e:
        raise FormatError(
            f"is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise FormatError("is not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise FormatError('has no "features" list')
    yield from features


def write_geojson(records: Iterable[dict], stream: IO[str], *, public: bool = False) -> int:
    """Write assets as a FeatureCollection, one feature per line; returns the count."""
    stream.write('{"type": "FeatureCollection",\n')
    stream.write(f'"attribution": {json.dumps(ATTRIBUTION)},\n"features": [\n')
    count = 0
    for record in records:
        if count:
            stream.write(",\n")
        stream.write(json.dumps(to_feature(record, public=public), ensure_ascii=False))
        count += 1
    stream.write("\n]}\n")
    return count


# Cells a spreadsheet would run as a formula start with one of these; an exported cell that
# does is prefixed with an apostrophe, which spreadsheets show as text and reading strips.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TEXT_TYPES = {TEXT, MULTILINE}
_LIST_SEPARATOR = "; "


def _cell(field, value) -> str:
    if value is None:
        return ""
    if field.type in (CHOICES, TEXT_LIST):
        return _LIST_SEPARATOR.join(value)
    if field.type in (SCHEDULE, GEOMETRY):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    guarded = field.type in _TEXT_TYPES or field.name in ("phone", "contact_phone")
    if guarded and text.startswith((*_FORMULA_STARTS, "'")):
        text = "'" + text
    return text


def write_csv(records: Iterable[dict], stream: IO[str], *, public: bool = False) -> int:
    """Write assets as CSV with one column per field; returns the count."""
    fields = [f for f in FIELDS if not (public and f.professional)]
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([f.name for f in fields])
    count = 0
    for record in records:
        writer.writerow([_cell(f, record.get(f.name)) for f in fields])
        count += 1
    return count


def from_csv_row(row: dict[str, str]) -> dict:
    """The raw fields of a CSV row as written by `write_csv` (apostrophe guards removed)."""
    data = {}
    for name, value in row.items():
        if name is None:
            continue
        if isinstance(value, str) and value.startswith("'"):
            value = value[1:]
        data[name.strip()] = value
    return data
