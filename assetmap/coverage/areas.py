"""Boundary files read as areas: a code, a name and a shape for each, at one level.

A council's GIS team, the ONS Open Geography Portal and the Trafford Data Lab each publish the
same boundaries with different column names ("LSOA11CD", "lsoa21cd", "WD23CD", "area_code",
"code"), so the code and name columns are found from their headings unless named. The file is
opened by the import's own readers (`assetmap.imports.readers.open_table`): the same size
limits, the same zipped-shapefile handling, the same coordinate systems (a stated one is
converted, a missing one is guessed from the coordinates and said so).

The codes must be the level's ONS codes (E01/W01 for an LSOA, E02/W02 for an MSOA, E05/W05
for a ward), because need and population files are joined to the areas by code: a file of the
wrong level is refused with the level its codes belong to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from assetmap.imports.limits import ImportLimits

# The levels, their names in words (with their article), and the first three characters of
# their ONS codes.
LEVELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lsoa": ("an LSOA (lower layer super output area)", ("E01", "W01")),
    "msoa": ("an MSOA (middle layer super output area)", ("E02", "W02")),
    "ward": ("a ward", ("E05", "W05")),
}
_CODE = re.compile(r"^[EW]0[125]\d{6}$")
# Great Britain, with a margin, in longitude and latitude.
_GREAT_BRITAIN = (-9.0, 49.0, 2.5, 61.5)


class AreaFileError(ValueError):
    """A boundary, need or population file that cannot be used; the message says why and what
    to do, and is read after the file's name."""


@dataclass
class Area:
    code: str
    name: str
    geometry: dict  # GeoJSON in WGS84


@dataclass
class AreasFile:
    level: str
    areas: list[Area]
    description: str
    notes: list[str] = field(default_factory=list)


def level_of(code: str) -> str | None:
    """The level an ONS area code belongs to ("E01006074" is an LSOA), or None."""
    for level, (_, prefixes) in LEVELS.items():
        if code[:3] in prefixes and _CODE.match(code):
            return level
    return None


def _normal(heading: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(heading).lower())


def find_column(headers: list[str], named: str | None, patterns: list[str], what: str) -> int:
    """The index of the column named, or of the first heading matching one of `patterns`
    (regular expressions over the heading in lower case without spaces or punctuation)."""
    normals = [_normal(h) for h in headers]
    if named:
        for index, header in enumerate(headers):
            if header == named or normals[index] == _normal(named):
                return index
        raise AreaFileError(
            f"has no column “{named}”; its columns are {', '.join(headers)}. Name the {what} "
            "column as it is written in the file"
        )
    for pattern in patterns:
        for index, normal in enumerate(normals):
            if re.fullmatch(pattern, normal):
                return index
    raise AreaFileError(
        f"has no column we recognise as the {what}; its columns are {', '.join(headers)}. "
        f"Name it with --{what.split()[-1]}-column"
    )


def _code_patterns(level: str) -> list[str]:
    short = {"lsoa": "lsoa", "msoa": "msoa", "ward": "(wd|ward)"}[level]
    return [
        rf"{short}\d*cd",
        rf"{short}(code|\d+code|code\d+)",
        "areacode",
        "code",
        "geographycode",
        r".*code",
    ]


def _name_patterns(level: str) -> list[str]:
    short = {"lsoa": "lsoa", "msoa": "msoa", "ward": "(wd|ward)"}[level]
    return [rf"{short}\d*nm", rf"{short}(name|\d+name|name\d+)", "areaname", "name", r".*name"]


def read_areas(
    path: str | Path,
    level: str,
    *,
    code_column: str | None = None,
    name_column: str | None = None,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> AreasFile:
    """The areas of a GeoJSON, GeoPackage or zipped-shapefile boundary file at `level`."""
    from assetmap.imports.problems import ImportFileError
    from assetmap.imports.readers import open_table

    if level not in LEVELS:
        raise AreaFileError(f"cannot be read at the level “{level}”: use {', '.join(LEVELS)}")
    try:
        table = open_table(path, limits=limits)
    except ImportFileError as error:
        raise AreaFileError(str(error)) from None
    try:
        if not table.has_geometry:
            raise AreaFileError(
                "has no shapes: it is a table. Load the boundaries as GeoJSON, a GeoPackage or "
                "a zipped shapefile"
            )
        code_at = find_column(table.headers, code_column, _code_patterns(level), "area code")
        name_at = find_column(table.headers, name_column, _name_patterns(level), "area name")
        areas, seen = [], {}
        for row in table.rows:
            where = f"feature {row.number}"
            if row.problem:
                raise AreaFileError(f"{where} {row.problem}")
            code = str(row.cells[code_at] or "").strip().upper()
            if not code:
                raise AreaFileError(f"{where} has no area code in “{table.headers[code_at]}”")
            found = level_of(code)
            if found != level:
                raise AreaFileError(_wrong_code(code, found, level, where, table.headers[code_at]))
            if code in seen:
                raise AreaFileError(f"{where} has the code {code} again (first on {seen[code]})")
            seen[code] = where
            geometry = row.geometry
            if not geometry or geometry.get("type") not in ("Polygon", "MultiPolygon"):
                kind = (geometry or {}).get("type", "no shape")
                raise AreaFileError(
                    f"{where} ({code}) has {kind}, not an area: boundaries must be polygons"
                )
            _check_in_great_britain(geometry, where, code)
            name = str(row.cells[name_at] or "").strip() or code
            areas.append(Area(code, name, geometry))
    finally:
        table.close()
    if not areas:
        raise AreaFileError("has no areas in it")
    return AreasFile(level, areas, table.description, list(table.notes))


def _wrong_code(code: str, found: str | None, level: str, where: str, column: str) -> str:
    wanted = " or ".join(LEVELS[level][1])
    words = LEVELS[level][0]
    if found:
        return (
            f"{where} has {code} in “{column}”, which is {LEVELS[found][0]} code, not "
            f"{words} code ({wanted} and six digits). Load it with --level {found}, or name "
            "the right column with --code-column"
        )
    return (
        f"{where} has “{code}” in “{column}”, which is not {words} code ({wanted} and six "
        "digits). Name the column that holds the ONS codes with --code-column"
    )


def _check_in_great_britain(geometry: dict, where: str, code: str) -> None:
    from shapely.geometry import shape

    west, south, east, north = shape(geometry).bounds
    min_x, min_y, max_x, max_y = _GREAT_BRITAIN
    if west < min_x or east > max_x or south < min_y or north > max_y:
        raise AreaFileError(
            f"{where} ({code}) lies outside Great Britain once read (longitude {west:.2f} to "
            f"{east:.2f}, latitude {south:.2f} to {north:.2f}): the file's coordinate system "
            "is probably not the one it says or was guessed. Export it again in British "
            "National Grid (EPSG:27700) or WGS84, with its coordinate system (.prj) included"
        )
