"""Need and population by area code, from the files the government and the ONS publish.

Need is the English Indices of Deprivation 2019: the Index of Multiple Deprivation's rank (1
is the most deprived of England's 32,844 LSOAs) and decile (1 is the most deprived tenth).
Its layouts are all read:

- File 1 and File 7 (CSV, or the sheet "IMD2019" of the workbook): one row an LSOA, with
  headings such as "LSOA code (2011)", "Index of Multiple Deprivation (IMD) Rank" or
  "... Rank (where 1 is most deprived)", and the decile beside it; ranks may be written with
  thousands separators ("14,785").
- The long layout of the Open Data Communities download: FeatureCode, Measurement ("Rank",
  "Decile", "Score"), Value and "Indices of Deprivation", of which only the rows of
  "a. Index of Multiple Deprivation (IMD)" are read.

A file with ranks and no deciles gets its deciles from the ranks (tenths of 32,844).

Population is the ONS mid-year estimates: persons of all ages by area code, either ONS's own
sheets ("LSOA Code" ... "All Ages", one sheet for persons) or a tidy table with a gender
column (rows for "Persons", "Females", "Males", of which "Persons" is kept), as the Trafford
Data Lab republishes them. Any level's codes (LSOA, MSOA, ward, output area) are kept, so one
file gives the population of every level it holds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from assetmap.coverage.areas import AreaFileError, _normal
from assetmap.imports.limits import ImportLimits
from assetmap.imports.problems import ImportFileError
from assetmap.imports.readers import open_table

ENGLAND_LSOAS_2011 = 32_844
_AREA_CODE = re.compile(r"^[EWSNK]\d{8}$")
_IMD_ROW = "indexofmultipledeprivationimd"


@dataclass
class Figures:
    """Values read by area code, with what the reader noticed."""

    values: dict[str, tuple]
    description: str
    notes: list[str] = field(default_factory=list)


def _number(value, where: str, what: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    text = str(value if value is not None else "").strip().replace(",", "")
    try:
        number = float(text)
    except ValueError:
        raise AreaFileError(f"{where} has “{value}” as its {what}, which is not a number") from None
    if not math.isfinite(number):
        raise AreaFileError(f"{where} has “{value}” as its {what}, which is not a number")
    return number


def _open(path: Path, sheet: str | None, headings: set[str], limits: ImportLimits):
    from assetmap.imports.columns import normalise_header

    try:
        return open_table(
            path,
            sheet=sheet,
            headings=frozenset(normalise_header(h) for h in headings),
            limits=limits,
        )
    except ImportFileError as error:
        raise AreaFileError(str(error)) from None


def _column(headers: list[str], *tests) -> int | None:
    normals = [_normal(h) for h in headers]
    for test in tests:
        for index, normal in enumerate(normals):
            if test(normal):
                return index
    return None


def read_need(
    path: str | Path,
    *,
    sheet: str | None = None,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> Figures:
    """IMD 2019 rank and decile by LSOA code: {code: (rank, decile)}."""
    table = _open(
        Path(path),
        sheet,
        {
            "LSOA code (2011)",
            "Index of Multiple Deprivation (IMD) Rank",
            "Index of Multiple Deprivation (IMD) Decile",
            "FeatureCode",
            "Measurement",
            "Value",
            "Indices of Deprivation",
        },
        limits,
    )
    try:
        headers = table.headers
        long_code = _column(headers, lambda n: n == "featurecode")
        if long_code is not None:
            values = _read_long_need(table, long_code)
        else:
            values = _read_wide_need(table)
    finally:
        table.close()
    if not values:
        raise AreaFileError("has no LSOA's Index of Multiple Deprivation in it")
    return Figures(values, table.description, list(table.notes))


def _wide_columns(headers: list[str]) -> tuple[int, int, int | None]:
    code = _column(
        headers,
        lambda n: n.startswith("lsoacode"),
        lambda n: re.fullmatch(r"lsoa\d*cd", n) is not None,
        lambda n: n in ("areacode", "featurecode", "code"),
    )
    rank = _column(
        headers,
        lambda n: n.startswith("indexofmultipledeprivationimdrank"),
        lambda n: re.fullmatch(r"imd\d*rank", n) is not None,
    )
    decile = _column(
        headers,
        lambda n: n.startswith("indexofmultipledeprivationimddecile"),
        lambda n: re.fullmatch(r"imd\d*decile", n) is not None,
    )
    missing = [w for w, c in (("the LSOA code", code), ("the IMD rank", rank)) if c is None]
    if missing:
        raise AreaFileError(
            f"has no column for {' or '.join(missing)}; its columns are {', '.join(headers)}. "
            "Use the English Indices of Deprivation 2019 File 1 or File 7 (for a workbook, "
            "the sheet “IMD2019”: --sheet IMD2019)"
        )
    return code, rank, decile  # type: ignore[return-value]


def _cell(cells: list, index: int):
    return cells[index] if index < len(cells) else None


def _read_wide_need(table) -> dict[str, tuple]:
    code_at, rank_at, decile_at = _wide_columns(table.headers)
    values: dict[str, tuple] = {}
    for row in table.rows:
        where = f"row {row.number}"
        code = str(_cell(row.cells, code_at) or "").strip()
        if not code:
            continue
        rank = _rank(_cell(row.cells, rank_at), where)
        decile = None if decile_at is None else _decile(_cell(row.cells, decile_at), where)
        values[code] = (rank, decile or decile_from_rank(rank))
    return values


def _read_long_need(table, code_at: int) -> dict[str, tuple]:
    headers = table.headers
    measure_at = _column(headers, lambda n: n == "measurement")
    value_at = _column(headers, lambda n: n == "value")
    index_at = _column(headers, lambda n: n.startswith("indicesofdeprivation"))
    if measure_at is None or value_at is None or index_at is None:
        raise AreaFileError(
            "has a FeatureCode column but not Measurement, Value and Indices of Deprivation "
            "beside it, as the long layout of the IMD 2019 download has"
        )
    ranks: dict[str, int] = {}
    deciles: dict[str, int] = {}
    for row in table.rows:
        where = f"row {row.number}"
        cells = row.cells
        if _IMD_ROW not in _normal(cells[index_at] or ""):
            continue
        measure = _normal(cells[measure_at] or "")
        code = str(cells[code_at] or "").strip()
        if measure == "rank":
            ranks[code] = _rank(cells[value_at], where)
        elif measure == "decile":
            deciles[code] = _decile(cells[value_at], where)
    return {
        code: (rank, deciles.get(code) or decile_from_rank(rank)) for code, rank in ranks.items()
    }


def _rank(value, where: str) -> int:
    rank = _number(value, where, "IMD rank")
    if rank != int(rank) or not 1 <= rank <= ENGLAND_LSOAS_2011:
        raise AreaFileError(
            f"{where} has {value} as its IMD rank; ranks run from 1 (the most deprived) to "
            f"{ENGLAND_LSOAS_2011:,}"
        )
    return int(rank)


def _decile(value, where: str) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    decile = _number(value, where, "IMD decile")
    if decile != int(decile) or not 1 <= decile <= 10:
        raise AreaFileError(f"{where} has {value} as its IMD decile; deciles run from 1 to 10")
    return int(decile)


def decile_from_rank(rank: int) -> int:
    """The decile of an IMD 2019 rank, as the published deciles are cut (1 = most deprived)."""
    return min(10, math.ceil(rank * 10 / ENGLAND_LSOAS_2011))


def read_population(
    path: str | Path,
    *,
    sheet: str | None = None,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> Figures:
    """Persons of all ages by area code: {code: (persons,)}."""
    table = _open(
        Path(path),
        sheet,
        {"area_code", "all_ages", "gender", "LSOA Code", "All Ages", "Ward Code", "MSOA Code"},
        limits,
    )
    try:
        headers = table.headers
        code_at = _column(
            headers,
            lambda n: n in ("areacode", "code", "geographycode"),
            lambda n: re.fullmatch(r"(lsoa|msoa|ward|wd|oa)\d*(code|cd)\d*", n) is not None,
        )
        persons_at = _column(
            headers,
            lambda n: n in ("allages", "allpersons", "persons", "population", "obsvalue"),
        )
        sex_at = _column(headers, lambda n: n in ("gender", "sex"))
        if code_at is None or persons_at is None:
            raise AreaFileError(
                "has no column for the area code or for all ages; its columns are "
                f"{', '.join(headers)}. Use the ONS mid-year estimates (for a workbook, the "
                "persons sheet: --sheet “Mid-2020 Persons”)"
            )
        values: dict[str, tuple] = {}
        first: dict[str, int] = {}
        for row in table.rows:
            cells = row.cells
            where = f"row {row.number}"
            if sex_at is not None and _normal(cells[sex_at] or "") not in ("persons", "all"):
                continue
            code = str(cells[code_at] or "").strip()
            if not _AREA_CODE.match(code):
                continue  # notes and totals under the table
            persons = _number(cells[persons_at], where, "population")
            if code in first:
                raise AreaFileError(
                    f"{where} gives {code} a population again (first on row {first[code]}): "
                    "the file should have one row of persons for each area"
                )
            first[code] = row.number
            values[code] = (int(persons),)
    finally:
        table.close()
    if not values:
        raise AreaFileError("has no area's population in it")
    return Figures(values, table.description, list(table.notes))
